## The whole spoken conversation through a real sidecar (#19), played as a game plays it: a
## recorded question goes to a live transcription at the pace a microphone delivers it →
## transcription_speech_started / _stopped → its final → a scripted reply written word by
## word into speak({input_stream}) → the speech plays through AtelicoStreamPlayer (the web
## audio driver really consumes it) while AtelicoFaceDriver moves a jaw → a second recording
## barges in: on its transcription_speech_started the game stops the NPC with the samples its
## player really played → the reply ends with the words the player heard, and the barge-in
## is transcribed too.
extends AtelicoTestCase

const QUESTION: String = "sense_and_sensibility_01_austen_64kb-0880.wav"
const BARGE_IN: String = "goforward.wav"
const REPLY: String = (
	"No, he was not, traveller. But his wife was another matter entirely, and the whole "
	+ "village knew it. Sit by the fire and I will tell you how it began."
)
const MIC_RATE: int = 16000

var core: AtelicoCoreNode
## What a test connected and added: undone in after_each, also when it stopped early.
var _connections: Array = []
var _nodes: Array[Node] = []
var _jobs: Array[int] = []


func required_config() -> Array:
	return ["sidecar_url", "token", "speech"]


func before_all() -> bool:
	core = AtelicoCoreNode.new()
	core.sidecar_url = manifest["sidecar_url"]
	core.token = manifest["token"]
	root.add_child(core)
	if not FileAccess.file_exists("res://speech/" + BARGE_IN):
		setup_problem = "the recordings are not packed"
		return false
	if await wait_until(core.is_connected_to_sidecar, 20.0):
		return true
	setup_problem = "no connection to %s: %s" % [core.sidecar_url, core.get_client().last_error]
	return false


func after_each() -> void:
	for connection: Array in _connections:
		if (connection[0] as Signal).is_connected(connection[1]):
			(connection[0] as Signal).disconnect(connection[1])
	for job in _jobs:
		core.cancel(job)  # a job still running after a failure
	for node in _nodes:
		node.queue_free()
	_connections.clear()
	_jobs.clear()
	_nodes.clear()


func after_all() -> void:
	core.queue_free()


func _on(sig: Signal, callable: Callable) -> void:
	sig.connect(callable)
	_connections.append([sig, callable])


func _add(node: Node) -> Node:
	root.add_child(node)
	_nodes.append(node)
	return node


## A microphone stand-in: from the moment the live request is on the wire it sends 100 ms
## frames at the wall clock's pace (after a frame hitch, the frames due at once, as a capture
## buffer would), taken from what was queued with [method say], else silence.
class Microphone:
	extends Node
	const FRAME_BYTES: int = 3200  # 100 ms of 16 kHz s16le
	var core: AtelicoCoreNode
	var job: int = 0
	var sent_bytes: int = 0
	var _tape: PackedByteArray = PackedByteArray()
	var _t0_ms: int = -1

	## Queues [param pcm] (16 kHz s16le); returns the stream time (s) at which it starts.
	func say(pcm: PackedByteArray) -> float:
		var at := (sent_bytes + _tape.size()) / 2.0 / 16000.0
		_tape.append_array(pcm)
		return at

	## True once everything queued was sent.
	func said() -> bool:
		return _tape.is_empty()

	func _process(_delta: float) -> void:
		var req := core.get_job(job)
		if req == null or not req.sent:
			return
		if _t0_ms < 0:
			_t0_ms = Time.get_ticks_msec()
		var due := (Time.get_ticks_msec() - _t0_ms) / 100 * FRAME_BYTES
		while sent_bytes + FRAME_BYTES <= due:
			var frame := _tape.slice(0, FRAME_BYTES)
			_tape = _tape.slice(FRAME_BYTES)
			frame.resize(FRAME_BYTES)  # silence after the recording
			core.push_live_audio(job, frame)
			sent_bytes += FRAME_BYTES


