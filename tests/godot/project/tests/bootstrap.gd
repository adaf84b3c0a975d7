## Loads every script of the pack, reports failures, then runs the test suites; beats every
## 5 s meanwhile (a [code]beat[/code] event with the frame count).
##
## The web runtime is a release build: script errors are not printed and assert() is a
## no-op, so every outcome is reported as an ATELICO_EVENT line (forwarded by the page).
extends Node

const EVENT_PREFIX: String = "ATELICO_EVENT "
const COVERAGE_SCRIPT: String = "res://tests/coverage_hits.gd"
## The heartbeat's period (wall time): the harness tells a frozen page from a slow run by it.
const BEAT_MS: int = 5000

var _last_beat_ms: int = 0


func _ready() -> void:
	process_mode = Node.PROCESS_MODE_ALWAYS  # beats on while a test pauses the tree
	_run.call_deferred()


func _process(_delta: float) -> void:
	var now := Time.get_ticks_msec()
	if now - _last_beat_ms >= BEAT_MS:
		_last_beat_ms = now
		emit_event({"event": "beat", "frames": Engine.get_process_frames(), "ms": now})


func emit_event(fields: Dictionary) -> void:
	print(EVENT_PREFIX + JSON.stringify(fields))


func _run() -> void:
	var manifest: Dictionary = JSON.parse_string(
		FileAccess.get_file_as_string("res://manifest.json")
	)
	if manifest.get("dump_api", false):
		_dump_api()
		emit_event({"event": "done", "passed": 0, "failed": 0, "all_loaded": true})
		get_tree().quit(0)
		return
	var suites: Array[String] = []
	var all_loaded := true
	for path: String in manifest["scripts"]:
		var script: Script = load(path)
		if script == null or not script.can_instantiate():
			all_loaded = false
			emit_event({"event": "load_failed", "path": path, "message": "load() failed"})
			continue
		emit_event({"event": "loaded", "path": path})
		if path.get_file().begins_with("test_"):
			suites.append(path)
	var wanted: Array = manifest.get("suites", [])
	var name_filter: String = manifest.get("filter", "")
	var passed := 0
	var failed := 0
	for path in suites:
		var suite_name := path.get_file().get_basename()
		if not wanted.is_empty() and not wanted.has(suite_name):
			continue
		var script: Script = load(path)
		var suite: AtelicoTestCase = script.new()
		suite.root = self
		suite.manifest = manifest
		var missing: Array = suite.required_config().filter(
			func(key: String) -> bool: return not manifest.has(key)
		)
		if not missing.is_empty():
			emit_event({"event": "skip", "name": suite_name, "message": "needs %s" % [missing]})
			continue
		if not await suite.before_all():
			failed += 1
			var why := "before_all() returned false: " + suite.setup_problem
			emit_event({"event": "fail", "name": suite_name + ".before_all", "message": why})
			continue
		for method in script.get_script_method_list():
			var method_name: String = method["name"]
			if not method_name.begins_with("test_"):
				continue
			var full := "%s.%s" % [suite_name, method_name]
			if not name_filter.is_empty() and not full.contains(name_filter):
				continue
			emit_event({"event": "start", "name": full})
			suite.begin()
			var t0 := Time.get_ticks_msec()
			await suite.call(method_name)
			await suite.after_each()
			var ms := Time.get_ticks_msec() - t0
			if suite.ok():
				passed += 1
				emit_event({"event": "pass", "name": full, "ms": ms})
			else:
				failed += 1
				emit_event({"event": "fail", "name": full, "message": suite.report(), "ms": ms})
		await suite.after_all()
	# Instrumented runs (tests/godot/gd_coverage.py) pack this class with the line counters.
	if FileAccess.file_exists(COVERAGE_SCRIPT):
		var counters: Script = load(COVERAGE_SCRIPT)
		emit_event({"event": "coverage", "hits": Array(counters.call("snapshot"))})
	emit_event({"event": "done", "passed": passed, "failed": failed, "all_loaded": all_loaded})
	await get_tree().create_timer(0.5).timeout
	get_tree().quit(0 if failed == 0 and all_loaded else 1)


## Emits this engine's class API (tests/godot/check_api.py checks the add-on against it):
## per class its parent, methods (min/max argument counts, static, vararg), properties,
## signals and constants, one event per class; then the singletons.
func _dump_api() -> void:
	for class_id: String in ClassDB.get_class_list():
		var methods: Dictionary = {}
		for info: Dictionary in ClassDB.class_get_method_list(class_id, true):
			var count: int = info["args"].size()
			var flags: int = info["flags"]
			methods[info["name"]] = [
				count - info["default_args"].size(),
				-1 if flags & METHOD_FLAG_VARARG else count,
				flags & METHOD_FLAG_STATIC != 0,
			]
		var properties: Array = []
		for info: Dictionary in ClassDB.class_get_property_list(class_id, true):
			if (
				info["usage"]
				& (PROPERTY_USAGE_CATEGORY | PROPERTY_USAGE_GROUP | PROPERTY_USAGE_SUBGROUP)
			):
				continue
			properties.append(info["name"])
		var signals: Array = []
		for info: Dictionary in ClassDB.class_get_signal_list(class_id, true):
			signals.append(info["name"])
		var entry := {
			"parent": str(ClassDB.get_parent_class(class_id)),
			"methods": methods,
			"properties": properties,
			"signals": signals,
			"constants": Array(ClassDB.class_get_integer_constant_list(class_id, true)),
			"enums": Array(ClassDB.class_get_enum_list(class_id, true)),
		}
		emit_event({"event": "api_class", "name": class_id, "api": entry})
	var singletons: Dictionary = {}
	for singleton_name: String in Engine.get_singleton_list():
		var object := Engine.get_singleton(singleton_name)
		if object != null:
			singletons[singleton_name] = object.get_class()
	singletons["$version"] = Engine.get_version_info()["string"]
	emit_event({"event": "api_singletons", "singletons": singletons})
