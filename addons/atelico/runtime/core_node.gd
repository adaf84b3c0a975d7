## The Atelico audio API for Godot: text-to-speech, speech-to-text and audio-to-face.
##
## Add one to the scene (or use the [code]Atelico[/code] autoload the plugin registers) and
## call its methods. Everything runs over a WebSocket to the local sidecar and never blocks
## the frame: signals are emitted from [method Node._process] on the main thread.
##
## The reference's "blocking" names ([method audio_synthesize], [method audio_transcribe],
## [method audio_to_face]) are coroutines here: call them with [code]await[/code] and they
## return the reference's value without freezing the game:
## [codeblock]
## var json: String = await atelico.audio_synthesize(JSON.stringify({"input": "Hello."}))
## [/codeblock]
## Streaming calls return an [int] job id at once and report through signals.
## Failures come back as a JSON [code]{"error": {"code", "message"}}[/code] string from the
## awaited calls, and as [signal request_failed] followed by the completion signal for jobs.
class_name AtelicoCoreNode
extends Node

## One streamed TTS chunk in the reference shape:
## [code]{"sequence", "audio" (base64 WAV), "duration_seconds", "text"}[/code].
signal audio_synthesis_chunk(job_id: int, chunk_json: String)
## End of a streamed synthesis ([param success] false after an error or a cancel).
signal audio_synthesis_completed(job_id: int, success: bool)
## Result of [method audio_synthesize_async]: the same JSON [method audio_synthesize] returns.
signal audio_synthesis_result(job_id: int, response_json: String)
## One chunk of [method speak]: [code]pcm[/code] (s16le mono), [code]sample_rate_hz[/code],
## [code]offset_samples[/code], [code]duration_s[/code], [code]text[/code], [code]words[/code],
## [code]sequence[/code] and, when present, [code]face_weights[/code] (PackedFloat32Array,
## 52 per frame), [code]face_start_frame[/code], [code]face_frame_count[/code] and
## [code]face_fps[/code].
signal speech_chunk(job_id: int, chunk: Dictionary)
## End of a [method speak] job.
signal speech_completed(job_id: int, success: bool)
## A [method speak] job stopped by [method stop_speaking] (a barge-in): what the player heard,
## [code]{played_samples, played_s, text, words}[/code]. Its [signal speech_completed]
## follows (false, [code]cancelled[/code]) when it was still streaming.
signal speech_interrupted(job_id: int, heard: Dictionary)
## The player began talking on a live transcription ([code]stt.speech.started[/code]): sent
## for the very audio that holds the onset, before any partial, so a game can duck or stop a
## speaking NPC at once. [param start_s]: the onset, in seconds since the transcription began;
## [param segment_id] is the id the utterance's final will carry.
signal transcription_speech_started(job_id: int, segment_id: int, start_s: float)
## The player's utterance ended ([code]stt.speech.stopped[/code]; its final follows).
## A started/stopped pair with no final before the next start was noise.
signal transcription_speech_stopped(job_id: int, segment_id: int, start_s: float, end_s: float)
## A live transcription's revisable partial text.
signal transcription_partial(job_id: int, segment_id: int, text: String)
## A live transcription's final text for one utterance (never revised).
signal transcription_final(job_id: int, segment_id: int, text: String)
## The server fell behind real time on live audio: once when it starts skipping audio
## ([param dropped_s] 0) and once when it has caught up ([param dropped_s] the seconds skipped).
signal transcription_warning(job_id: int, code: String, message: String, dropped_s: float)
## End of a live transcription.
signal transcription_completed(job_id: int, success: bool)
## Any job failed: emitted just before that job's completion signal.
signal request_failed(job_id: int, code: String, message: String)
## The connection to the sidecar is up (after each (re)connect).
signal sidecar_connected
## The connection to the sidecar dropped (running jobs fail with [code]connection.lost[/code]).
signal sidecar_disconnected(reason: String)

## Number of ARKit blendshape weights per face frame.
const FACE_CHANNELS: int = 52
## Finished speech jobs whose words are kept for a late [method stop_speaking].
const KEEP_SPOKEN: int = 8

## WebSocket URL of the sidecar; empty = from the launcher, [code]ATELICO_SIDECAR_URL[/code] or
## the [code]atelico/sidecar/port[/code] project setting.
@export var sidecar_url: String = ""
## Launch token; empty = from the launcher, [code]ATELICO_TOKEN[/code] or the project setting.
@export var token: String = ""
## Connect in [method Node._ready] (otherwise on the first request).
@export var connect_on_ready: bool = true

