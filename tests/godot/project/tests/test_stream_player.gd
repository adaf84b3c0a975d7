## AtelicoStreamPlayer and AtelicoFaceDriver on the real AudioStreamGenerator, consumed by the
## web runtime's real audio driver (ScriptProcessor, real time). The engine's own count of
## frames it mixed ([method AudioStreamPlayer.get_playback_position]) is the reference clock.
## Measured in this runtime: with Godot's --headless the Dummy driver is used (mix rate 0,
## get_frames_available() = 16383 right after play() but nothing is ever consumed, playback
## position 0), so the harness keeps the web driver (44.1 kHz, 46-86 ms output latency); there
## the playback position also counts the silence mixed during an underrun.
extends AtelicoTestCase

const RATE: int = 24000

var _player: AtelicoStreamPlayer = null
## Frames the generator of [member _player] holds, measured by the test from the engine.
var _capacity: int = 0


## The web audio driver mixes a burst when the page's audio starts: let it reach real time
## before measuring (a generator that has mixed a second of audio).
func before_all() -> bool:
	var warm := AudioStreamPlayer.new()
	warm.stream = AudioStreamGenerator.new()
	root.add_child(warm)
	warm.play()
	var steady := await wait_until(func() -> bool: return warm.get_playback_position() > 1.0, 10.0)
	warm.queue_free()
	setup_problem = "the audio driver does not consume"
	return steady


func after_each() -> void:
	if _player != null:
		_player.queue_free()
		_player = null


## [param seconds] of a 220 Hz tone as mono s16le PCM at [constant RATE].
static func tone(seconds: float) -> PackedByteArray:
	var count := int(seconds * RATE)
	var pcm := PackedByteArray()
	pcm.resize(count * 2)
	for i in count:
		pcm.encode_s16(i * 2, int(sin(TAU * 220.0 * i / RATE) * 8000.0))
	return pcm


func _new_player(buffer_s: float = 0.5) -> AtelicoStreamPlayer:
	_player = AtelicoStreamPlayer.new()
	_player.sample_rate_hz = RATE
	_player.buffer_length_s = buffer_s
	root.add_child(_player)
	return _player


## begin_stream() plus the test's own reading of the generator's capacity.
func _begin(player: AtelicoStreamPlayer) -> void:
	player.begin_stream(RATE)
	_capacity = (
		(player.get_stream_playback() as AudioStreamGeneratorPlayback).get_frames_available()
	)


## Frames still queued in the generator, from the engine's count.
func _queued(player: AtelicoStreamPlayer) -> int:
	return _capacity - player.get_stream_playback().get_frames_available()


## Seconds the engine has mixed out of the generator (frames taken, at the generator rate).
func _engine_position(player: AtelicoStreamPlayer) -> float:
	return player.get_playback_position()


## The capacity is what the generator really holds (Godot rounds 0.5 s × 24 kHz = 12,000
## up to a power of two), so nothing pushed counts as heard before the engine took it.
func test_capacity_is_read_from_the_generator() -> void:
	var player := _new_player()
	_begin(player)
	check(_capacity > int(0.5 * RATE), "rounded up beyond 12000 (got %d)" % _capacity)
	check_eq((_capacity + 1) & _capacity, 0, "a power of two minus the reserved frame")
	check_eq(player.call("get_capacity_frames"), _capacity, "capacity read after play()")
	# No mix runs inside this call: everything pushed is still queued, nothing was heard.
	player.queue_pcm_s16le(tone(0.3))
	check_eq(_queued(player), int(0.3 * RATE), "queued frames (engine)")
	check_eq(player.call("get_queued_frames"), int(0.3 * RATE), "queued frames (player)")
	check_near(player.get_position_s(), 0.0, 1e-9, "position before the engine took a frame")
	check(player.is_streaming(), "streaming")


