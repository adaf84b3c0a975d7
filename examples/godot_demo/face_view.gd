## A drawn face driven by ARKit weights (eyes, brows, jaw, smile), for rigs-free demos.
extends Control

## Source of the weights.
var driver: AtelicoFaceDriver
## Playback whose position selects the frame.
var player: AtelicoStreamPlayer

var _w: PackedFloat32Array = PackedFloat32Array()


func _process(_delta: float) -> void:
	if driver != null and player != null:
		_w = (
			driver.sample(player.get_position_s())
			if player.is_streaming()
			else PackedFloat32Array()
		)
	queue_redraw()


func _weight(arkit_name: String) -> float:
	var idx := AtelicoFaceDriver.ARKIT_NAMES.find(arkit_name)
	return _w[idx] if idx >= 0 and idx < _w.size() else 0.0


func _draw() -> void:
	var c := size / 2.0
	var r := minf(size.x, size.y) * 0.45
	draw_circle(c, r, Color(0.96, 0.8, 0.66))
	for side in [-1.0, 1.0]:
		var suffix := "Left" if side < 0.0 else "Right"
		var eye := c + Vector2(side * r * 0.38, -r * 0.2)
		var open := 1.0 - _weight("eyeBlink" + suffix)
		draw_rect(
			Rect2(eye - Vector2(r * 0.12, r * 0.08 * open), Vector2(r * 0.24, r * 0.16 * open)),
			Color.BLACK
		)
		var brow_up := (
			_weight("browInnerUp") + _weight("browOuterUp" + suffix) - _weight("browDown" + suffix)
		)
		var brow_y := eye.y - r * (0.2 + 0.1 * brow_up)
		draw_line(
			Vector2(eye.x - r * 0.14, brow_y),
			Vector2(eye.x + r * 0.14, brow_y),
			Color.SADDLE_BROWN,
			4.0
		)
	var jaw := _weight("jawOpen")
	var smile := (_weight("mouthSmileLeft") + _weight("mouthSmileRight")) * 0.5
	var pucker := _weight("mouthPucker") + _weight("mouthFunnel")
	var mouth := c + Vector2(0.0, r * 0.42)
	var width := r * (0.5 + 0.25 * smile - 0.2 * pucker)
	var height := r * (0.03 + 0.35 * jaw)
	draw_rect(
		Rect2(mouth - Vector2(width / 2.0, height / 2.0), Vector2(width, height)),
		Color(0.45, 0.1, 0.12)
	)
