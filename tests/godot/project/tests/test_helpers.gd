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
	var arrays: Array = []
	arrays.resize(Mesh.ARRAY_MAX)
	arrays[Mesh.ARRAY_VERTEX] = PackedVector3Array([Vector3.ZERO, Vector3.RIGHT, Vector3.UP])
	var shape: Array = []
	shape.resize(Mesh.ARRAY_MAX)
	shape[Mesh.ARRAY_VERTEX] = PackedVector3Array([Vector3.ZERO, Vector3.RIGHT, Vector3.DOWN])
	var mesh := ArrayMesh.new()
	mesh.add_blend_shape("JawOpen")
	mesh.add_surface_from_arrays(Mesh.PRIMITIVE_TRIANGLES, arrays, [shape])
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
