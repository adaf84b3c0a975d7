## End-to-end: AtelicoCoreNode against a real sidecar on 127.0.0.1 (real Kokoro, Whisper, face).
extends AtelicoTestCase

var core: AtelicoCoreNode


func required_config() -> Array:
	return ["sidecar_url", "token"]


func before_all() -> bool:
	core = AtelicoCoreNode.new()
	core.sidecar_url = manifest["sidecar_url"]
	core.token = manifest["token"]
	root.add_child(core)
	if await wait_until(core.is_connected_to_sidecar, 20.0):
		return true
	setup_problem = "no connection to %s: %s" % [core.sidecar_url, core.get_client().last_error]
	return false


func after_all() -> void:
	core.queue_free()


## Records every signal of the core node for one job.
class Recorder:
	extends RefCounted
	var chunks: Array = []
	var speech: Array = []
	var completions: Array = []
	var failures: Array = []
	var chunk_after_end: bool = false

	func _init(node: AtelicoCoreNode) -> void:
		node.audio_synthesis_chunk.connect(
			func(job: int, json: String) -> void:
				chunk_after_end = chunk_after_end or not completions.is_empty()
				chunks.append([job, JSON.parse_string(json), Time.get_ticks_msec()])
		)
		node.speech_chunk.connect(func(job: int, c: Dictionary) -> void: speech.append([job, c]))
		node.audio_synthesis_completed.connect(
			func(job: int, ok: bool) -> void: completions.append([job, ok, Time.get_ticks_msec()])
		)
		node.speech_completed.connect(
			func(job: int, ok: bool) -> void: completions.append([job, ok, Time.get_ticks_msec()])
		)
		node.request_failed.connect(
			func(job: int, code: String, msg: String) -> void: failures.append([job, code, msg])
		)


## Streamed synthesis arrives as ordered chunk signals before the completion; every chunk's
## WAV decodes to its stated duration and the chunks add up to the whole utterance.
func test_streamed_synthesis_arrives_as_signals() -> void:
	var rec := Recorder.new(core)
	var job := (
		core
		. audio_synthesize_stream(
			(
				JSON
				. stringify(
					{
						"model": "in-memory::tts",
						"input": "The forge is hot today. Bring me two bars.",
						"voice": "af_heart",
					}
				)
			)
		)
	)
	var req := core.get_job(job)
	check(await wait_until(func() -> bool: return not rec.completions.is_empty(), 60.0), "done")
	check_eq(rec.completions.size(), 1, "one completion")
	check(rec.completions[0][1], "success")
	check(rec.chunks.size() >= 2, "several chunks (got %d)" % rec.chunks.size())
	check(not rec.chunk_after_end, "no chunk after the completion")
	var total_s := 0.0
	var texts := PackedStringArray()
	for i in rec.chunks.size():
		var chunk: Dictionary = rec.chunks[i][1]
		check_eq(rec.chunks[i][0], job, "job id")
		check_eq(int(chunk["sequence"]), i, "sequence %d" % i)
		# A chunk holding only the end of a long last word has no text of its own.
		if not str(chunk["text"]).is_empty():
			texts.append(str(chunk["text"]))
		var wav := Marshalls.base64_to_raw(chunk["audio"])
		var stream := AtelicoAudio.wav_to_stream(wav)
		check(stream != null, "chunk %d is a WAV" % i)
		if stream == null:
			continue
		check_eq(stream.mix_rate, 24000, "24 kHz")
		var samples: int = stream.data.size() / 2
		check_near(
			samples / 24000.0, float(chunk["duration_seconds"]), 0.002, "chunk %d length" % i
		)
		total_s += samples / 24000.0
	check(not str(rec.chunks[0][1]["text"]).is_empty(), "the first chunk has text")
	check_eq(
		" ".join(texts), "The forge is hot today. Bring me two bars.", "every word once, in order"
	)
	var done_s: float = req.result.data.get("duration_s", -1.0)
	check_near(total_s, done_s, 0.01, "sum of chunks = done.duration_s")
	check(total_s > 2.0, "plausible speech length %.2f s" % total_s)