func test_question_reply_and_barge_in_through_one_sidecar() -> void:
	var stt: Array = []  # [kind, segment, text or start_s, end_s]
	var on_started := func(_j: int, s: int, at: float) -> void: stt.append(["started", s, at, 0.0])
	var on_stopped := func(_j: int, s: int, a: float, b: float) -> void:
		stt.append(["stopped", s, a, b])
	var on_partial := func(_j: int, s: int, text: String) -> void: stt.append(["partial", s, text])
	var on_final := func(_j: int, s: int, text: String) -> void: stt.append(["final", s, text])
	var warnings: Array = []
	var on_warning := func(_j: int, code: String, _m: String, s: float) -> void:
		warnings.append([code, s])
	_on(core.transcription_speech_started, on_started)
	_on(core.transcription_speech_stopped, on_stopped)
	_on(core.transcription_partial, on_partial)
	_on(core.transcription_final, on_final)
	_on(core.transcription_warning, on_warning)
	var failures: Array = []
	_on(
		core.request_failed,
		func(j: int, code: String, _m: String) -> void: failures.append([j, code])
	)
	var job := core.start_live_transcription({"sample_rate_hz": MIC_RATE, "language": "en"})
	_jobs.append(job)
	var mic := Microphone.new()
	mic.core = core
	mic.job = job
	_add(mic)

	# The player asks (after half a second of room silence).
	var question := _pcm(QUESTION)
	mic.say(_silence(0.5))
	var question_at := mic.say(question)
	var answered := func() -> bool: return _final(stt, 0) != null or core.get_job(job) == null
	check(await wait_until(answered, 60.0), "question final")
	if not check(core.get_job(job) != null, "the live transcription failed: %s" % [failures]):
		return
	var q := stt.filter(func(e: Array) -> bool: return e[1] == 0)
	var kinds: Array = q.map(func(e: Array) -> String: return e[0])
	check(
		kinds.size() >= 3 and kinds[0] == "started" and kinds.slice(-2) == ["stopped", "final"],
		"started, partials, stopped, final: %s" % [kinds]
	)
	if kinds.size() >= 3 and kinds[0] == "started":
		var onset: float = q[0][2]
		var end: float = q[-2][3]
		var length := question.size() / 2.0 / MIC_RATE
		check(
			onset >= question_at - 0.05,
			"onset %.2f s in the recording (at %.2f s)" % [onset, question_at]
		)
		check(end > onset and end <= question_at + length + 0.1, "end of speech %.2f s" % end)
	var expected := _words(_transcript(QUESTION))
	var got := _words(str(_final(stt, 0)))
	var hits := expected.filter(func(w: String) -> bool: return got.has(w)).size()
	# On a loaded machine the server may drop audio to keep up (and says so: stt.warning).
	var needed := 3 if not warnings.is_empty() else expected.size() - 1
	check(hits >= needed, "final %s vs %s (warnings %s)" % [got, expected, warnings])

	# The NPC answers, its language model writing the reply word by word (still writing when
	# it is interrupted: no speak_end), and speaks with a face.
	var player := AtelicoStreamPlayer.new()
	_add(player)
	var instance := MeshInstance3D.new()
	instance.mesh = blend_shape_mesh("jawOpen")
	_add(instance)
	var driver := AtelicoFaceDriver.new()
	driver.player = player
	driver.mesh = instance
	_add(driver)
	var chunks: Array = []
	var first_chunk_ms := [0]
	var on_chunk := func(_j: int, chunk: Dictionary) -> void:
		if chunks.is_empty():
			first_chunk_ms[0] = Time.get_ticks_msec()
		chunks.append(chunk)
	var ends: Array = []
	var on_end := func(j: int, ok: bool) -> void: ends.append([j, ok])
	var interrupted: Array = []
	var on_interrupted := func(j: int, heard: Dictionary) -> void: interrupted.append([j, heard])
	_on(core.speech_chunk, on_chunk)
	_on(core.speech_chunk, player.queue_chunk)
	_on(core.speech_chunk, driver.queue_chunk)
	_on(core.speech_completed, on_end)
	_on(core.speech_interrupted, on_interrupted)
	var peak := [0.0]
	var watch := func() -> void: peak[0] = maxf(peak[0], instance.get_blend_shape_value(0))
	_on(root.get_tree().process_frame, watch)
	player.begin_stream()
	var reply := core.speak({"input_stream": true, "voice": "am_adam", "character": "james"})
	_jobs.append(reply)
	var pieces := REPLY.split(" ")
	for i in pieces.size():
		check(core.speak_write(reply, pieces[i] if i == 0 else " " + pieces[i]), "written")
		await root.get_tree().process_frame  # one token per frame, as a model streams them

	# The player talks over the NPC once it has said a few words: on speech_started the game
	# stops it with the samples its player really played.
	var cut: Dictionary = {}
	var on_barge_in := func(_j: int, segment: int, at: float) -> void:
		if segment < 1 or not cut.is_empty():
			return
		(
			cut
			. merge(
				{
					"played": player.get_played_samples(),
					"since_first_chunk_s": (Time.get_ticks_msec() - first_chunk_ms[0]) / 1000.0,
					"received": _received_samples(chunks),
					"words": _words_of(chunks),
					"onset": at,
				}
			)
		)
		player.stop_stream()
		cut["heard"] = await core.stop_speaking(reply, cut["played"])
	_on(core.transcription_speech_started, on_barge_in)
	var four_words_heard := func() -> bool:
		var words := _words_of(chunks)
		return (
			words.size() >= 4
			and (
				player.get_position_s()
				> (float(words[3]["start_s"]) + float(words[3]["end_s"])) / 2
			)
		)
	check(await wait_until(four_words_heard, 90.0), "the NPC said four words")
	check(not stt.any(func(e: Array) -> bool: return e[1] >= 1), "no speech heard in the silence")
	var barge_at := mic.say(_pcm(BARGE_IN))
	check(await wait_until(func() -> bool: return cut.has("heard"), 60.0), "barged in")
	if not cut.has("heard"):
		return
	var heard: Dictionary = cut["heard"]
	var played: int = cut["played"]
	check(
		cut["onset"] >= barge_at - 0.05,
		"onset %.2f s in the barge-in (at %.2f s)" % [cut["onset"], barge_at]
	)
	check(
		played > 0 and played <= cut["received"],
		"played %d of %d received" % [played, cut["received"]]
	)
	# The player's clock never runs ahead of real time since the NPC's first audio arrived.
	check(
		played / 24000.0 <= cut["since_first_chunk_s"],
		"played %.3f s in %.3f s" % [played / 24000.0, cut["since_first_chunk_s"]]
	)
	check_eq(int(heard.get("played_samples", -1)), played, "the sidecar took the played samples")
	check_near(float(heard.get("played_s", -1.0)), played / 24000.0, 1e-3, "played_s")
	# What was heard is what this add-on received, cut by the barge-in rule at its position...
	var rule := AtelicoCoreNode.heard_of(cut["words"], played, cut["received"], 24000)
	check_eq(heard.get("words"), rule["words"], "the words whose midpoint was played")
	check_eq(heard.get("text"), rule["text"], "their text")
	# ... the start of the reply, as far as the player's position.
	var reply_words := _words(REPLY)
	var heard_words := _words(str(heard.get("text", "")))
	check(heard_words.size() >= 4, "four words or more heard: %s" % [heard_words])
	check_eq(heard_words, reply_words.slice(0, heard_words.size()), "a prefix of the reply")
	check(heard_words.size() < reply_words.size(), "not the whole reply")
	check(await wait_until(func() -> bool: return not ends.is_empty(), 30.0), "the reply ended")
	check_eq(ends, [[reply, false]], "one completion, not successful")
	check_eq(failures, [[reply, "cancelled"]], "ended by the barge-in")
	check_eq(interrupted, [[reply, heard]], "one speech_interrupted with what was heard")
	check(not core.speak_write(reply, " more"), "no text after the end")
	check(not player.is_streaming(), "the NPC stopped talking")
	# Speech with a face: every chunk carries ARKit frames covering its audio, and the jaw moved.
	for chunk: Dictionary in chunks:
		var frames: int = chunk.get("face_frame_count", 0)
		check_eq(chunk.get("face_weights", PackedFloat32Array()).size(), frames * 52, "weights")
		check_near(frames / 30.0, chunk["pcm"].size() / 2.0 / 24000.0, 0.2, "frames cover audio")
	check(peak[0] > 0.05, "the jaw moved (peak %.3f)" % peak[0])

	# The barge-in itself is transcribed.
	check(await wait_until(func() -> bool: return _final(stt, 1) != null, 60.0), "barge-in final")
	var command := _words(str(_final(stt, 1)))
	var said := _words(_transcript(BARGE_IN))
	var heard_command := said.filter(func(w: String) -> bool: return command.has(w)).size()
	check(heard_command >= (3 if warnings.is_empty() else 2), "%s vs %s" % [command, said])
	check(await wait_until(mic.said, 10.0), "the microphone sent everything")
	var completions: Array = []
	var on_done := func(j: int, ok: bool) -> void: completions.append([j, ok])
	_on(core.transcription_completed, on_done)
	core.stop_live_transcription(job)
	check(await wait_until(func() -> bool: return not completions.is_empty(), 30.0), "completed")
	check_eq(completions, [[job, true]], "the live transcription ended successfully")