var _client: AtelicoClient = null
var _jobs: Dictionary = {}
var _next_job: int = 0
## job id -> {words, samples, rate} of the speech received (see stop_speaking)
var _spoken: Dictionary = {}


func _ready() -> void:
	process_mode = Node.PROCESS_MODE_ALWAYS
	if connect_on_ready:
		get_client().open()


func _process(_delta: float) -> void:
	if _client != null:
		_client.poll()


func _exit_tree() -> void:
	if _client != null:
		_client.close()
		_client.poll()


## The underlying protocol client (created on first use).
func get_client() -> AtelicoClient:
	if _client == null:
		_client = AtelicoClient.new(_resolve_url(), _resolve_token())
		_client.connected.connect(func(_w: Dictionary) -> void: sidecar_connected.emit())
		_client.disconnected.connect(
			func(_code: String, reason: String) -> void: sidecar_disconnected.emit(reason)
		)
	return _client


## Points the node at another sidecar (closes the current connection; running jobs fail).
func connect_to(url: String, launch_token: String = "") -> void:
	sidecar_url = url
	token = launch_token
	if _client != null:
		_client.close()
		_client = null
	get_client().open()


## True when connected and the handshake is done.
func is_connected_to_sidecar() -> bool:
	return _client != null and _client.is_ready()


## Low-level access: sends any protocol request and returns it (await [code]wait()[/code]).
func send_request(
	type: String, data: Dictionary = {}, payload: Variant = null, timeout_s: float = 0.0
) -> AtelicoRequest:
	return get_client().request(type, data, payload, timeout_s)


## Synthesizes speech (reference [code]audio_synthesize[/code]); await it.
## [param request_json]: [code]{"model", "input", "voice", "speed", "language"}[/code].
## Returns [code]{"audio_b64", "duration_seconds", "format": "wav", "sample_rate"}[/code].
func audio_synthesize(request_json: String) -> String:
	var fields := _tts_fields(request_json, false)
	if fields.has("error"):
		return JSON.stringify(fields, "", false)
	var req := send_request("tts.synthesize", fields)
	var result := await req.wait()
	if result.type != "done":
		return _error_json(req)
	var response: Dictionary = {
		"audio_b64": Marshalls.raw_to_base64(result.payload),
		"duration_seconds": result.data.get("duration_s", 0.0),
		"format": "wav",
		"sample_rate": result.data.get("sample_rate_hz", 0),
	}
	return JSON.stringify(response, "", false)


## Like [method audio_synthesize] without await: returns a job id, answers with
## [signal audio_synthesis_result].
func audio_synthesize_async(request_json: String) -> int:
	var job := _new_job_id()
	_synthesize_job(job, request_json)
	return job


## Streams speech sentence by sentence (reference [code]audio_synthesize_stream[/code]).
## Chunks arrive on [signal audio_synthesis_chunk], the end on [signal audio_synthesis_completed].
func audio_synthesize_stream(request_json: String) -> int:
	var job := _new_job_id()
	var fields := _tts_fields(request_json, true)
	if fields.has("error"):
		_fail_later(job, fields["error"], audio_synthesis_completed)
		return job
	var req := send_request("tts.synthesize", fields)
	_jobs[job] = req
	req.message_received.connect(
		func(msg: AtelicoMessage) -> void:
			if msg.type == "tts.chunk":
				audio_synthesis_chunk.emit(job, JSON.stringify(_reference_chunk(msg), "", false))
	)
	req.completed.connect(
		func(_r: AtelicoMessage) -> void: _end_job(job, req, audio_synthesis_completed)
	)
	return job


## Streams speech with face animation ([code]speak[/code]): raw s16le PCM chunks for
## [AtelicoStreamPlayer] plus ARKit weights, on [signal speech_chunk] / [signal speech_completed].
## [param options]: [code]input[/code] (required), [code]voice[/code], [code]character[/code]
## ([code]claire[/code], [code]james[/code], [code]mark[/code]), [code]speed[/code],
## [code]model[/code].
## Without face ([code]"face": false[/code]) it uses streamed [code]tts.synthesize[/code].
## With [code]"input_stream": true[/code] the text comes later in pieces, e.g. tokens from a
## language model: [method speak_write] each, then [method speak_end]; speech starts once a
## clause is complete. [method stop_speaking] interrupts it and says what was heard.
func speak(options: Dictionary) -> int:
	var job := _new_job_id()
	var with_face: bool = options.get("face", true)
	var fields: Dictionary = {"model": _model_id(options.get("model", "tts"))}
	for key in ["input", "voice", "speed", "language", "character"]:
		if options.has(key) and (with_face or key != "character"):
			fields[key] = options[key]
	if options.get("input_stream", false):
		fields["input_stream"] = true
	fields["stream"] = true
	fields["sample_format"] = "s16le"
	fields["encoding"] = "pcm"
	var req := send_request("speak" if with_face else "tts.synthesize", fields)
	_jobs[job] = req
	var spoken := {"words": [], "samples": 0, "rate": 24000}
	_spoken[job] = spoken
	while _spoken.size() > KEEP_SPOKEN:
		_spoken.erase(_spoken.keys().min())
	req.message_received.connect(
		func(msg: AtelicoMessage) -> void:
			if msg.type == "tts.chunk":
				var chunk := chunk_to_dictionary(msg)
				spoken["words"].append_array(chunk["words"])
				spoken["rate"] = chunk["sample_rate_hz"]
				spoken["samples"] = chunk["offset_samples"] + chunk["pcm"].size() / 2
				speech_chunk.emit(job, chunk)
	)
	req.completed.connect(func(_r: AtelicoMessage) -> void: _end_job(job, req, speech_completed))
	return job


