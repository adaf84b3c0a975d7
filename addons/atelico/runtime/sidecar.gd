## Launches the Atelico sidecar for the running game and stops it with the game.
##
## Registered by the plugin as the [code]AtelicoSidecar[/code] autoload. When the game runs from the
## editor (and [code]auto_launch_in_editor[/code] is on), or in an exported game with
## [code]auto_launch_in_exported_games[/code] (on by default), it starts [code]python -m atelico
## serve --port P --exit-with-parent --parent-pid <game pid>[/code] as the launch contract says. An
## exported game launches the bundled sidecar ([code]atelico-sidecar/atelico-sidecar[/code] beside
## the game, put there by the export plugin; [AtelicoBundleLocator]) with the same arguments minus
## [code]-m atelico[/code]; without a bundle it launches nothing unless a Python is configured
## (setting or [code]ATELICO_PYTHON[/code]). The editor always uses Python
## ([code]docs/launch.md[/code]). A fresh random token goes through the [code]ATELICO_TOKEN[/code]
## environment variable, never the command line ([method OS.execute_with_pipe] has no environment
## parameter, so it is set with [method OS.set_environment] just before the spawn, which the child
## inherits, and restored right after). The stdin/stdout pipe is held (the sidecar exits when it
## closes or when this process is gone); the stderr pipe is held but never read while the sidecar
## runs (the sidecar copes with a full stderr): logs are read from its log file (the
## [code]ATELICO_LOG path=[/code] line), and stderr only after an early exit, for a Python that
## failed before logging. It polls [code]/health/ready[/code] and emits [signal sidecar_ready], or
## [signal sidecar_failed] with the reason and the log file's tail (a [code]status: error[/code]
## answer ends the wait at once). [AtelicoCoreNode] picks the URL and token up automatically.
extends Node

## The sidecar answers /health/ready.
signal sidecar_ready(url: String)
## The sidecar could not start; [param log_tail] holds its log file's last lines.
signal sidecar_failed(message: String, log_tail: String)

## How many sidecar log lines are quoted in error messages.
const LOG_LINES: int = 50
## The environment variable that carries the token (docs/launch_spec.json).
const TOKEN_ENV: String = "ATELICO_TOKEN"
## An environment variable naming the Python to launch (second in the search order).
const PYTHON_ENV: String = "ATELICO_PYTHON"
const LOG_LINE_PREFIX: String = "ATELICO_LOG path="
## How many folders up from the project a [code].venv[/code] is looked for (a checkout).
const VENV_SEARCH_DEPTH: int = 3

var _url: String = ""
var _token: String = ""
var _port: int = 0
var _pid: int = -1
var _stdio: FileAccess = null
var _stderr: FileAccess = null
var _log_path: String = ""
var _partial_line: String = ""
var _log: PackedStringArray = PackedStringArray()
var _deadline_ms: int = 0
var _http: HTTPRequest = null
var _state: String = "idle"


func _ready() -> void:
	process_mode = Node.PROCESS_MODE_ALWAYS
	if OS.has_feature("web") or not _should_launch():
		return
	var problem := start()
	if not problem.is_empty():
		_fail(problem)


## WebSocket URL of the sidecar this node launched ([code]""[/code] when none).
func get_url() -> String:
	return _url


## Token of the sidecar this node launched.
func get_token() -> String:
	return _token


## [code]idle[/code], [code]starting[/code], [code]ready[/code], [code]failed[/code] or
## [code]stopped[/code].
func get_state() -> String:
	return _state


## The last lines of the sidecar's log file (its stdout lines until it printed the file).
func get_log_tail() -> String:
	if not _log_path.is_empty() and FileAccess.file_exists(_log_path):
		var tail := tail_of_file(_log_path, LOG_LINES)
		if not tail.is_empty():
			return tail
	return "\n".join(_log)


## The log file the sidecar reported ([code]""[/code] until its [code]ATELICO_LOG[/code] line).
func get_log_path() -> String:
	return _log_path