## The awaited reference call returns {audio_b64, duration_seconds, format, sample_rate}.
func test_awaited_synthesis_returns_reference_json() -> void:
	var response: Dictionary = JSON.parse_string(
		await core.audio_synthesize(
			JSON.stringify({"input": "Hello from Atelico.", "voice": "af_heart"})
		)
	)
	check_eq(response.keys(), ["audio_b64", "duration_seconds", "format", "sample_rate"], "keys")
	check_eq(response.get("format"), "wav", "format")
	check_eq(int(response.get("sample_rate", 0)), 24000, "sample rate")
	var wav := Marshalls.base64_to_raw(response.get("audio_b64", ""))
	check_near(
		AtelicoAudio.wav_duration_s(wav), response.get("duration_seconds", 0.0), 0.002, "len"
	)
	check(response.get("duration_seconds", 0.0) > 0.5, "non-trivial audio")


## An unknown voice reaches request_failed with voice.unknown, then one failed completion;
## the awaited call returns the error JSON with the same code.
func test_unknown_voice_error_reaches_completion() -> void:
	var rec := Recorder.new(core)
	var job := core.audio_synthesize_stream(JSON.stringify({"input": "Hi.", "voice": "zz_nobody"}))
	check(await wait_until(func() -> bool: return not rec.completions.is_empty(), 20.0), "ended")
	check_eq(rec.completions.size(), 1, "one completion")
	check_eq(rec.completions[0], [job, false, rec.completions[0][2]], "failed completion")
	check_eq(rec.failures.size(), 1, "one failure")
	check_eq(rec.failures[0][1] if rec.failures.size() > 0 else "", "voice.unknown", "code")
	var response: Dictionary = JSON.parse_string(
		await core.audio_synthesize(JSON.stringify({"input": "Hi.", "voice": "zz_nobody"}))
	)
	check_eq(response.get("error", {}).get("code"), "voice.unknown", "awaited error code")


## Cancelling after the first chunk ends the stream with one failed completion (cancelled).
func test_cancel_mid_stream() -> void:
	var rec := Recorder.new(core)
	var text := "One sentence here. " + "This is a much longer sentence that goes on. ".repeat(8)
	var job := core.audio_synthesize_stream(JSON.stringify({"input": text}))
	var req := core.get_job(job)
	check(await wait_until(func() -> bool: return not rec.chunks.is_empty(), 30.0), "first chunk")
	core.cancel(job)
	check(await wait_until(func() -> bool: return not rec.completions.is_empty(), 30.0), "ended")
	check_eq(rec.completions.size(), 1, "one completion")
	check(not rec.completions[0][1], "not successful")
	check_eq(req.error_code(), "cancelled", "ended by cancelled")
	check(rec.chunks.size() < 9, "stopped early (%d chunks)" % rec.chunks.size())


## A reply written token by token is spoken before it ends; stop_speaking (a barge-in) then
## reports the words the player heard, emits speech_interrupted once and ends the job once.
func test_streamed_reply_then_barge_in_reports_the_words_heard() -> void:
	var rec := Recorder.new(core)
	var interrupted: Array = []
	var on_interrupted := func(j: int, heard: Dictionary) -> void: interrupted.append([j, heard])
	core.speech_interrupted.connect(on_interrupted)
	var job := core.speak({"input_stream": true, "voice": "af_heart", "face": false})
	for token in ["Stay", " close", " to", " the", " fire,", " trav", "eller.", " The"]:
		check(core.speak_write(job, token), "written %s" % token)
	var words: Array = []
	var two_words := func() -> bool:
		words.clear()
		for entry in rec.speech:
			words.append_array(entry[1]["words"])
		return words.size() >= 2
	check(await wait_until(two_words, 60.0), "the first words")
	check(rec.completions.is_empty(), "still open: the reply is not finished")
	var cut_s: float = (float(words[0]["end_s"]) + float(words[1]["start_s"])) / 2.0
	var heard: Dictionary = await core.stop_speaking(job, int(cut_s * 24000))
	core.speech_interrupted.disconnect(on_interrupted)
	check_eq(heard.get("text"), "Stay", "heard the first word only")
	check_eq(int(heard.get("played_samples", -1)), int(cut_s * 24000), "position")
	check_eq(interrupted.size(), 1, "one speech_interrupted")
	check(await wait_until(func() -> bool: return not rec.completions.is_empty(), 10.0), "ended")
	check_eq(rec.completions.size(), 1, "one completion")
	check(not rec.completions[0][1], "not successful: cancelled")
	check(not core.speak_write(job, " more"), "no text after the end")