## Adds a piece of text to a [method speak] job opened with [code]"input_stream": true[/code]
## (also before the connection is up: it follows the request). False when the job ended.
func speak_write(job_id: int, text: String) -> bool:
	var req: AtelicoRequest = _jobs.get(job_id)
	return req != null and get_client().send_follow_up(req, "tts.text", {"text": text}, null, true)


## No more text for an [code]input_stream[/code] job: the rest is spoken, then it completes.
func speak_end(job_id: int) -> bool:
	var req: AtelicoRequest = _jobs.get(job_id)
	return req != null and get_client().send_follow_up(req, "tts.text.end", {}, null, true)


## Barge-in: stops a [method speak] job after [param played_samples] of it were played (e.g.
## [method AtelicoStreamPlayer.get_played_samples]) and returns — await it — what the player
## heard: [code]{played_samples, played_s, text, words}[/code] (the words at least half
## played), also emitted as [signal speech_interrupted]. While the sidecar still speaks it
## reports this itself; for a job already complete (audio still playing) the same rule is
## applied here to the words received. Stop the player yourself
## ([method AtelicoStreamPlayer.stop_stream]).
func stop_speaking(job_id: int, played_samples: int) -> Dictionary:
	var req: AtelicoRequest = _jobs.get(job_id)
	var heard: Dictionary = {}
	if req != null and not req.done:
		get_client().cancel(req, {"played_samples": maxi(0, played_samples)})
		if not req.done:
			await req.completed
		var end: AtelicoMessage = req.result
		if end != null and end.type == "cancelled" and end.data.has("played_samples"):
			heard = end.data
	if heard.is_empty():
		var spoken: Dictionary = _spoken.get(job_id, {"words": [], "samples": 0, "rate": 24000})
		heard = heard_of(spoken["words"], played_samples, spoken["samples"], spoken["rate"])
	_spoken.erase(job_id)
	speech_interrupted.emit(job_id, heard)
	return heard


## The protocol's barge-in rule ([code]docs/protocol.md[/code]): the position, never past
## [param sent_samples], and the words whose midpoint was played.
static func heard_of(
	words: Array, played_samples: int, sent_samples: int, rate_hz: int
) -> Dictionary:
	var played := clampi(played_samples, 0, maxi(0, sent_samples))
	var played_s := played / float(rate_hz) if rate_hz > 0 else 0.0
	var kept: Array = []
	var text := PackedStringArray()
	for w in words:
		if (float(w.get("start_s", 0.0)) + float(w.get("end_s", 0.0))) / 2.0 <= played_s:
			kept.append(w)
			text.append(str(w.get("word", "")).strip_edges())
	return {"played_samples": played, "played_s": played_s, "text": " ".join(text), "words": kept}


## Transcribes a WAV (reference [code]audio_transcribe[/code]); await it.
## [param request_json]: [code]{"model", "audio_b64", "language", "prompt", "temperature"}[/code].
## Returns [code]{"text", "language", "duration"}[/code].
func audio_transcribe(request_json: String) -> String:
	var parsed: Variant = JSON.parse_string(request_json)
	if typeof(parsed) != TYPE_DICTIONARY:
		return _error_string("request.invalid", "request_json is not a JSON object")
	var body: Dictionary = parsed
	if not body.has("audio_b64"):
		return _error_string("request.missing_input", "audio_b64 (a base64 WAV) is required")
	var fields: Dictionary = {"model": _model_id(body.get("model", "")), "encoding": "wav"}
	for key in ["language", "prompt", "temperature", "task"]:
		if body.has(key):
			fields[key] = body[key]
	var wav := Marshalls.base64_to_raw(str(body["audio_b64"]))
	var req := send_request("stt.transcribe", fields, wav)
	var result := await req.wait()
	if result.type != "done":
		return _error_json(req)
	var response: Dictionary = {
		"text": result.data.get("text", ""),
		"language": result.data.get("language", ""),
		"duration": result.data.get("duration", 0.0),
	}
	return JSON.stringify(response, "", false)


