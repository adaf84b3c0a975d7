## Applies ARKit-52 weights to a [MeshInstance3D]'s blend shapes in sync with playback.
##
## Feed it frames ([method add_frames], or connect [method queue_chunk] to
## [signal AtelicoCoreNode.speech_chunk]) and point [member player] at the
## [AtelicoStreamPlayer] that plays the same utterance: every frame it shows the weights at
## the player's position (linearly interpolated at 30 fps). Blend shapes are matched to the
## ARKit names case-insensitively; [member name_map] renames them for other rigs.
class_name AtelicoFaceDriver
extends Node

## The 52 ARKit blendshape names in the order the sidecar sends them.
const ARKIT_NAMES: PackedStringArray = [
	"eyeBlinkLeft",
	"eyeLookDownLeft",
	"eyeLookInLeft",
	"eyeLookOutLeft",
	"eyeLookUpLeft",
	"eyeSquintLeft",
	"eyeWideLeft",
	"eyeBlinkRight",
	"eyeLookDownRight",
	"eyeLookInRight",
	"eyeLookOutRight",
	"eyeLookUpRight",
	"eyeSquintRight",
	"eyeWideRight",
	"jawForward",
	"jawLeft",
	"jawRight",
	"jawOpen",
	"mouthClose",
	"mouthFunnel",
	"mouthPucker",
	"mouthLeft",
	"mouthRight",
	"mouthSmileLeft",
	"mouthSmileRight",
	"mouthFrownLeft",
	"mouthFrownRight",
	"mouthDimpleLeft",
	"mouthDimpleRight",
	"mouthStretchLeft",
	"mouthStretchRight",
	"mouthRollLower",
	"mouthRollUpper",
	"mouthShrugLower",
	"mouthShrugUpper",
	"mouthPressLeft",
	"mouthPressRight",
	"mouthLowerDownLeft",
	"mouthLowerDownRight",
	"mouthUpperUpLeft",
	"mouthUpperUpRight",
	"browDownLeft",
	"browDownRight",
	"browInnerUp",
	"browOuterUpLeft",
	"browOuterUpRight",
	"cheekPuff",
	"cheekSquintLeft",
	"cheekSquintRight",
	"noseSneerLeft",
	"noseSneerRight",
	"tongueOut"
]

## The mesh whose blend shapes are driven.
@export var mesh: MeshInstance3D
## The player of the same utterance (its position selects the frame). Freed while the face
## speaks, the face relaxes and forgets its frames (the voice is gone).
@export var player: AtelicoStreamPlayer = null:
	set = _set_player
## Multiplies every weight.
@export_range(0.0, 2.0) var strength: float = 1.0
## ARKit name → blend shape name, for rigs that name them differently.
@export var name_map: Dictionary = {}
## Face frames per second (the sidecar sends 30).
var fps: float = 30.0

var _weights: PackedFloat32Array = PackedFloat32Array()
var _frame_count: int = 0
var _shape_index: PackedInt32Array = PackedInt32Array()
var _bound_mesh: Mesh = null
## Instance id of [member player] (0: none), to tell a freed player from no player.
var _player_id: int = 0


## Forgets all frames and relaxes the face.
func clear() -> void:
	_weights = PackedFloat32Array()
	_frame_count = 0
	_apply_frame(PackedFloat32Array())


## Adds frames starting at [param start_frame] (flat, 52 weights per frame).
func add_frames(start_frame: int, weights: PackedFloat32Array) -> void:
	var count := weights.size() / ARKIT_NAMES.size()
	var needed := (start_frame + count) * ARKIT_NAMES.size()
	if _weights.size() < needed:
		_weights.resize(needed)
	for i in count * ARKIT_NAMES.size():
		_weights[start_frame * ARKIT_NAMES.size() + i] = weights[i]
	_frame_count = maxi(_frame_count, start_frame + count)


## Adds the face frames of one [signal AtelicoCoreNode.speech_chunk] dictionary.
func queue_chunk(_job_id: int, chunk: Dictionary) -> void:
	if chunk.has("face_weights"):
		fps = float(chunk.get("face_fps", 30.0))
		add_frames(int(chunk.get("face_start_frame", 0)), chunk["face_weights"])


## Interpolated weights at [param time_s] (empty before the first frame arrives).
func sample(time_s: float) -> PackedFloat32Array:
	var channels := ARKIT_NAMES.size()
	if _frame_count == 0:
		return PackedFloat32Array()
	var pos := clampf(time_s * fps, 0.0, float(_frame_count - 1))
	var a := int(pos)
	var b := mini(a + 1, _frame_count - 1)
	var t := pos - a
	var out := PackedFloat32Array()
	out.resize(channels)
	for c in channels:
		out[c] = lerpf(_weights[a * channels + c], _weights[b * channels + c], t)
	return out


func _process(_delta: float) -> void:
	if _player_id != 0 and not is_instance_valid(player):
		player = null  # (a freed player reads as null: it would hold frame 0 forever)
		clear()
	if not is_instance_valid(mesh) or _frame_count == 0:
		return
	var time_s := player.get_position_s() if player != null else 0.0
	if player != null and not player.is_streaming() and time_s * fps > _frame_count:
		_apply_frame(PackedFloat32Array())
		return
	_apply_frame(sample(time_s))


func _set_player(value: AtelicoStreamPlayer) -> void:
	player = value
	_player_id = value.get_instance_id() if value != null else 0


func _apply_frame(frame: PackedFloat32Array) -> void:
	if not is_instance_valid(mesh) or mesh.mesh == null:
		return
	if _bound_mesh != mesh.mesh:
		_bind()
	for c in _shape_index.size():
		var idx := _shape_index[c]
		if idx >= 0:
			var w := frame[c] * strength if c < frame.size() else 0.0
			mesh.set_blend_shape_value(idx, clampf(w, 0.0, 1.0))


func _bind() -> void:
	_bound_mesh = mesh.mesh
	var lookup: Dictionary = {}
	# Blend shape names are an ArrayMesh API (Mesh itself has none): other meshes match nothing.
	var shapes := _bound_mesh as ArrayMesh
	var count := mesh.get_blend_shape_count() if shapes != null else 0
	for i in count:
		lookup[String(shapes.get_blend_shape_name(i)).to_lower()] = i
	_shape_index.resize(ARKIT_NAMES.size())
	for c in ARKIT_NAMES.size():
		var wanted := str(name_map.get(ARKIT_NAMES[c], ARKIT_NAMES[c])).to_lower()
		_shape_index[c] = lookup.get(wanted, -1)
