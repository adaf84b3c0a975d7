## Live microphone transcription: AudioStreamMicrophone → AudioEffectCapture → sidecar.
##
## Call [method start] and read the [AtelicoCoreNode] signals [signal
## AtelicoCoreNode.transcription_partial] / [signal AtelicoCoreNode.transcription_final];
## [method stop] finalizes the last utterance. Needs Project Settings →
## audio/driver/enable_input = true (and microphone permission on mobile/web).
## Audio captured before the sidecar accepted the request (while connecting) is kept, up to
## [member max_backlog_s] seconds, and sent as soon as it did.
class_name AtelicoMicrophone
extends Node

## The core node that owns the live transcription.
@export var core: AtelicoCoreNode
## Audio bus created for capturing (muted, so you do not hear yourself).
@export var bus_name: StringName = &"AtelicoMicrophone"
## Language hint (ISO 639-1), empty = auto.
@export var language: String = ""
## Most seconds of audio kept while the request is not sent yet (the oldest are dropped).
@export var max_backlog_s: float = 10.0

## The running job id, or 0.
var job_id: int = 0
var _capture: AudioEffectCapture = null
var _player: AudioStreamPlayer = null
var _backlog: PackedByteArray = PackedByteArray()
var _rate_hz: int = 0
var _dropped_frames: int = 0


## Starts capturing and transcribing; returns the job id (0 when input is disabled).
func start() -> int:
	if job_id != 0:
		return job_id
	if core == null:
		push_error("AtelicoMicrophone: set core to an AtelicoCoreNode first")
		return 0
	if not ProjectSettings.get_setting("audio/driver/enable_input", false):
		push_error("AtelicoMicrophone: enable Project Settings → audio/driver/enable_input")
		return 0
	_ensure_bus()
	_capture.clear_buffer()
	_backlog = PackedByteArray()
	_dropped_frames = 0
	_player = AudioStreamPlayer.new()
	_player.stream = AudioStreamMicrophone.new()
	_player.bus = bus_name
	add_child(_player)
	_player.play()
	_rate_hz = int(AudioServer.get_mix_rate())
	var options: Dictionary = {"sample_rate_hz": _rate_hz}
	if not language.is_empty():
		options["language"] = language
	job_id = core.start_live_transcription(options)
	core.transcription_completed.connect(_on_completed)
	return job_id


## Stops capturing; the last utterance is finalized and the job completes (on
## [signal AtelicoCoreNode.transcription_completed]). Stopped before the sidecar accepted
## the request, the job is cancelled instead.
func stop() -> void:
	if job_id == 0:
		return
	_pump()
	core.stop_live_transcription(job_id)
	_release()


## Bytes of captured audio waiting for the request to be sent.
func get_backlog_bytes() -> int:
	return _backlog.size()


## Frames dropped because the backlog was full ([member max_backlog_s]).
func get_dropped_frames() -> int:
	return _dropped_frames


func _process(_delta: float) -> void:
	if job_id != 0:
		_pump()


func _pump() -> void:
	if _capture == null:
		return
	var available := _capture.get_frames_available()
	if available > 0:
		_backlog.append_array(AtelicoAudio.frames_to_pcm_s16le(_capture.get_buffer(available)))
	var req := core.get_job(job_id)
	if req == null:
		_backlog = PackedByteArray()
		return
	if req.sent and not _backlog.is_empty() and core.push_live_audio(job_id, _backlog):
		_backlog = PackedByteArray()
		return
	var limit := 2 * maxi(1, int(max_backlog_s * _rate_hz))
	if _backlog.size() > limit:
		_dropped_frames += (_backlog.size() - limit) / 2
		_backlog = _backlog.slice(_backlog.size() - limit)


func _on_completed(finished_job: int, _success: bool) -> void:
	if finished_job == job_id:
		_release()


func _release() -> void:
	job_id = 0
	_backlog = PackedByteArray()
	if _player != null:
		_player.queue_free()
		_player = null
	if core.transcription_completed.is_connected(_on_completed):
		core.transcription_completed.disconnect(_on_completed)


func _ensure_bus() -> void:
	var idx := AudioServer.get_bus_index(bus_name)
	if idx == -1:
		AudioServer.add_bus()
		idx = AudioServer.bus_count - 1
		AudioServer.set_bus_name(idx, bus_name)
		AudioServer.set_bus_mute(idx, true)
	for i in AudioServer.get_bus_effect_count(idx):
		var effect := AudioServer.get_bus_effect(idx, i)
		if effect is AudioEffectCapture:
			_capture = effect
			return
	_capture = AudioEffectCapture.new()
	# The capture ring must survive a frame hitch; its default (0.1 s) drops audio.
	_capture.buffer_length = 1.0
	AudioServer.add_bus_effect(idx, _capture)