## Audio-to-face: ARKit-52 weights at 30 fps for 16-bit mono PCM; await it. Returns one
## [PackedFloat32Array] of 52 weights per frame (empty on failure, see [signal request_failed]).
func audio_to_face(
	pcm_s16le: PackedByteArray, character: String = "claire", sample_rate_hz: int = 16000
) -> Array[PackedFloat32Array]:
	var fields: Dictionary = {
		"character": character,
		"sample_rate_hz": sample_rate_hz,
		"sample_format": "s16le",
		"channels": 1,
	}
	var job := _new_job_id()
	var req := send_request("face.run", fields, pcm_s16le)
	_jobs[job] = req
	var result := await req.wait()
	_jobs.erase(job)
	if result.type != "done":
		request_failed.emit(job, req.error_code(), req.error_message())
		return [] as Array[PackedFloat32Array]
	return split_face_frames(result.payload.to_float32_array(), FACE_CHANNELS)


## Opens a live transcription; feed it with [method push_live_audio] (or an
## [AtelicoMicrophone]) and end it with [method stop_live_transcription]. Per utterance:
## [signal transcription_speech_started], partials, [signal transcription_speech_stopped],
## then its [signal transcription_final].
## [param options]: [code]model[/code], [code]language[/code], [code]sample_rate_hz[/code]
## (default: the audio mix rate), [code]vad[/code], [code]partials[/code].
func start_live_transcription(options: Dictionary = {}) -> int:
	var job := _new_job_id()
	var fields: Dictionary = {
		"model": _model_id(options.get("model", "whisper")),
		"sample_rate_hz": int(options.get("sample_rate_hz", AudioServer.get_mix_rate())),
		"sample_format": "s16le",
		"channels": 1,
		"partials": options.get("partials", true),
	}
	for key in ["language", "vad"]:
		if options.has(key):
			fields[key] = options[key]
	var req := send_request("stt.live.start", fields)
	_jobs[job] = req
	req.message_received.connect(
		func(msg: AtelicoMessage) -> void:
			var segment := int(msg.data.get("segment_id", 0))
			var text := str(msg.data.get("text", ""))
			var start_s := float(msg.data.get("start_time", 0.0))
			if msg.type == "stt.speech.started":
				transcription_speech_started.emit(job, segment, start_s)
			elif msg.type == "stt.speech.stopped":
				var end_s := float(msg.data.get("end_time", 0.0))
				transcription_speech_stopped.emit(job, segment, start_s, end_s)
			elif msg.type == "stt.partial":
				transcription_partial.emit(job, segment, text)
			elif msg.type == "stt.final":
				transcription_final.emit(job, segment, text)
			elif msg.type == "stt.warning":
				transcription_warning.emit(
					job,
					str(msg.data.get("code", "")),
					str(msg.data.get("message", "")),
					float(msg.data.get("dropped_s", 0.0))
				)
	)
	req.completed.connect(
		func(_r: AtelicoMessage) -> void: _end_job(job, req, transcription_completed)
	)
	return job


## Sends audio to a live transcription: stereo/mono [PackedVector2Array] frames (as from
## [AudioEffectCapture]) or s16le mono bytes. Returns false when the job is not running.
func push_live_audio(job_id: int, audio: Variant) -> bool:
	var req: AtelicoRequest = _jobs.get(job_id)
	if req == null:
		return false
	var pcm: PackedByteArray = (
		AtelicoAudio.frames_to_pcm_s16le(audio) if audio is PackedVector2Array else audio
	)
	if pcm.is_empty():
		return true
	if not req.sent:
		return false
	return get_client().send_follow_up(req, "stt.live.audio", {}, pcm)


## Finalizes a live transcription: the last utterance is transcribed, then it completes.
func stop_live_transcription(job_id: int) -> void:
	var req: AtelicoRequest = _jobs.get(job_id)
	if req != null and not get_client().send_follow_up(req, "stt.live.stop", {}):
		get_client().cancel(req)


## Cancels a job; its completion signal follows with [code]success == false[/code].
func cancel(job_id: int) -> void:
	var req: AtelicoRequest = _jobs.get(job_id)
	if req != null:
		get_client().cancel(req)