## stop_speaking after the sidecar finished (the audio still playing here): the same rule,
## applied to the words received.
func test_stop_speaking_after_the_stream_completed() -> void:
	var rec := Recorder.new(core)
	var job := core.speak(
		{"input": "Look out! Wolves behind you.", "voice": "af_heart", "face": false}
	)
	check(await wait_until(func() -> bool: return not rec.completions.is_empty(), 60.0), "complete")
	var words: Array = []
	for entry in rec.speech:
		words.append_array(entry[1]["words"])
	check(words.size() >= 3, "words received")
	var cut := int((float(words[0]["end_s"]) + 0.01) * 24000)
	var heard: Dictionary = await core.stop_speaking(job, cut)
	check_eq(heard.get("words"), words.slice(0, 1), "the first word")
	check_eq(rec.completions.size(), 1, "no second completion")
	var far: Dictionary = AtelicoCoreNode.heard_of(words, 10 ** 9, 48000, 24000)
	check_near(float(far["played_s"]), 2.0, 1e-9, "clamped to what was sent")


## A real 3 s recording transcribes to its transcript through the awaited reference call.
func test_transcription_of_real_speech() -> void:
	var entry := _packed_speech()
	if not check(not entry.is_empty(), "a speech file is packed"):
		return
	var wav := FileAccess.get_file_as_bytes("res://speech/" + entry["file"])
	var response: Dictionary = JSON.parse_string(
		await core.audio_transcribe(
			JSON.stringify(
				{"model": "in-memory::whisper", "audio_b64": Marshalls.raw_to_base64(wav)}
			)
		)
	)
	check_eq(response.keys(), ["text", "language", "duration"], "keys")
	var expected := _words(entry["transcript"])
	var got := _words(response.get("text", ""))
	var hits := expected.filter(func(w: String) -> bool: return got.has(w)).size()
	check(hits >= expected.size() - 1, "words %s vs %s" % [got, expected])
	check_near(response.get("duration", 0.0), entry["seconds"], 0.1, "duration")


## speak streams PCM with ARKit-52 face frames that cover the audio.
func test_speak_streams_pcm_with_face_frames() -> void:
	var rec := Recorder.new(core)
	var job := core.speak({"input": "Welcome, traveller.", "character": "james"})
	check(await wait_until(func() -> bool: return not rec.completions.is_empty(), 60.0), "ended")
	check_eq(rec.completions.size(), 1, "one completion")
	check(rec.completions[0][1], "success %s" % [rec.failures])
	var audio_s := 0.0
	var frames := 0
	for item: Array in rec.speech:
		var chunk: Dictionary = item[1]
		check_eq(item[0], job, "job")
		audio_s += chunk["pcm"].size() / 2.0 / chunk["sample_rate_hz"]
		check(chunk.has("face_weights"), "face present")
		var weights: PackedFloat32Array = chunk.get("face_weights", PackedFloat32Array())
		check_eq(weights.size(), chunk.get("face_frame_count", -1) * 52, "weights shape")
		frames += chunk.get("face_frame_count", 0)
	check(audio_s > 0.5, "audio")
	check_near(frames / 30.0, audio_s, 0.2, "face frames cover the audio")


