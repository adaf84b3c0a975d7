## Audio helpers: WAV/PCM bytes to [AudioStreamWAV], capture frames to PCM, WAV writing.
class_name AtelicoAudio
extends RefCounted


## Parses a RIFF/WAVE file (PCM 8/16/24/32-bit or IEEE float 32-bit). Returns
## [code]{"sample_rate_hz", "channels", "bits", "format_tag", "pcm"}[/code] ([code]pcm[/code] =
## the data chunk as stored), or an empty dictionary when it is not a WAV it understands.
static func parse_wav(wav: PackedByteArray) -> Dictionary:
	if wav.size() < 12 or wav.slice(0, 4).get_string_from_ascii() != "RIFF":
		return {}
	if wav.slice(8, 12).get_string_from_ascii() != "WAVE":
		return {}
	var info: Dictionary = {}
	var pos := 12
	while pos + 8 <= wav.size():
		var chunk_id := wav.slice(pos, pos + 4).get_string_from_ascii()
		var size := wav.decode_u32(pos + 4)
		var body := pos + 8
		if chunk_id == "fmt " and body + 16 <= wav.size():
			info["format_tag"] = wav.decode_u16(body)
			info["channels"] = wav.decode_u16(body + 2)
			info["sample_rate_hz"] = wav.decode_u32(body + 4)
			info["bits"] = wav.decode_u16(body + 14)
			if info["format_tag"] == 0xFFFE and size >= 26:
				info["format_tag"] = wav.decode_u16(body + 24)
		elif chunk_id == "data":
			var end := mini(body + size, wav.size())
			if size == 0xFFFFFFFF or size == 0:
				end = wav.size()
			info["pcm"] = wav.slice(body, end)
			break
		pos = body + size + (size & 1)
	if not info.has("pcm") or not info.has("sample_rate_hz"):
		return {}
	return info


## WAV file bytes → a playable [AudioStreamWAV] (16-bit; other depths are converted).
## Returns null for data that is not a WAV.
static func wav_to_stream(wav: PackedByteArray) -> AudioStreamWAV:
	var info := parse_wav(wav)
	if info.is_empty():
		return null
	var pcm16 := to_s16le(info["pcm"], int(info["bits"]), int(info["format_tag"]))
	if pcm16.is_empty() and not info["pcm"].is_empty():
		return null
	return pcm_s16le_to_stream(pcm16, int(info["sample_rate_hz"]), int(info["channels"]))


## Raw 16-bit little-endian PCM → [AudioStreamWAV].
static func pcm_s16le_to_stream(
	pcm: PackedByteArray, sample_rate_hz: int, channels: int = 1
) -> AudioStreamWAV:
	var stream := AudioStreamWAV.new()
	stream.format = AudioStreamWAV.FORMAT_16_BITS
	stream.mix_rate = sample_rate_hz
	stream.stereo = channels == 2
	stream.data = pcm
	return stream


## Samples converted to 16-bit PCM bytes from 8/16/24/32-bit int or 32-bit float
## ([param format_tag] 3). Empty for unsupported formats.
static func to_s16le(pcm: PackedByteArray, bits: int, format_tag: int = 1) -> PackedByteArray:
	if format_tag == 1 and bits == 16:
		return pcm
	if format_tag == 3 and bits == 32:
		return floats_to_s16le(pcm.to_float32_array())
	var out := PackedByteArray()
	var step := bits / 8
	if format_tag != 1 or bits % 8 != 0 or step < 1 or step > 4:
		return out
	var count := pcm.size() / step
	out.resize(count * 2)
	for i in count:
		var v: int
		if step == 1:
			v = (pcm[i] - 128) << 8
		else:
			v = pcm.decode_s16(i * step + step - 2)
		out.encode_s16(i * 2, v)
	return out


## Float samples in [-1, 1] → 16-bit PCM bytes (clipped).
static func floats_to_s16le(samples: PackedFloat32Array) -> PackedByteArray:
	var out := PackedByteArray()
	out.resize(samples.size() * 2)
	for i in samples.size():
		out.encode_s16(i * 2, int(clampf(samples[i], -1.0, 1.0) * 32767.0))
	return out


## 16-bit PCM bytes → float samples in [-1, 1].
static func s16le_to_floats(pcm: PackedByteArray) -> PackedFloat32Array:
	var out := PackedFloat32Array()
	var count := pcm.size() / 2
	out.resize(count)
	for i in count:
		out[i] = pcm.decode_s16(i * 2) / 32768.0
	return out


## Mono 16-bit PCM → stereo frames for [AudioStreamGeneratorPlayback.push_buffer].
static func s16le_to_frames(pcm: PackedByteArray) -> PackedVector2Array:
	var out := PackedVector2Array()
	var count := pcm.size() / 2
	out.resize(count)
	for i in count:
		var v := pcm.decode_s16(i * 2) / 32768.0
		out[i] = Vector2(v, v)
	return out


## Captured stereo frames (e.g. [AudioEffectCapture.get_buffer]) → mono 16-bit PCM bytes.
static func frames_to_pcm_s16le(frames: PackedVector2Array) -> PackedByteArray:
	var out := PackedByteArray()
	out.resize(frames.size() * 2)
	for i in frames.size():
		var v := clampf((frames[i].x + frames[i].y) * 0.5, -1.0, 1.0)
		out.encode_s16(i * 2, int(v * 32767.0))
	return out


## Wraps 16-bit PCM in a WAV file (for [method AtelicoCoreNode.audio_transcribe]).
static func pcm_s16le_to_wav(
	pcm: PackedByteArray, sample_rate_hz: int, channels: int = 1
) -> PackedByteArray:
	var header := PackedByteArray()
	header.resize(44)
	header.encode_u32(0, 0x46464952)  # "RIFF"
	header.encode_u32(4, 36 + pcm.size())
	header.encode_u32(8, 0x45564157)  # "WAVE"
	header.encode_u32(12, 0x20746D66)  # "fmt "
	header.encode_u32(16, 16)
	header.encode_u16(20, 1)
	header.encode_u16(22, channels)
	header.encode_u32(24, sample_rate_hz)
	header.encode_u32(28, sample_rate_hz * channels * 2)
	header.encode_u16(32, channels * 2)
	header.encode_u16(34, 16)
	header.encode_u32(36, 0x61746164)  # "data"
	header.encode_u32(40, pcm.size())
	header.append_array(pcm)
	return header


## Duration in seconds of a WAV file (0.0 when it is not a WAV).
static func wav_duration_s(wav: PackedByteArray) -> float:
	var info := parse_wav(wav)
	if info.is_empty():
		return 0.0
	var frame_bytes: int = int(info["channels"]) * int(info["bits"]) / 8
	if frame_bytes <= 0:
		return 0.0
	return float(info["pcm"].size() / frame_bytes) / float(info["sample_rate_hz"])
