## AtelicoCoreNode's own logic against the scripted server: input validation, the async
## variant, live-transcription bookkeeping. (Real models: test_sidecar.gd.)
extends AtelicoTestCase

var core: AtelicoCoreNode


func required_config() -> Array:
	return ["fake_url"]


func before_all() -> bool:
	core = AtelicoCoreNode.new()
	core.sidecar_url = manifest["fake_url"]
	root.add_child(core)
	setup_problem = "no connection to the scripted server"
	return await wait_until(core.is_connected_to_sidecar, 10.0)


func after_all() -> void:
	core.queue_free()


## Malformed request JSON never reaches the server: the awaited calls return the error JSON,
## the streamed call fails on a later frame with request_failed then one completion.
func test_invalid_request_json() -> void:
	var bad: Dictionary = JSON.parse_string(await core.audio_synthesize("not json"))
	check_eq(bad.get("error", {}).get("code"), "request.invalid", "synthesize")
	bad = JSON.parse_string(await core.audio_transcribe("[1]"))
	check_eq(bad.get("error", {}).get("code"), "request.invalid", "transcribe")
	bad = JSON.parse_string(await core.audio_transcribe("{}"))
	check_eq(bad.get("error", {}).get("code"), "request.missing_input", "transcribe without audio")
	var events: Array = []
	var on_failed := func(j: int, code: String, _m: String) -> void: events.append([j, code])
	var on_done := func(j: int, ok: bool) -> void: events.append([j, ok])
	core.request_failed.connect(on_failed)
	core.audio_synthesis_completed.connect(on_done)
	var job := core.audio_synthesize_stream("{")
	check_eq(events, [], "nothing synchronous")
	check(await wait_until(func() -> bool: return events.size() >= 2, 5.0), "ended")
	core.request_failed.disconnect(on_failed)
	core.audio_synthesis_completed.disconnect(on_done)
	check_eq(events, [[job, "request.invalid"], [job, false]], "failed, then one completion")


## audio_synthesize_async answers on audio_synthesis_result with the awaited call's JSON.
func test_async_synthesis_result() -> void:
	var results: Array = []
	var on_result := func(j: int, json: String) -> void: results.append([j, json])
	core.audio_synthesis_result.connect(on_result)
	var job := core.audio_synthesize_async(JSON.stringify({"input": "hi", "voice": "x"}))
	check(await wait_until(func() -> bool: return not results.is_empty(), 5.0), "answered")
	core.audio_synthesis_result.disconnect(on_result)
	check_eq(results.size(), 1, "one result")
	if results.size() == 1:
		check_eq(results[0][0], job, "job id")
		var response: Dictionary = JSON.parse_string(results[0][1])
		check_eq(response.get("format"), "wav", "reference shape")


## The options a caller gives are forwarded (language, prompt) and the reply reshaped.
func test_transcribe_forwards_options() -> void:
	var wav := AtelicoAudio.pcm_s16le_to_wav(PackedByteArray([0, 0]), 16000)
	var request := {
		"audio_b64": Marshalls.raw_to_base64(wav), "language": "en", "prompt": "p", "model": "m"
	}
	var response: Dictionary = JSON.parse_string(
		await core.audio_transcribe(JSON.stringify(request))
	)
	check_eq(response.keys(), ["text", "language", "duration"], "reference keys")


## Live transcription bookkeeping: options forwarded, empty audio accepted, unknown jobs
## refused, frames sent once the request is, and stop() completes the job.
func test_live_transcription_bookkeeping() -> void:
	var ended: Array = []
	var on_done := func(j: int, ok: bool) -> void: ended.append([j, ok])
	core.transcription_completed.connect(on_done)
	var job := core.start_live_transcription(
		{"language": "en", "vad": true, "sample_rate_hz": 8000}
	)
	var req := core.get_job(job)
	check_eq(req.data.get("language"), "en", "language forwarded")
	check_eq(req.data.get("vad"), true, "vad forwarded")
	check_eq(req.data.get("sample_rate_hz"), 8000, "rate")
	check(core.push_live_audio(job, PackedByteArray()), "empty audio is fine")
	check(not core.push_live_audio(987654, PackedByteArray([1, 0])), "unknown job")
	check(await wait_until(func() -> bool: return req.sent, 5.0), "sent")
	check(core.push_live_audio(job, PackedVector2Array([Vector2(0.5, 0.5)])), "frames sent")
	core.stop_live_transcription(job)
	check(await wait_until(func() -> bool: return not ended.is_empty(), 5.0), "completed")
	core.transcription_completed.disconnect(on_done)
	check_eq(ended, [[job, true]], "completed")
	check_eq(req.result.data.get("audio_bytes"), 2, "one frame as s16le reached the server")
	check(core.get_job(job) == null, "job forgotten")


## Before the handshake a live job is only queued: audio is refused (the caller keeps it),
## and stopping it cancels it.
func test_live_transcription_before_the_handshake() -> void:
	var slow := AtelicoCoreNode.new()
	slow.sidecar_url = manifest["fake_url"]
	slow.token = "slow-welcome"
	root.add_child(slow)
	var ended: Array = []
	slow.transcription_completed.connect(func(j: int, ok: bool) -> void: ended.append([j, ok]))
	var job := slow.start_live_transcription()
	var req := slow.get_job(job)
	check(not req.sent, "queued")
	check(not slow.push_live_audio(job, PackedByteArray([1, 0])), "refused before sent")
	slow.stop_live_transcription(job)
	check(await wait_until(func() -> bool: return not ended.is_empty(), 5.0), "ended")
	check_eq(ended, [[job, false]], "stopped before sent = cancelled")
	check_eq(req.error_code(), "cancelled", "code")
	slow.queue_free()


## cancel() of an unknown job does nothing; of a queued one ends it cancelled.
func test_cancel_jobs() -> void:
	core.cancel(424242)
	var failures: Array = []
	var on_failed := func(j: int, code: String, _m: String) -> void: failures.append([j, code])
	core.request_failed.connect(on_failed)
	var job := core.speak({"input": "silent", "face": false, "character": "james"})
	check_eq(core.get_job(job).type, "tts.synthesize", "without face: streamed tts")
	check(not core.get_job(job).data.has("character"), "no character without face")
	core.cancel(job)
	check(await wait_until(func() -> bool: return not failures.is_empty(), 5.0), "ended")
	core.request_failed.disconnect(on_failed)
	check_eq(failures, [[job, "cancelled"]], "cancelled")


## audio_to_face that the server rejects: request_failed with its code, an empty result.
func test_audio_to_face_failure() -> void:
	var failures: Array = []
	var on_failed := func(j: int, code: String, _m: String) -> void: failures.append(code)
	core.request_failed.connect(on_failed)
	var frames := await core.audio_to_face(PackedByteArray([0, 0]), "nobody")
	core.request_failed.disconnect(on_failed)
	check_eq(frames.size(), 0, "no frames")
	check_eq(failures, ["character.unknown"], "request_failed with the server's code")