## The final text of [param segment], or null.
static func _final(stt: Array, segment: int) -> Variant:
	for e: Array in stt:
		if e[0] == "final" and e[1] == segment:
			return e[2]
	return null


static func _received_samples(chunks: Array) -> int:
	if chunks.is_empty():
		return 0
	return chunks[-1]["offset_samples"] + chunks[-1]["pcm"].size() / 2


static func _words_of(chunks: Array) -> Array:
	var words: Array = []
	for chunk: Dictionary in chunks:
		words.append_array(chunk["words"])
	return words


func _pcm(file: String) -> PackedByteArray:
	var info := AtelicoAudio.parse_wav(FileAccess.get_file_as_bytes("res://speech/" + file))
	check_eq(info.get("sample_rate_hz"), MIC_RATE, "%s is 16 kHz" % file)
	return info.get("pcm", PackedByteArray())


static func _silence(seconds: float) -> PackedByteArray:
	var pcm := PackedByteArray()
	pcm.resize(int(seconds * MIC_RATE) * 2)
	return pcm


func _transcript(file: String) -> String:
	for item: Dictionary in manifest["speech"]:
		if item["file"] == file:
			return item["transcript"]
	return ""


## Lower-case words without punctuation, numbers up to ten spelled out (whisper writes "10").
static func _words(text: String) -> Array:
	var numbers := ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
	numbers.append("ten")
	var clean := ""
	for ch in text.to_lower():
		clean += ch if (ch >= "a" and ch <= "z") or (ch >= "0" and ch <= "9") or ch == "'" else " "
	var out: Array = []
	for w in clean.split(" ", false):
		out.append(numbers[int(w)] if w.is_valid_int() and int(w) <= 10 else w)
	return out
