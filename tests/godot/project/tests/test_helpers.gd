## WAV/PCM helpers and the face driver (timeline and blend shapes).
extends AtelicoTestCase


## PCM wrapped in a WAV parses back to the same samples, rate and duration.
func test_wav_round_trip() -> void:
	var pcm := PackedByteArray()
	pcm.resize(2 * 2400)
	for i in 2400:
		pcm.encode_s16(i * 2, int(sin(i * 0.05) * 12000.0))
	var wav := AtelicoAudio.pcm_s16le_to_wav(pcm, 24000)
	check_eq(wav.size(), 44 + pcm.size(), "header size")
	var info := AtelicoAudio.parse_wav(wav)
	check_eq(info.get("sample_rate_hz"), 24000, "rate")
	check_eq(info.get("pcm"), pcm, "samples")
	check_near(AtelicoAudio.wav_duration_s(wav), 0.1, 1e-9, "duration")
	var stream := AtelicoAudio.wav_to_stream(wav)
	check(stream != null and stream.mix_rate == 24000 and stream.data == pcm, "AudioStreamWAV")
	check(AtelicoAudio.wav_to_stream(pcm) == null, "raw PCM is not a WAV")


## Float WAVs and capture frames convert to 16-bit PCM with clipping.
func test_float_and_frame_conversion() -> void:
	var floats := PackedFloat32Array([0.0, 0.5, -0.5, 2.0, -2.0])
	var pcm := AtelicoAudio.floats_to_s16le(floats)
	check_eq(pcm.size(), 10, "two bytes per sample")
	check_eq(pcm.decode_s16(2), 16383, "0.5")
	check_eq(pcm.decode_s16(6), 32767, "clipped high")
	check_eq(pcm.decode_s16(8), -32767, "clipped low")
	var mono := AtelicoAudio.frames_to_pcm_s16le(
		PackedVector2Array([Vector2(0.5, 0.5), Vector2(1.0, -1.0)])
	)
	check_eq([mono.decode_s16(0), mono.decode_s16(2)], [16383, 0], "stereo downmix")
	var back := AtelicoAudio.s16le_to_frames(pcm)
	check_near(back[1].x, 0.5, 1e-3, "frames from PCM")


## The face timeline interpolates between frames at 30 fps and accepts chunks out of order.
func test_face_driver_timeline() -> void:
	var driver := AtelicoFaceDriver.new()
	var second := PackedFloat32Array()
	second.resize(52)
	second[17] = 1.0  # jawOpen
	var first := PackedFloat32Array()
	first.resize(52)
	driver.add_frames(1, second)
	driver.add_frames(0, first)
	check_eq(AtelicoFaceDriver.ARKIT_NAMES.size(), 52, "52 names")
	check_eq(AtelicoFaceDriver.ARKIT_NAMES[17], "jawOpen", "jawOpen index")
	check_near(driver.sample(0.0)[17], 0.0, 1e-6, "frame 0")
	check_near(driver.sample(0.5 / 30.0)[17], 0.5, 1e-6, "halfway")
	check_near(driver.sample(10.0)[17], 1.0, 1e-6, "clamped to the last frame")
	driver.free()


## A driven mesh gets the weights on its matching blend shapes.
func test_face_driver_sets_blend_shapes() -> void:
	var mesh := blend_shape_mesh("JawOpen")
	var instance := MeshInstance3D.new()
	instance.mesh = mesh
	root.add_child(instance)
	var driver := AtelicoFaceDriver.new()
	driver.mesh = instance
	root.add_child(driver)
	var frame := PackedFloat32Array()
	frame.resize(52)
	frame[17] = 0.75
	driver.add_frames(0, frame)
	await root.get_tree().process_frame
	await root.get_tree().process_frame
	check_eq(instance.get_blend_shape_count(), 1, "mesh has the blend shape")
	check_near(instance.get_blend_shape_value(0), 0.75, 1e-6, "jawOpen applied (case-insensitive)")
	driver.queue_free()
	instance.queue_free()