## While the generator still holds audio, the clock equals the engine's own count of frames
## it mixed (minus the output latency) at every frame.
func test_clock_follows_the_frames_the_engine_consumed() -> void:
	var player := _new_player(2.0)
	_begin(player)
	check_eq(_capacity, 65535, "2 s × 24 kHz rounded up to 2^16 frames")
	player.queue_pcm_s16le(tone(2.5))  # fits in the generator: no underrun while it plays
	var latency := AudioServer.get_output_latency()
	var samples := 0
	var worst := 0.0
	var last := -1.0
	var monotonic := true
	var deadline := Time.get_ticks_msec() + 5000
	while _queued(player) > 0 and Time.get_ticks_msec() < deadline:
		await root.get_tree().process_frame
		if _queued(player) == 0:
			break
		var position := player.get_position_s()
		var engine := _engine_position(player) - latency
		if engine > 0.0:
			samples += 1
			worst = maxf(worst, absf(position - engine))
		monotonic = monotonic and position >= last
		last = position
	check(
		samples >= 5,
		(
			"sampled while playing (%d samples, queued %d, engine %.3f s)"
			% [samples, _queued(player), _engine_position(player)]
		)
	)
	# The engine's counter has been seen one output block (~40 ms) ahead at the first mix;
	# allow two. The defect this guards against (capacity taken as buffer_length × rate) is
	# 0.73 s here.
	check(worst < 0.1, "clock within 100 ms of the engine (worst %.4f s)" % worst)
	check(monotonic, "clock never goes back")


## stream_finished fires only after the engine took the last frame and the output latency
## passed; the clock then stands at the utterance's length and is_streaming() is false.
func test_stream_finished_after_the_last_frame_played() -> void:
	var player := _new_player()
	var seconds := 0.4
	var at_finish: Dictionary = {}
	player.stream_finished.connect(
		func() -> void:
			(
				at_finish
				. merge(
					{
						"queued": _queued(player),
						"engine": _engine_position(player),
						"ms": Time.get_ticks_msec(),
						"position": player.get_position_s(),
					}
				)
			)
	)
	_begin(player)
	var t0 := Time.get_ticks_msec()
	player.queue_pcm_s16le(tone(seconds))
	player.finish_stream()
	check(await wait_until(func() -> bool: return not at_finish.is_empty(), 10.0), "finished")
	if at_finish.is_empty():
		return
	check_eq(at_finish["queued"], 0, "nothing queued at stream_finished")
	check(
		at_finish["engine"] >= seconds - 0.006, "engine mixed it all (%.3f s)" % at_finish["engine"]
	)
	var wall: float = (at_finish["ms"] - t0) / 1000.0
	check(wall >= seconds - 0.05, "not before real time (%.3f s)" % wall)
	check_near(at_finish["position"], seconds, 1e-6, "clock at the end")
	check(not player.is_streaming(), "not streaming after stream_finished")
	# The next chunk starts a new utterance from 0.
	player.queue_chunk(1, {"pcm": tone(0.1), "sample_rate_hz": RATE})
	check(player.is_streaming(), "new utterance streams")
	check_near(player.get_position_s(), 0.0, 1e-9, "new utterance starts at 0")


## Chunks longer than the generator wait in the player and are fed as it drains: the whole
## utterance reaches the engine, in order, with the clock ending at its length.
func test_long_utterance_is_fed_as_the_generator_drains() -> void:
	var player := _new_player()
	_begin(player)
	var done := [false]
	player.stream_finished.connect(func() -> void: done[0] = true)
	for i in 4:
		player.queue_chunk(0, {"pcm": tone(0.25), "sample_rate_hz": RATE})
	check(_queued(player) < 4 * int(0.25 * RATE), "more than the generator holds")
	check(_queued(player) > 0, "the generator is fed")
	player.finish_stream()
	check(await wait_until(func() -> bool: return done[0], 10.0), "finished")
	check_near(player.get_position_s(), 1.0, 1e-6, "clock at the whole length")
	check(_engine_position(player) >= 1.0 - 0.006, "engine mixed the whole second")