## audio_to_face returns 52 weights in [0, 1] per 1/30 s of the input.
func test_audio_to_face_on_real_speech() -> void:
	var wav := FileAccess.get_file_as_bytes("res://speech/" + _packed_speech().get("file", ""))
	var info := AtelicoAudio.parse_wav(wav)
	var frames: Array[PackedFloat32Array] = await core.audio_to_face(
		info.get("pcm", PackedByteArray()), "claire", info.get("sample_rate_hz", 16000)
	)
	var seconds: float = AtelicoAudio.wav_duration_s(wav)
	check_near(frames.size(), seconds * 30.0, 3.0, "frame count")
	var in_range := true
	var moved := false
	for frame in frames:
		in_range = in_range and frame.size() == 52
		for w in frame:
			in_range = in_range and w >= 0.0 and w <= 1.0
			moved = moved or w > 0.05
	check(in_range, "52 weights in [0, 1] per frame")
	check(moved, "the face moves")


## Live transcription of PCM frames yields a final with the transcript, then completes.
func test_live_transcription_of_pcm_frames() -> void:
	var entry := _packed_speech()
	var info := AtelicoAudio.parse_wav(
		FileAccess.get_file_as_bytes("res://speech/" + entry["file"])
	)
	var finals: Array = []
	var completions: Array = []
	var on_final := func(_j: int, _s: int, text: String) -> void: finals.append(text)
	var on_done := func(j: int, ok: bool) -> void: completions.append([j, ok])
	var warnings: Array = []
	var on_warning := func(_j: int, code: String, _m: String, s: float) -> void:
		warnings.append([code, s])
	core.transcription_warning.connect(on_warning)
	core.transcription_final.connect(on_final)
	core.transcription_completed.connect(on_done)
	var job := core.start_live_transcription({"sample_rate_hz": info["sample_rate_hz"]})
	check(await wait_until(func() -> bool: return core.get_job(job).sent, 10.0), "started")
	var pcm: PackedByteArray = info["pcm"]
	var step := 3200
	# Real-time pace, like a microphone (0.1 s of audio every 0.1 s).
	for start in range(0, pcm.size(), step):
		core.push_live_audio(job, pcm.slice(start, start + step))
		await root.get_tree().create_timer(0.1).timeout
	var silence := PackedByteArray()
	silence.resize(16000)
	core.push_live_audio(job, silence)
	core.stop_live_transcription(job)
	check(await wait_until(func() -> bool: return not completions.is_empty(), 60.0), "completed")
	core.transcription_final.disconnect(on_final)
	core.transcription_completed.disconnect(on_done)
	core.transcription_warning.disconnect(on_warning)
	check_eq(completions, [[job, true]], "one successful completion")
	var got := _words(" ".join(finals))
	var expected := _words(entry["transcript"])
	var hits := expected.filter(func(w: String) -> bool: return got.has(w)).size()
	var strays := got.filter(func(w: String) -> bool: return not expected.has(w)).size()
	# On a loaded machine the server may fall behind and drop audio (it says so with
	# stt.warning); then only part of the sentence can come back.
	var needed := 3 if not warnings.is_empty() else expected.size() - 2
	check(hits >= needed, "finals %s vs %s (warnings %s)" % [finals, expected, warnings])
	check(strays <= 1, "no invented words: %s" % [finals])


## A wrong token ends requests with auth.invalid_token instead of retrying forever.
func test_wrong_token_fails_with_auth_code() -> void:
	var client := AtelicoClient.new(manifest["sidecar_url"], "wrong-token")
	var req := client.request("models.list")
	var ended := await wait_until(
		func() -> bool:
			client.poll()
			return req.done,
		15.0
	)
	client.close()
	check(ended, "ended")
	check_eq(req.error_code(), "auth.invalid_token", "code")