## Starts the sidecar; returns an error message or [code]""[/code].
func start() -> String:
	if _pid > 0 and OS.is_process_running(_pid):
		return ""
	var program := resolve_program()
	var python: String = program["path"]
	if python.is_absolute_path() and not FileAccess.file_exists(python):
		return "Python not found at %s (set %s)" % [python, AtelicoSettings.PYTHON_PATH]
	_port = int(AtelicoSettings.get_value(AtelicoSettings.PORT))
	if _port == 0:
		_port = find_free_port()
	elif not is_port_free(_port):
		return "port %d is already taken (change %s)" % [_port, AtelicoSettings.PORT]
	var crypto := Crypto.new()
	_token = crypto.generate_random_bytes(16).hex_encode()
	var args := program_arguments(
		program["bundled"],
		_port,
		OS.get_process_id(),
		str(AtelicoSettings.get_value(AtelicoSettings.PRELOAD_MODELS))
	)
	for extra in str(AtelicoSettings.get_value(AtelicoSettings.EXTRA_ARGS)).split(" ", false):
		args.append(extra)
	var previous_token := OS.get_environment(TOKEN_ENV)
	OS.set_environment(TOKEN_ENV, _token)  # inherited by the child: never in its argv
	var info := OS.execute_with_pipe(python, args, false)
	if previous_token.is_empty():
		OS.unset_environment(TOKEN_ENV)
	else:
		OS.set_environment(TOKEN_ENV, previous_token)
	if info.is_empty():
		return (
			"could not run %s (is Python installed? set %s)" % [python, AtelicoSettings.PYTHON_PATH]
		)
	_pid = info["pid"]
	_stdio = info["stdio"]  # held: its closing (this process gone) makes the sidecar exit
	_stderr = info.get("stderr")  # held, read only after an early exit (see _early_output)
	_log_path = ""
	_url = "ws://127.0.0.1:%d/v1/ws" % _port
	_state = "starting"
	_deadline_ms = (
		Time.get_ticks_msec()
		+ int(float(AtelicoSettings.get_value(AtelicoSettings.READY_TIMEOUT_S)) * 1000.0)
	)
	_http = HTTPRequest.new()
	_http.timeout = 2.0
	add_child(_http)
	_http.request_completed.connect(_on_health)
	_poll_health.call_deferred()
	return ""


## Kills the sidecar this node started (idempotent).
func stop() -> void:
	if _pid > 0 and OS.is_process_running(_pid):
		OS.kill(_pid)
	_pid = -1
	_stdio = null  # closing our end of its stdin also tells the sidecar to exit
	if _state == "starting" or _state == "ready":
		_state = "stopped"


func _process(_delta: float) -> void:
	_read_output()
	if _state == "starting":
		if _pid > 0 and not OS.is_process_running(_pid):
			var code := OS.get_process_exit_code(_pid)
			_fail("the sidecar exited during start-up (exit code %d)" % code, true)
		elif Time.get_ticks_msec() > _deadline_ms:
			stop()
			_fail("the sidecar was not ready within the timeout")


func _notification(what: int) -> void:
	if what == NOTIFICATION_WM_CLOSE_REQUEST or what == NOTIFICATION_PREDELETE:
		stop()


func _exit_tree() -> void:
	stop()


func _should_launch() -> bool:
	if not OS.get_environment("ATELICO_SIDECAR_URL").is_empty():
		return false  # someone else runs it
	if OS.has_feature("editor"):
		return bool(AtelicoSettings.get_value(AtelicoSettings.AUTO_LAUNCH_IN_EDITOR))
	var bundle := AtelicoBundleLocator.find_for_this_game()
	var launch := launch_in_exported_game(
		bool(AtelicoSettings.get_value(AtelicoSettings.AUTO_LAUNCH_IN_EXPORTED_GAMES)),
		bundle,
		str(AtelicoSettings.get_value(AtelicoSettings.PYTHON_PATH)),
		OS.get_environment(PYTHON_ENV)
	)
	if not launch and bundle.is_empty():
		push_warning(
			(
				"Atelico: no bundled sidecar beside this game (looked in %s): none launched"
				% [AtelicoBundleLocator.candidates(OS.get_executable_path(), OS.get_name())]
			)
		)
	return launch


