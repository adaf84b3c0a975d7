## Demo scene: type text, pick a voice and a character, hear it, see the face move.
extends Control

const FaceView := preload("res://face_view.gd")

var _core: AtelicoCoreNode
var _text: LineEdit
var _voice: OptionButton
var _character: OptionButton
var _status: Label
var _player: AtelicoStreamPlayer
var _driver: AtelicoFaceDriver
var _job: int = 0


func _ready() -> void:
	_core = get_node_or_null("/root/Atelico")
	if _core == null:
		_core = AtelicoCoreNode.new()
		add_child(_core)
	_build_ui()
	_player = AtelicoStreamPlayer.new()
	add_child(_player)
	_driver = AtelicoFaceDriver.new()
	_driver.player = _player
	add_child(_driver)
	var face := FaceView.new()
	face.driver = _driver
	face.player = _player
	face.set_anchors_and_offsets_preset(Control.PRESET_CENTER_RIGHT)
	face.custom_minimum_size = Vector2(320, 320)
	face.position = Vector2(420, 80)
	face.size = Vector2(320, 320)
	add_child(face)
	_core.speech_chunk.connect(_on_chunk)
	_core.speech_completed.connect(_on_completed)
	_core.request_failed.connect(
		func(_j: int, code: String, message: String) -> void: _status.text = code + ": " + message
	)
	_core.sidecar_connected.connect(_load_voices)
	_status.text = "Connecting to the sidecar…"


func _build_ui() -> void:
	var box := VBoxContainer.new()
	box.position = Vector2(24, 24)
	box.custom_minimum_size = Vector2(360, 0)
	add_child(box)
	_text = LineEdit.new()
	_text.text = "Welcome, traveller. The forge is hot today."
	box.add_child(_text)
	_voice = OptionButton.new()
	_voice.add_item("af_heart")
	box.add_child(_voice)
	_character = OptionButton.new()
	for character in ["claire", "james", "mark"]:
		_character.add_item(character)
	box.add_child(_character)
	var speak := Button.new()
	speak.text = "Speak"
	speak.pressed.connect(_on_speak)
	box.add_child(speak)
	_status = Label.new()
	_status.autowrap_mode = TextServer.AUTOWRAP_WORD
	box.add_child(_status)


func _load_voices() -> void:
	_status.text = "Connected."
	var req := _core.send_request("voices.list", {"model": "tts"})
	var result := await req.wait()
	if result.type != "done":
		return
	var current := _voice.get_item_text(_voice.selected)
	_voice.clear()
	for voice: Dictionary in result.data.get("voices", []):
		_voice.add_item(str(voice.get("id", "")))
		if voice.get("id", "") == current:
			_voice.select(_voice.item_count - 1)


func _on_speak() -> void:
	if _job != 0:
		_core.cancel(_job)
	_driver.clear()
	_player.begin_stream(24000)
	_status.text = "Speaking…"
	_job = (
		_core
		. speak(
			{
				"input": _text.text,
				"voice": _voice.get_item_text(_voice.selected),
				"character": _character.get_item_text(_character.selected),
			}
		)
	)


func _on_chunk(job_id: int, chunk: Dictionary) -> void:
	if job_id != _job:
		return
	_player.queue_chunk(job_id, chunk)
	_driver.queue_chunk(job_id, chunk)
	_status.text = chunk.get("text", "")


func _on_completed(job_id: int, success: bool) -> void:
	if job_id == _job:
		_player.finish_stream()
		_job = 0
		if success:
			_status.text = "Done."
