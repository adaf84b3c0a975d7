## The launcher's contract pieces in sidecar.gd (docs/launch.md), run in the real engine:
## arguments, the readiness verdict, the Python search order and the log-file tail.
extends AtelicoTestCase

const Sidecar := preload("res://addons/atelico/runtime/sidecar.gd")


## No token in argv; --parent-pid carries the given pid; --exit-with-parent is there.
func test_launch_arguments_follow_the_contract() -> void:
	var args := Sidecar.launch_arguments(4321, 777, "tts,face")
	check(not args.has("--token"), "no --token: %s" % [args])
	var at := args.find("--parent-pid")
	check(at >= 0 and args[at + 1] == "777", "--parent-pid 777: %s" % [args])
	check(args.has("--exit-with-parent"), "--exit-with-parent")
	check_eq(args[args.find("--port") + 1], "4321", "port")
	check_eq(args[args.find("--preload") + 1], "tts,face", "preload")
	check_eq(args.slice(0, 3), PackedStringArray(["-m", "atelico", "serve"]), "module")


## 200 is ready; no answer or 503 loading keeps waiting; 503 error stops at once with the code.
func test_readiness_verdict() -> void:
	check_eq(Sidecar.readiness_verdict(200, '{"status":"ready"}'), "ready", "200")
	check_eq(Sidecar.readiness_verdict(0, ""), "waiting", "no answer yet")
	check_eq(Sidecar.readiness_verdict(503, '{"status":"loading"}'), "waiting", "loading")
	var body := (
		'{"status":"error","error":{"code":"model.unknown","message":"preloading \'nope\': '
		+ 'unknown model"},"errors":[]}'
	)
	var verdict := Sidecar.readiness_verdict(503, body)
	check(verdict.contains("model.unknown"), "code in %s" % verdict)
	check(verdict.contains("unknown model"), "message in %s" % verdict)
	check(verdict != "waiting" and verdict != "ready", "final")


## Setting, then ATELICO_PYTHON, then a .venv in the project or up to 3 folders above, then PATH.
func test_python_search_order() -> void:
	var files := {
		"/repo/.venv/bin/python": true,
		"/games/demo/.venv/Scripts/python.exe": true,
	}
	var exists := func(path: String) -> bool: return files.has(path)
	check_eq(
		Sidecar.find_python("/opt/py", "/env/py", "/repo/examples/godot_demo", false, exists),
		"/opt/py",
		"1"
	)
	check_eq(
		Sidecar.find_python("", "/env/py", "/repo/examples/godot_demo", false, exists),
		"/env/py",
		"2"
	)
	check_eq(
		Sidecar.find_python("", "", "/repo/examples/godot_demo", false, exists),
		"/repo/.venv/bin/python",
		"3: a checkout's .venv two folders up"
	)
	check_eq(
		Sidecar.find_python("", "", "/games/demo", true, exists),
		"/games/demo/.venv/Scripts/python.exe",
		"3: the project's own Windows .venv"
	)
	check_eq(Sidecar.find_python("", "", "/a/b/c/d/e", false, exists), "python3", "4: PATH (POSIX)")
	check_eq(Sidecar.find_python("", "", "/a/b/c/d/e", true, exists), "python", "4: PATH (Windows)")
	check_eq(
		Sidecar.find_python(
			"", "", "/x/y/z/w", false, func(p: String) -> bool: return p == "/x/.venv/bin/python"
		),
		"/x/.venv/bin/python",
		"depth 3 reached"
	)
	check_eq(
		Sidecar.find_python(
			"", "", "/x/y/z/w/v", false, func(p: String) -> bool: return p == "/x/.venv/bin/python"
		),
		"python3",
		"depth 4 not searched"
	)


## The failure report quotes the log file's last lines, not an empty stdout buffer.
func test_tail_of_file() -> void:
	var path := "user://launch_tail.log"
	var file := FileAccess.open(path, FileAccess.WRITE)
	for i in 200:
		file.store_line("line %d" % i)
	file.close()
	var tail := Sidecar.tail_of_file(path, 3)
	check_eq(tail, "line 197\nline 198\nline 199", "last three lines")
	check_eq(Sidecar.tail_of_file("user://missing.log", 3), "", "missing file")