## Whether an exported game launches a sidecar: [param enabled]
## ([code]auto_launch_in_exported_games[/code]) and a bundle was found, or a Python was
## configured explicitly (players have no Python of their own).
static func launch_in_exported_game(
	enabled: bool, bundle: String, configured_python: String, python_env: String
) -> bool:
	if not enabled:
		return false
	return not (bundle.is_empty() and configured_python.is_empty() and python_env.is_empty())


## What to launch: in an exported game the bundle beside it when there is one, else Python
## ([method resolve_python]). [code]{path, bundled}[/code].
static func resolve_program() -> Dictionary:
	var bundle := "" if OS.has_feature("editor") else AtelicoBundleLocator.find_for_this_game()
	return choose_program(bundle, resolve_python())


## [method resolve_program] with its inputs given: the bundle when found, else Python.
static func choose_program(bundle: String, python: String) -> Dictionary:
	if not bundle.is_empty():
		return {"path": bundle, "bundled": true}
	return {"path": python, "bundled": false}


## [method launch_arguments] for the program: a bundle executable takes them without
## [code]-m atelico[/code] (it is the [code]atelico[/code] command itself).
static func program_arguments(
	bundled: bool, port: int, parent_pid: int, preload_models: String
) -> PackedStringArray:
	var args := launch_arguments(port, parent_pid, preload_models)
	return args.slice(2) if bundled else args


func _poll_health() -> void:
	if _state != "starting" or _http == null:
		return
	var url := "http://127.0.0.1:%d/health/ready" % _port
	if _http.request(url, ["Authorization: Bearer " + _token]) != OK:
		get_tree().create_timer(0.5).timeout.connect(_poll_health)


func _on_health(
	_result: int, code: int, _headers: PackedStringArray, body: PackedByteArray
) -> void:
	if _state != "starting":
		return
	var verdict := readiness_verdict(code, body.get_string_from_utf8())
	if verdict == "ready":
		_state = "ready"
		sidecar_ready.emit(_url)
		return
	if verdict != "waiting":
		stop()
		_fail(verdict)
		return
	get_tree().create_timer(0.5).timeout.connect(_poll_health)


func _read_output() -> void:
	if _stdio == null:
		return
	var chunk := _stdio.get_buffer(65536)
	if chunk.is_empty():
		return
	var lines := (_partial_line + chunk.get_string_from_utf8()).split("\n")
	_partial_line = lines[lines.size() - 1]
	for i in lines.size() - 1:
		var line := lines[i].strip_edges(false, true)
		if line.begins_with(LOG_LINE_PREFIX):
			_log_path = line.substr(LOG_LINE_PREFIX.length())
		_log.append(line)
	if _log.size() > LOG_LINES:
		_log = _log.slice(_log.size() - LOG_LINES)


func _fail(message: String, exited: bool = false) -> void:
	_read_output()
	_state = "failed"
	var tail := get_log_tail()
	var early := _early_output() if exited else ""
	if not early.is_empty():
		tail += "\n--- stderr ---\n" + early
	push_error("Atelico sidecar: %s\n--- last lines of %s ---\n%s" % [message, _log_path, tail])
	sidecar_failed.emit(message, tail)


## What a sidecar that already exited wrote to stderr (a traceback before its logging started);
## never read while it runs. The pipe is non-blocking ([code]execute_with_pipe(..., false)[/code]).
func _early_output() -> String:
	if _stderr == null:
		return ""
	var text := _stderr.get_buffer(65536).get_string_from_utf8().strip_edges()
	_stderr = null
	var lines := text.split("\n")
	return "\n".join(lines.slice(maxi(0, lines.size() - LOG_LINES)))


