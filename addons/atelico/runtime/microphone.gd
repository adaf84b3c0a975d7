## Live microphone transcription: AudioStreamMicrophone → AudioEffectCapture → sidecar.
##
## Call [method start] and read the [AtelicoCoreNode] signals [signal
## AtelicoCoreNode.transcription_partial] / [signal AtelicoCoreNode.transcription_final];
## [method stop] finalizes the last utterance. Needs Project Settings →
## audio/driver/enable_input = true (and microphone permission on mobile/web).
class_name AtelicoMicrophone
extends Node

## The core node that owns the live transcription.
@export var core: AtelicoCoreNode
## Audio bus created for capturing (muted, so you do not hear yourself).
@export var bus_name: StringName = &"AtelicoMicrophone"
## Language hint (ISO 639-1), empty = auto.
@export var language: String = ""

## The running job id, or 0.
var job_id: int = 0
var _capture: AudioEffectCapture = null
var _player: AudioStreamPlayer = null


## Starts capturing and transcribing; returns the job id (0 when input is disabled).
func start() -> int:
	if job_id != 0:
		return job_id
	if not ProjectSettings.get_setting("audio/driver/enable_input", false):
		push_error("AtelicoMicrophone: enable Project Settings → audio/driver/enable_input")
		return 0
	_ensure_bus()
	_player = AudioStreamPlayer.new()
	_player.stream = AudioStreamMicrophone.new()
	_player.bus = bus_name
	add_child(_player)
	_player.play()
	var options: Dictionary = {"sample_rate_hz": int(AudioServer.get_mix_rate())}
	if not language.is_empty():
		options["language"] = language
	job_id = core.start_live_transcription(options)
	core.transcription_completed.connect(_on_completed)
	return job_id


## Stops capturing; the last utterance is finalized and the job completes.
func stop() -> void:
	if job_id == 0:
		return
	_pump()
	core.stop_live_transcription(job_id)
	_release()


func _process(_delta: float) -> void:
	if job_id != 0:
		_pump()


func _pump() -> void:
	if _capture == null:
		return
	var available := _capture.get_frames_available()
	if available > 0:
		core.push_live_audio(job_id, _capture.get_buffer(available))


func _on_completed(finished_job: int, _success: bool) -> void:
	if finished_job == job_id:
		_release()
		job_id = 0


func _release() -> void:
	if _player != null:
		_player.queue_free()
		_player = null
	if core.transcription_completed.is_connected(_on_completed) and job_id == 0:
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
	AudioServer.add_bus_effect(idx, _capture)