## The face driver shows the weights at the player's clock: a jawOpen ramp from 0 to 1 over
## the utterance follows the engine's position, and the face relaxes after the end.
func test_face_driver_follows_the_player_clock() -> void:
	var player := _new_player()
	var seconds := 0.6
	var mesh := blend_shape_mesh("mouth_open")
	var instance := MeshInstance3D.new()
	instance.mesh = mesh
	root.add_child(instance)
	var driver := AtelicoFaceDriver.new()
	driver.mesh = instance
	driver.player = player
	driver.name_map = {"jawOpen": "Mouth_Open"}
	root.add_child(driver)
	var frames := int(seconds * 30.0) + 1
	var weights := PackedFloat32Array()
	weights.resize(frames * 52)
	for f in frames:
		weights[f * 52 + 17] = f / float(frames - 1)
	var finished := [false]
	player.stream_finished.connect(func() -> void: finished[0] = true)
	_begin(player)
	var chunk := {"pcm": tone(seconds), "sample_rate_hz": RATE, "face_weights": weights}
	chunk["face_start_frame"] = 0
	chunk["face_fps"] = 30.0
	driver.queue_chunk(1, chunk)
	player.queue_chunk(1, chunk)
	player.finish_stream()
	var latency := AudioServer.get_output_latency()
	var worst := 0.0
	var samples := 0
	while not finished[0] and _queued(player) > 0:
		await root.get_tree().process_frame
		driver._process(0.0)  # the same per-frame update, read back before any mix runs
		var expected := clampf((_engine_position(player) - latency) / seconds, 0.0, 1.0)
		if _queued(player) > 0:
			samples += 1
			worst = maxf(worst, absf(instance.get_blend_shape_value(0) - expected))
	check(samples >= 5, "sampled while playing (%d)" % samples)
	# 0.15 of the ramp = 90 ms (two output blocks of slack); the old capacity bug is 0.3.
	check(worst < 0.15, "jaw follows the engine clock (worst %.3f)" % worst)
	check(await wait_until(func() -> bool: return finished[0], 5.0), "finished")
	for i in 3:
		await root.get_tree().process_frame
	check_near(instance.get_blend_shape_value(0), 1.0, 1e-6, "last frame held at the end")
	driver.clear()
	check_near(instance.get_blend_shape_value(0), 0.0, 1e-6, "clear() relaxes the face")
	driver.queue_free()
	instance.queue_free()


## Before any audio: position 0, nothing queued, not streaming; queueing PCM without
## begin_stream() starts the stream by itself.
func test_queue_without_begin_stream() -> void:
	var player := _new_player()
	check_near(player.get_position_s(), 0.0, 1e-9, "position before anything")
	check_eq(player.get_queued_frames(), 0, "nothing queued")
	check(not player.is_streaming(), "not streaming")
	player.queue_pcm_s16le(tone(0.1))
	check(player.is_streaming(), "streaming")
	check_eq(player.get_queued_frames(), int(0.1 * RATE), "queued")


## The face relaxes after the utterance ends when the clock has passed the last frame, and
## a driver without a mesh or frames does nothing.
func test_face_relaxes_after_the_end() -> void:
	var driver := AtelicoFaceDriver.new()
	check_eq(driver.sample(0.0), PackedFloat32Array(), "no frames: nothing to sample")
	var player := _new_player()
	var instance := MeshInstance3D.new()
	var mesh := blend_shape_mesh("jawOpen")
	instance.mesh = mesh
	root.add_child(instance)
	driver.mesh = instance
	driver.player = player
	root.add_child(driver)
	var weights := PackedFloat32Array()
	weights.resize(52)
	weights[17] = 0.8
	driver.add_frames(0, weights)  # one frame (1/30 s) for 0.2 s of audio
	var finished := [false]
	player.stream_finished.connect(func() -> void: finished[0] = true)
	_begin(player)
	player.queue_pcm_s16le(tone(0.2))
	await root.get_tree().process_frame
	check_near(instance.get_blend_shape_value(0), 0.8, 1e-6, "the frame is shown")
	player.finish_stream()
	check(await wait_until(func() -> bool: return finished[0], 5.0), "finished")
	await root.get_tree().process_frame
	check_near(instance.get_blend_shape_value(0), 0.0, 1e-6, "relaxed after the end")
	instance.mesh = null
	driver.clear()  # no mesh: nothing to apply, no error
	check(driver.sample(0.0).is_empty(), "cleared")
	driver.queue_free()
	instance.queue_free()