## True when nothing listens on 127.0.0.1:[param port].
static func is_port_free(port: int) -> bool:
	var probe := TCPServer.new()
	var ok := probe.listen(port, "127.0.0.1") == OK
	probe.stop()
	return ok


## A port the OS reports free right now.
static func find_free_port() -> int:
	var probe := TCPServer.new()
	if probe.listen(0, "127.0.0.1") != OK:
		return 11434
	var port := probe.get_local_port()
	probe.stop()
	return port


## The arguments of [code]python[/code] per the launch contract (docs/launch_spec.json).
static func launch_arguments(
	port: int, parent_pid: int, preload_models: String
) -> PackedStringArray:
	return PackedStringArray(
		[
			"-m",
			"atelico",
			"serve",
			"--host",
			"127.0.0.1",
			"--port",
			str(port),
			"--exit-with-parent",
			"--parent-pid",
			str(parent_pid),
			"--preload",
			preload_models,
		]
	)


## What a [code]/health/ready[/code] answer means: [code]"ready"[/code] (200),
## [code]"waiting"[/code] (no answer yet, or 503 [code]status: loading[/code]), else the failure
## to report at once ([code]status: error[/code] with its [code]error.code[/code] and message).
static func readiness_verdict(http_code: int, body: String) -> String:
	if http_code == 200:
		return "ready"
	var parsed: Variant = JSON.parse_string(body) if not body.is_empty() else null
	if http_code != 503 or not parsed is Dictionary or parsed.get("status") != "error":
		return "waiting"
	var error: Variant = parsed.get("error")
	if error is Dictionary:
		return "the sidecar cannot become ready: %s: %s" % [error.get("code"), error.get("message")]
	return "the sidecar cannot become ready: %s" % [parsed.get("errors", [])]


## The Python to launch, searched in this order (docs/launch.md): the project setting
## [code]atelico/sidecar/python_path[/code], the [code]ATELICO_PYTHON[/code] environment
## variable, a [code].venv[/code] in the project folder or up to [constant VENV_SEARCH_DEPTH]
## folders above it (a checkout of the Atelico repository), then [code]python3[/code]
## ([code]python[/code] on Windows) on PATH.
static func resolve_python() -> String:
	var base := (
		ProjectSettings.globalize_path("res://")
		if OS.has_feature("editor")
		else OS.get_executable_path().get_base_dir()
	)
	return find_python(
		str(AtelicoSettings.get_value(AtelicoSettings.PYTHON_PATH)),
		OS.get_environment(PYTHON_ENV),
		base,
		OS.get_name() == "Windows",
		func(path: String) -> bool: return FileAccess.file_exists(path)
	)


## [method resolve_python] with its inputs given ([param exists] tells whether a file exists).
static func find_python(
	configured: String, from_env: String, project_dir: String, windows: bool, exists: Callable
) -> String:
	if not configured.is_empty():
		return ProjectSettings.globalize_path(configured)
	if not from_env.is_empty():
		return from_env
	var folder := project_dir.simplify_path()
	for _level in VENV_SEARCH_DEPTH + 1:
		for candidate in [folder + "/.venv/bin/python", folder + "/.venv/Scripts/python.exe"]:
			if exists.call(candidate):
				return candidate
		var parent := folder.get_base_dir()
		if parent == folder or parent.is_empty():
			break
		folder = parent
	return "python" if windows else "python3"


## The last [param lines] lines of a text file (read from its end, at most 64 KB).
static func tail_of_file(path: String, lines: int) -> String:
	var file := FileAccess.open(path, FileAccess.READ)
	if file == null:
		return ""
	var size := file.get_length()
	var start := maxi(0, size - 65536)
	file.seek(start)
	var text := file.get_buffer(size - start).get_string_from_utf8()
	var all := text.strip_edges(false, true).split("\n")
	if start > 0 and all.size() > 1:
		all = all.slice(1)  # the first line was cut
	return "\n".join(all.slice(maxi(0, all.size() - lines)))
