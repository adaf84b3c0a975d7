## The launcher autoload (runtime/sidecar.gd) where a web build can run it: it must not try
## to launch (no processes on the Web platform), and an explicit start() fails with a clear
## message instead of hanging. Launching for real is covered by tests/launch (Python) and,
## for the contract pieces, by test_launch.gd.
extends AtelicoTestCase

const Launcher := preload("res://addons/atelico/runtime/sidecar.gd")

var _node: Node = null


func after_each() -> void:
	if _node != null:
		_node.queue_free()
		_node = null
	await root.get_tree().process_frame


## In the tree on the Web platform it stays idle: no URL, no token, nothing to stop.
func test_web_build_does_not_launch() -> void:
	_node = Launcher.new()
	var events: Array = []
	_node.sidecar_ready.connect(func(url: String) -> void: events.append(["ready", url]))
	_node.sidecar_failed.connect(func(m: String, _t: String) -> void: events.append(["failed", m]))
	root.add_child(_node)
	await root.get_tree().process_frame
	check_eq(_node.get_state(), "idle", "idle")
	check_eq(_node.get_url(), "", "no URL")
	check_eq(_node.get_log_tail(), "", "no log")
	check_eq(events, [], "no signal")
	_node.stop()
	check_eq(_node.get_state(), "idle", "stop() while idle keeps idle")


## start() where processes cannot run returns the reason (naming Python) at once.
func test_start_without_process_support_reports_why() -> void:
	_node = Launcher.new()
	root.add_child(_node)
	var problem: String = _node.start()
	check(not problem.is_empty(), "a reason")
	check(problem.to_lower().contains("python"), "names Python: %s" % problem)
	check(_node.get_state() != "ready", "not ready")
	_node.stop()
	await root.get_tree().process_frame
	check(_node.get_state() != "ready", "still not ready after a frame")


## The port probes answer without a socket API: no free port is claimed where none can be
## bound, and the fallback is the documented default port.
func test_port_probes_without_sockets() -> void:
	check(not Launcher.is_port_free(1), "nothing can be bound here")
	check_eq(Launcher.find_free_port(), 11434, "default port when none can be probed")
