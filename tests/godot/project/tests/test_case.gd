## Base class of the GDScript test suites: checks that record failures instead of asserting.
class_name AtelicoTestCase
extends RefCounted

## Node the suite may add children to (the bootstrap node, inside the scene tree).
var root: Node
## The harness manifest (config, vector names, sidecar address).
var manifest: Dictionary = {}
## Why [method before_all] failed (shown in the report).
var setup_problem: String = ""
var _checks: int = 0
var _failures: PackedStringArray = PackedStringArray()


## Manifest keys the suite needs (e.g. [code]sidecar_url[/code]); missing ones skip it.
func required_config() -> Array:
	return []


## Called once before the suite's tests; return false to fail the whole suite.
func before_all() -> bool:
	return true


## Called after each test (clean-up).
func after_each() -> void:
	pass


## Called once after the suite.
func after_all() -> void:
	pass


func begin() -> void:
	_checks = 0
	_failures = PackedStringArray()


## A test passes when it ran at least one check (a script error aborts silently in a
## release build, so zero checks means it did not run to the end) and none failed.
func ok() -> bool:
	return _checks > 0 and _failures.is_empty()


func report() -> String:
	if _checks == 0:
		return "no check ran (aborted by a script error?)"
	return (
		"; ".join(_failures.slice(0, 8))
		+ (" (+%d more)" % (_failures.size() - 8) if _failures.size() > 8 else "")
	)


func check(condition: bool, what: String) -> bool:
	_checks += 1
	if not condition:
		_failures.append(what)
	return condition


func check_eq(actual: Variant, expected: Variant, what: String) -> bool:
	_checks += 1
	if not same(actual, expected):
		_failures.append("%s: got %s, expected %s" % [what, _show(actual), _show(expected)])
		return false
	return true


func check_near(actual: float, expected: float, tolerance: float, what: String) -> bool:
	_checks += 1
	if absf(actual - expected) > tolerance:
		_failures.append("%s: got %f, expected %f ± %f" % [what, actual, expected, tolerance])
		return false
	return true


## Awaits frames until [param condition] returns true or [param timeout_s] passes.
func wait_until(condition: Callable, timeout_s: float) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while not condition.call():
		if Time.get_ticks_msec() > deadline:
			return false
		await root.get_tree().process_frame
	return true


## A one-triangle [ArrayMesh] with one blend shape named [param shape_name].
static func blend_shape_mesh(shape_name: String) -> ArrayMesh:
	var arrays: Array = []
	arrays.resize(Mesh.ARRAY_MAX)
	arrays[Mesh.ARRAY_VERTEX] = PackedVector3Array([Vector3.ZERO, Vector3.RIGHT, Vector3.UP])
	var shape: Array = []
	shape.resize(Mesh.ARRAY_MAX)
	shape[Mesh.ARRAY_VERTEX] = PackedVector3Array([Vector3.ZERO, Vector3.RIGHT, Vector3.DOWN])
	var mesh := ArrayMesh.new()
	mesh.add_blend_shape(shape_name)
	mesh.add_surface_from_arrays(Mesh.PRIMITIVE_TRIANGLES, arrays, [shape])
	return mesh


## Deep equality that also requires equal types (int 1 is not float 1.0) and key order.
static func same(a: Variant, b: Variant) -> bool:
	if typeof(a) != typeof(b):
		return false
	match typeof(a):
		TYPE_DICTIONARY:
			var ka: Array = a.keys()
			var kb: Array = b.keys()
			if not same(ka, kb):
				return false
			for key: Variant in ka:
				if not same(a[key], b[key]):
					return false
			return true
		TYPE_ARRAY:
			if a.size() != b.size():
				return false
			for i in a.size():
				if not same(a[i], b[i]):
					return false
			return true
	return a == b


## Converts the harness's typed JSON ({"$int": "1"}, {"$float": 1.0}, {"$bin": b64}).
static func from_typed(value: Variant) -> Variant:
	if typeof(value) == TYPE_DICTIONARY:
		if value.size() == 1 and value.has("$int"):
			return String(value["$int"]).to_int()
		if value.size() == 1 and value.has("$float"):
			return float(value["$float"])
		if value.size() == 1 and value.has("$bin"):
			return Marshalls.base64_to_raw(value["$bin"])
		var out: Dictionary = {}
		for key: Variant in value:
			out[key] = from_typed(value[key])
		return out
	if typeof(value) == TYPE_ARRAY:
		var items: Array = []
		for item: Variant in value:
			items.append(from_typed(item))
		return items
	return value


static func _show(value: Variant) -> String:
	var text := "%s(%s)" % [type_string(typeof(value)), str(value)]
	return text.substr(0, 160) + ("…" if text.length() > 160 else "")
