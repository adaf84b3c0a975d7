## AtelicoMicrophone on the real capture path: AudioStreamMicrophone → AudioEffectCapture on
## the web runtime's audio driver, fed by Chromium's fake capture device (a beeping tone at
## the mix rate), against the scripted server that counts the live audio bytes it receives.
## What only a real editor/device can confirm: OS microphone permission prompts and real
## input devices (on the desktop drivers the same AudioEffectCapture is used).
extends AtelicoTestCase

var _core: AtelicoCoreNode = null
var _mic: AtelicoMicrophone = null


func required_config() -> Array:
	return ["fake_url"]


func after_each() -> void:
	if _mic != null:
		_mic.stop()
		_mic.queue_free()
		_mic = null
	if _core != null:
		_core.queue_free()
		_core = null
	await root.get_tree().process_frame


func _setup(launch_token: String) -> AtelicoMicrophone:
	_core = AtelicoCoreNode.new()
	_core.sidecar_url = manifest["fake_url"]
	_core.token = launch_token
	root.add_child(_core)
	_mic = AtelicoMicrophone.new()
	_mic.core = _core
	root.add_child(_mic)
	return _mic


func _capture() -> AudioEffectCapture:
	var idx := AudioServer.get_bus_index(_mic.bus_name)
	for i in AudioServer.get_bus_effect_count(idx):
		if AudioServer.get_bus_effect(idx, i) is AudioEffectCapture:
			return AudioServer.get_bus_effect(idx, i)
	return null


## Captured audio is kept while the request waits for the (slow) handshake and sent once it
## is accepted: the server receives every frame the capture took, none dropped.
func test_audio_captured_before_the_request_is_sent_reaches_the_server() -> void:
	var mic := _setup("slow-welcome")
	var results: Array = []
	_core.transcription_completed.connect(
		func(job: int, ok: bool) -> void: results.append([job, ok])
	)
	var job := mic.start()
	check(job != 0, "started")
	var capture := _capture()
	if not check(capture != null, "capture effect on the bus"):
		return
	var pushed_at_start := capture.get_pushed_frames()
	var req := _core.get_job(job)
	check(
		await wait_until(func() -> bool: return mic.get_backlog_bytes() > 8000, 3.0),
		"audio buffered while not sent"
	)
	check(not _core.get_job(job).sent, "the request is still waiting for the handshake")
	check(await wait_until(func() -> bool: return _core.get_job(job).sent, 10.0), "sent")
	await root.get_tree().create_timer(0.3).timeout
	mic.stop()
	check_eq(mic.job_id, 0, "stop() ends the job on the microphone side")
	var captured := capture.get_pushed_frames() - pushed_at_start - capture.get_frames_available()
	check(await wait_until(func() -> bool: return not results.is_empty(), 10.0), "completed")
	check_eq(results, [[job, true]], "one successful completion")
	check(captured > int(AudioServer.get_mix_rate() * 1.0), "about 1.5 s captured (%d)" % captured)
	check_eq(mic.get_dropped_frames(), 0, "backlog not over its bound")
	var received: int = int(req.result.data.get("audio_bytes", -1)) if req.done else -1
	# get_pushed_frames() counts what the capture ring accepted (overflow is counted apart).
	check_eq(received, captured * 2, "server got every captured frame as s16le")


## A second start() after stop() opens a new job, with exactly one completion handler.
func test_restart_after_stop_connects_once() -> void:
	var mic := _setup("")
	check(await wait_until(_core.is_connected_to_sidecar, 10.0), "connected")
	var first := mic.start()
	check(await wait_until(func() -> bool: return _core.get_job(first).sent, 5.0), "first sent")
	mic.stop()
	check(not _core.transcription_completed.is_connected(mic._on_completed), "released on stop")
	var second := mic.start()
	check(second != 0 and second != first, "a new job (%d after %d)" % [second, first])
	check_eq(_count_handlers(), 1, "one completion handler")
	var ended := [false]
	_core.transcription_completed.connect(
		func(j: int, _ok: bool) -> void: ended[0] = ended[0] or j == second
	)
	check(await wait_until(func() -> bool: return _core.get_job(second).sent, 5.0), "second sent")
	mic.stop()
	check(await wait_until(func() -> bool: return ended[0], 5.0), "second completed")
	check_eq(_count_handlers(), 0, "no handler left")


## A job the server ends by itself releases the microphone: start() works again.
func test_completion_releases_the_microphone() -> void:
	var mic := _setup("")
	check(await wait_until(_core.is_connected_to_sidecar, 10.0), "connected")
	var job := mic.start()
	check(await wait_until(func() -> bool: return _core.get_job(job).sent, 5.0), "sent")
	_core.stop_live_transcription(job)  # the game ends it through the core node
	check(await wait_until(func() -> bool: return mic.job_id == 0, 5.0), "released on completion")
	check_eq(_count_handlers(), 0, "handler disconnected")
	var again := mic.start()
	check(again != 0 and again != job, "restarted")


## Without input enabled or a core node, start() refuses with 0.
func test_start_refuses_without_core() -> void:
	_mic = AtelicoMicrophone.new()
	root.add_child(_mic)
	check_eq(_mic.start(), 0, "no core node")
	_mic.stop()
	check_eq(_mic.job_id, 0, "nothing running")


func _count_handlers() -> int:
	var count := 0
	for connection: Dictionary in _core.transcription_completed.get_connections():
		var callable: Callable = connection["callable"]
		if callable.get_object() == _mic:
			count += 1
	return count


## Without audio input enabled it refuses; start() while running returns the running job.
func test_start_needs_input_enabled_and_is_idempotent() -> void:
	var mic := _setup("")
	ProjectSettings.set_setting("audio/driver/enable_input", false)
	check_eq(mic.start(), 0, "refused without enable_input")
	ProjectSettings.set_setting("audio/driver/enable_input", true)
	var job := mic.start()
	check(job != 0, "started")
	check_eq(mic.start(), job, "second start() returns the running job")


## While the request waits, the backlog is bounded by max_backlog_s (oldest audio dropped
## and counted); stopping before the request is sent cancels the job and clears it.
func test_backlog_is_bounded_and_cleared() -> void:
	var mic := _setup("slow-welcome")
	mic.max_backlog_s = 0.1
	var ended: Array = []
	_core.transcription_completed.connect(func(j: int, ok: bool) -> void: ended.append([j, ok]))
	var job := mic.start()
	var limit := 2 * int(0.1 * AudioServer.get_mix_rate())
	check(
		await wait_until(func() -> bool: return mic.get_dropped_frames() > 0, 3.0),
		"old audio dropped beyond the bound"
	)
	check(mic.get_backlog_bytes() <= limit, "backlog within %d bytes" % limit)
	check(not _core.get_job(job).sent, "still waiting")
	mic.stop()
	check_eq(mic.get_backlog_bytes(), 0, "cleared")
	check(await wait_until(func() -> bool: return not ended.is_empty(), 5.0), "ended")
	check_eq(ended, [[job, false]], "cancelled before it was sent")