## A WAV header with one fmt chunk ([param tag], [param bits]) and [param data].
static func _wav(
	tag: int, bits: int, data: PackedByteArray, extensible: bool = false
) -> PackedByteArray:
	var fmt := PackedByteArray()
	fmt.resize(40 if extensible else 16)
	fmt.encode_u16(0, 0xFFFE if extensible else tag)
	fmt.encode_u16(2, 1)
	fmt.encode_u32(4, 16000)
	fmt.encode_u32(8, 16000 * bits / 8)
	fmt.encode_u16(12, bits / 8)
	fmt.encode_u16(14, bits)
	if extensible:
		fmt.encode_u16(16, 22)
		fmt.encode_u16(24, tag)  # the sub-format GUID starts with the format tag
	var out := PackedByteArray()
	out.resize(12)
	out.encode_u32(0, 0x46464952)
	out.encode_u32(8, 0x45564157)
	# An odd-sized chunk before fmt (padded to even), as some writers add.
	var odd := PackedByteArray([0x4C, 0x49, 0x53, 0x54, 3, 0, 0, 0, 1, 2, 3, 0])
	out.append_array(odd)
	var header := PackedByteArray([0x66, 0x6D, 0x74, 0x20, 0, 0, 0, 0])
	header.encode_u32(4, fmt.size())
	out.append_array(header)
	out.append_array(fmt)
	var data_header := PackedByteArray([0x64, 0x61, 0x74, 0x61, 0, 0, 0, 0])
	data_header.encode_u32(4, data.size())
	out.append_array(data_header)
	out.append_array(data)
	out.encode_u32(4, out.size() - 8)
	return out


## 8-, 24- and 32-bit integer, float and WAVE_FORMAT_EXTENSIBLE files all convert to the same
## 16-bit samples; odd-sized chunks are skipped with their pad byte.
func test_wav_sample_formats_convert_to_16_bit() -> void:
	var expected := [0, 16384, -16384]
	var cases := {
		"8-bit": [1, 8, PackedByteArray([128, 192, 64])],
		"24-bit": [1, 24, PackedByteArray([0, 0, 0, 0, 0, 0x40, 0, 0, 0xC0])],
		"32-bit": [1, 32, PackedByteArray([0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0xC0])],
		"float": [3, 32, PackedFloat32Array([0.0, 0.5, -0.5]).to_byte_array()],
	}
	for label: String in cases:
		var spec: Array = cases[label]
		for extensible in [false, true]:
			var stream := AtelicoAudio.wav_to_stream(_wav(spec[0], spec[1], spec[2], extensible))
			var what := "%s%s" % [label, " (extensible)" if extensible else ""]
			if not check(stream != null, what + " parses"):
				continue
			var got := [
				stream.data.decode_s16(0), stream.data.decode_s16(2), stream.data.decode_s16(4)
			]
			var near := true
			for i in 3:
				near = near and absi(got[i] - expected[i]) <= 1
			check(near, "%s samples %s" % [what, got])
			check_eq(stream.mix_rate, 16000, what + " rate")
	check_near(
		AtelicoAudio.wav_duration_s(_wav(1, 24, PackedByteArray([0, 0, 0]))),
		1.0 / 16000.0,
		1e-9,
		"24-bit duration"
	)


## What is not a WAV (or not one it can convert) gives null / {} / 0 instead of garbage.
func test_invalid_wavs_are_rejected() -> void:
	var riff_not_wave := _wav(1, 16, PackedByteArray([0, 0]))
	riff_not_wave.encode_u32(8, 0x20495641)  # "AVI "
	check_eq(AtelicoAudio.parse_wav(riff_not_wave), {}, "RIFF but not WAVE")
	check_eq(AtelicoAudio.parse_wav(PackedByteArray([1, 2, 3])), {}, "too short")
	var no_data := _wav(1, 16, PackedByteArray())
	no_data.resize(no_data.size() - 8)  # drop the data chunk header
	check_eq(AtelicoAudio.parse_wav(no_data), {}, "no data chunk")
	check(AtelicoAudio.wav_to_stream(_wav(1, 12, PackedByteArray([1, 2]))) == null, "12-bit")
	check(AtelicoAudio.wav_to_stream(_wav(2, 16, PackedByteArray([1, 2]))) == null, "ADPCM")
	check_eq(AtelicoAudio.wav_duration_s(PackedByteArray()), 0.0, "duration of nothing")
	check_eq(AtelicoAudio.wav_duration_s(_wav(1, 0, PackedByteArray([1]))), 0.0, "0-bit frames")


## A streamed WAV whose data size is unknown (0 or 0xFFFFFFFF) runs to the end of the file.
func test_streamed_wav_with_unknown_data_size() -> void:
	var pcm := PackedByteArray([1, 0, 2, 0, 3, 0])
	for unknown in [0, 0xFFFFFFFF]:
		var wav := AtelicoAudio.pcm_s16le_to_wav(pcm, 24000)
		wav.encode_u32(40, unknown)
		check_eq(AtelicoAudio.parse_wav(wav).get("pcm"), pcm, "size %x" % unknown)
	var floats := AtelicoAudio.s16le_to_floats(PackedByteArray([0, 0x40, 0, 0xC0]))
	check_eq(floats, PackedFloat32Array([0.5, -0.5]), "s16le to floats")