## stop_stream cuts playback at once (a barge-in): nothing queued plays on, the clock and
## get_played_samples restart at 0 and stream_finished does not fire for the cut utterance.
func test_stop_stream_cuts_playback() -> void:
	_new_player()
	var finished := [0]
	_player.stream_finished.connect(func() -> void: finished[0] += 1)
	_player.begin_stream(RATE)
	_player.queue_pcm_s16le(tone(2.0))
	_player.finish_stream()
	var playing := func() -> bool: return _player.get_played_samples() > RATE / 4
	check(await wait_until(playing, 5.0), "playing")
	var played := _player.get_played_samples()
	check_near(float(played), _player.get_position_s() * RATE, 1.0, "samples = clock x rate")
	_player.stop_stream()
	check(not _player.playing, "stopped")
	check_eq(_player.get_played_samples(), 0, "clock reset")
	check(not _player.is_streaming(), "not streaming")
	await wait_until(func() -> bool: return false, 0.3)
	check_eq(finished[0], 0, "no stream_finished for the cut utterance")


## The audio server mixes a stopped playback once more to fade it out, through a pointer to
## its generator it does not own (godotengine/godot#92349): the generator must outlive the
## player's reference to it — a new utterance replacing it, the player freed — for as long
## as its playback is alive, and be freed with it.
func test_generator_lives_as_long_as_its_playback() -> void:
	var player := _new_player()
	_begin(player)
	player.queue_pcm_s16le(tone(0.5))
	var first: AudioStreamPlayback = player.get_stream_playback()  # held as the server does
	var first_generator := player.stream.get_instance_id()
	player.begin_stream(RATE)  # the next utterance replaces the generator
	check(player.stream.get_instance_id() != first_generator, "a new generator")
	check(is_instance_id_valid(first_generator), "the replaced one lives with its playback")
	var second: AudioStreamPlayback = player.get_stream_playback()
	var second_generator := player.stream.get_instance_id()
	player.queue_pcm_s16le(tone(0.5))
	_player = null
	player.queue_free()  # freed while playing
	await root.get_tree().process_frame
	check(not is_instance_valid(player), "the player is gone")
	check(is_instance_id_valid(second_generator), "its generator lives with its playback")
	first = null
	second = null
	var released := func() -> bool:
		return (
			not is_instance_id_valid(first_generator) and not is_instance_id_valid(second_generator)
		)
	check(await wait_until(released, 5.0), "both freed once the server dropped the playbacks")


## A player freed while its face driver still shows the utterance: the driver relaxes the
## face and forgets the frames (before, a freed player read as no player and the face held
## the utterance's first frame for good), and a freed mesh is left alone too.
func test_face_driver_outlives_its_player_and_mesh() -> void:
	var player := _new_player()
	var instance := MeshInstance3D.new()
	instance.mesh = blend_shape_mesh("jawOpen")
	root.add_child(instance)
	var driver := AtelicoFaceDriver.new()
	driver.mesh = instance
	driver.player = player
	root.add_child(driver)
	var weights := PackedFloat32Array()
	weights.resize(52 * 30)
	weights.fill(0.6)
	driver.add_frames(0, weights)
	_begin(player)
	player.queue_pcm_s16le(tone(1.0))
	await root.get_tree().process_frame
	check_near(instance.get_blend_shape_value(0), 0.6, 1e-6, "the face shows the utterance")
	_player = null
	player.queue_free()
	for i in 3:
		await root.get_tree().process_frame
	check(driver.player == null, "the freed player is dropped")
	check_near(instance.get_blend_shape_value(0), 0.0, 1e-6, "relaxed")
	check(driver.sample(0.0).is_empty(), "its frames forgotten")
	driver.add_frames(0, weights)
	instance.queue_free()
	for i in 3:
		await root.get_tree().process_frame
	check(is_instance_valid(driver), "the driver runs on without a mesh")
	driver.queue_free()