## The [AtelicoRequest] behind a running job (null once it ended).
func get_job(job_id: int) -> AtelicoRequest:
	return _jobs.get(job_id)


## Converts a [code]tts.chunk[/code] message into the [signal speech_chunk] dictionary.
static func chunk_to_dictionary(msg: AtelicoMessage) -> Dictionary:
	var out: Dictionary = {
		"sequence": int(msg.data.get("sequence", 0)),
		"text": str(msg.data.get("text", "")),
		"offset_samples": int(msg.data.get("offset_samples", 0)),
		"duration_s": float(msg.data.get("duration_s", 0.0)),
		"sample_rate_hz": int(msg.data.get("sample_rate_hz", 24000)),
		"sample_format": str(msg.data.get("sample_format", "s16le")),
		"encoding": str(msg.data.get("encoding", "pcm")),
		"words": msg.data.get("words", []),
		"pcm": msg.payload,
	}
	var face: Variant = msg.data.get("face")
	if typeof(face) == TYPE_DICTIONARY:
		out["face_weights"] = (
			(face.get("weights", PackedByteArray()) as PackedByteArray).to_float32_array()
		)
		out["face_start_frame"] = int(face.get("start_frame", 0))
		out["face_frame_count"] = int(face.get("frame_count", 0))
		out["face_fps"] = float(face.get("fps", 30))
	return out


## Splits a flat row-major weight array into frames of [param channels] weights.
static func split_face_frames(flat: PackedFloat32Array, channels: int) -> Array[PackedFloat32Array]:
	var frames: Array[PackedFloat32Array] = []
	for start in range(0, flat.size() - channels + 1, channels):
		frames.append(flat.slice(start, start + channels))
	return frames


func _synthesize_job(job: int, request_json: String) -> void:
	var response: String = await audio_synthesize(request_json)
	audio_synthesis_result.emit(job, response)


func _new_job_id() -> int:
	_next_job += 1
	return _next_job


func _end_job(job: int, req: AtelicoRequest, completion: Signal) -> void:
	_jobs.erase(job)
	if not req.succeeded():
		request_failed.emit(job, req.error_code(), req.error_message())
	completion.emit(job, req.succeeded())


func _fail_later(job: int, error: Dictionary, completion: Signal) -> void:
	await get_tree().process_frame
	request_failed.emit(job, str(error.get("code", "")), str(error.get("message", "")))
	completion.emit(job, false)


func _tts_fields(request_json: String, stream: bool) -> Dictionary:
	var parsed: Variant = JSON.parse_string(request_json)
	if typeof(parsed) != TYPE_DICTIONARY:
		return {
			"error": {"code": "request.invalid", "message": "request_json is not a JSON object"}
		}
	var body: Dictionary = parsed
	var fields: Dictionary = {"model": _model_id(body.get("model", "tts"))}
	for key in ["input", "voice", "speed", "language"]:
		if body.has(key):
			fields[key] = body[key]
	fields["stream"] = stream
	fields["encoding"] = "wav"
	return fields


func _reference_chunk(msg: AtelicoMessage) -> Dictionary:
	return {
		"sequence": int(msg.data.get("sequence", 0)),
		"audio": Marshalls.raw_to_base64(msg.payload),
		"duration_seconds": msg.data.get("duration_s", 0.0),
		"text": msg.data.get("text", ""),
	}


static func _model_id(model: Variant) -> String:
	var text := str(model)
	return text.trim_prefix("in-memory::")


func _error_json(req: AtelicoRequest) -> String:
	return _error_string(req.error_code(), req.error_message())


static func _error_string(code: String, message: String) -> String:
	return JSON.stringify({"error": {"code": code, "message": message}}, "", false)


func _resolve_url() -> String:
	if not sidecar_url.is_empty():
		return sidecar_url
	var launcher := get_node_or_null("/root/AtelicoSidecar")
	if launcher != null and launcher.has_method("get_url") and not launcher.get_url().is_empty():
		return launcher.get_url()
	var from_env := OS.get_environment("ATELICO_SIDECAR_URL")
	if not from_env.is_empty():
		return from_env
	var port: int = ProjectSettings.get_setting("atelico/sidecar/port", 11434)
	return "ws://127.0.0.1:%d/v1/ws" % (port if port > 0 else 11434)


func _resolve_token() -> String:
	if not token.is_empty():
		return token
	var launcher := get_node_or_null("/root/AtelicoSidecar")
	if (
		launcher != null
		and launcher.has_method("get_token")
		and not launcher.get_token().is_empty()
	):
		return launcher.get_token()
	return OS.get_environment("ATELICO_TOKEN")