## speak played as a game does: chunks into AtelicoStreamPlayer and AtelicoFaceDriver, the
## completion into finish_stream. Every PCM frame reaches the engine, stream_finished comes
## after the engine mixed them all, and the face moved while the voice played.
func test_speak_plays_through_the_stream_player_and_face() -> void:
	var player := AtelicoStreamPlayer.new()
	root.add_child(player)
	var driver := AtelicoFaceDriver.new()
	driver.player = player
	var instance := MeshInstance3D.new()
	instance.mesh = blend_shape_mesh("jawOpen")
	driver.mesh = instance
	root.add_child(instance)
	root.add_child(driver)
	var frames := [0]
	var count_frames := func(_j: int, c: Dictionary) -> void: frames[0] += c["pcm"].size() / 2
	core.speech_chunk.connect(count_frames)
	core.speech_chunk.connect(player.queue_chunk)
	core.speech_chunk.connect(driver.queue_chunk)
	core.speech_completed.connect(player.finish_stream)
	var finished := [false]
	player.stream_finished.connect(func() -> void: finished[0] = true)
	var peak := [0.0]
	var watch := func() -> void: peak[0] = maxf(peak[0], instance.get_blend_shape_value(0))
	root.get_tree().process_frame.connect(watch)
	player.begin_stream()
	core.speak({"input": "Welcome, traveller.", "character": "james"})
	check(await wait_until(func() -> bool: return finished[0], 60.0), "stream_finished")
	root.get_tree().process_frame.disconnect(watch)
	core.speech_chunk.disconnect(count_frames)
	core.speech_chunk.disconnect(player.queue_chunk)
	core.speech_chunk.disconnect(driver.queue_chunk)
	core.speech_completed.disconnect(player.finish_stream)
	var seconds: float = frames[0] / float(player.sample_rate_hz)
	check(seconds > 0.5, "speech (%.2f s)" % seconds)
	check(player.get_playback_position() >= seconds - 0.01, "the engine mixed every frame")
	check_near(player.get_position_s(), seconds, 1e-6, "clock at the end")
	check(peak[0] > 0.05, "the jaw moved (peak %.3f)" % peak[0])
	player.queue_free()
	driver.queue_free()
	instance.queue_free()


## The microphone path against the real sidecar: Chromium's fake capture device through
## AudioStreamMicrophone/AudioEffectCapture, streamed live; stop() completes it successfully.
func test_microphone_live_transcription_completes() -> void:
	var mic := AtelicoMicrophone.new()
	mic.core = core
	mic.language = "en"
	root.add_child(mic)
	var completions: Array = []
	var on_done := func(j: int, ok: bool) -> void: completions.append([j, ok])
	core.transcription_completed.connect(on_done)
	var job := mic.start()
	var req := core.get_job(job)
	check(job != 0 and req != null, "started")
	check_eq(req.data.get("language") if req != null else null, "en", "language hint")
	check(await wait_until(func() -> bool: return req.sent, 10.0), "sent")
	await root.get_tree().create_timer(1.0).timeout
	mic.stop()
	check(await wait_until(func() -> bool: return not completions.is_empty(), 30.0), "completed")
	core.transcription_completed.disconnect(on_done)
	check_eq(completions, [[job, true]], "one successful completion %s" % req.error_message())
	mic.queue_free()


## A transcription the server rejects (not audio) returns its error JSON.
func test_transcription_error_is_returned_as_json() -> void:
	var response: Dictionary = JSON.parse_string(
		await core.audio_transcribe(
			JSON.stringify({"audio_b64": Marshalls.raw_to_base64("not a wav".to_utf8_buffer())})
		)
	)
	check(not str(response.get("error", {}).get("code", "")).is_empty(), "error %s" % response)


## The manifest entry of the speech recording packed into the test pack.
func _packed_speech() -> Dictionary:
	for item: Dictionary in manifest.get("speech", []):
		if FileAccess.file_exists("res://speech/" + item["file"]):
			return item
	return {}


static func _words(text: String) -> Array:
	var out: Array = []
	var clean := ""
	for ch in text.to_lower():
		clean += ch if (ch >= "a" and ch <= "z") or ch == " " or ch == "'" else " "
	for w in clean.split(" ", false):
		out.append(w)
	return out
