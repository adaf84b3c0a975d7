## Launches the Atelico sidecar for the running game and stops it with the game.
##
## Registered by the plugin as the [code]AtelicoSidecar[/code] autoload. When the game runs
## from the editor (and [code]auto_launch_in_editor[/code] is on), or in an exported game with
## [code]auto_launch_in_exported_games[/code], it starts
## [code]python -m atelico serve --port P --token T --exit-with-parent[/code] with a fresh
## random token, polls [code]/health/ready[/code] and emits [signal sidecar_ready] or
## [signal sidecar_failed]
## with the sidecar's last log lines. The process is killed when the game exits, and
## [code]--exit-with-parent[/code] makes the sidecar exit by itself if the game is killed, so
## no orphan is left behind. [AtelicoCoreNode] picks the URL and token up automatically.
extends Node

## The sidecar answers /health/ready.
signal sidecar_ready(url: String)
## The sidecar could not start; [param log_tail] holds its last output lines.
signal sidecar_failed(message: String, log_tail: String)

## How many sidecar output lines are kept for error messages.
const LOG_LINES: int = 50

var _url: String = ""
var _token: String = ""
var _port: int = 0
var _pid: int = -1
var _stdio: FileAccess = null
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


## The sidecar's last output lines.
func get_log_tail() -> String:
	return "\n".join(_log)


## Starts the sidecar; returns an error message or [code]""[/code].
func start() -> String:
	if _pid > 0 and OS.is_process_running(_pid):
		return ""
	var python := AtelicoSettings.resolve_python()
	if python.is_absolute_path() and not FileAccess.file_exists(python):
		return "Python not found at %s (set %s)" % [python, AtelicoSettings.PYTHON_PATH]
	_port = int(AtelicoSettings.get_value(AtelicoSettings.PORT))
	if _port == 0:
		_port = find_free_port()
	elif not is_port_free(_port):
		return "port %d is already taken (change %s)" % [_port, AtelicoSettings.PORT]
	var crypto := Crypto.new()
	_token = crypto.generate_random_bytes(16).hex_encode()
	var args := PackedStringArray(
		[
			"-m",
			"atelico",
			"serve",
			"--host",
			"127.0.0.1",
			"--port",
			str(_port),
			"--token",
			_token,
			"--exit-with-parent",
			"--preload",
			str(AtelicoSettings.get_value(AtelicoSettings.PRELOAD_MODELS)),
		]
	)
	for extra in str(AtelicoSettings.get_value(AtelicoSettings.EXTRA_ARGS)).split(" ", false):
		args.append(extra)
	var info := OS.execute_with_pipe(python, args, false)
	if info.is_empty():
		return (
			"could not run %s (is Python installed? set %s)" % [python, AtelicoSettings.PYTHON_PATH]
		)
	_pid = info["pid"]
	_stdio = info["stdio"]
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
	if _state == "starting" or _state == "ready":
		_state = "stopped"


func _process(_delta: float) -> void:
	_read_output()
	if _state == "starting":
		if _pid > 0 and not OS.is_process_running(_pid):
			_fail("the sidecar exited during start-up")
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
	return bool(AtelicoSettings.get_value(AtelicoSettings.AUTO_LAUNCH_IN_EXPORTED_GAMES))


func _poll_health() -> void:
	if _state != "starting" or _http == null:
		return
	var url := "http://127.0.0.1:%d/health/ready" % _port
	if _http.request(url, ["Authorization: Bearer " + _token]) != OK:
		get_tree().create_timer(0.5).timeout.connect(_poll_health)


func _on_health(
	_result: int, code: int, _headers: PackedStringArray, _body: PackedByteArray
) -> void:
	if _state != "starting":
		return
	if code == 200:
		_state = "ready"
		sidecar_ready.emit(_url)
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
		_log.append(lines[i].strip_edges(false, true))
	if _log.size() > LOG_LINES:
		_log = _log.slice(_log.size() - LOG_LINES)


func _fail(message: String) -> void:
	_read_output()
	_state = "failed"
	var tail := get_log_tail()
	push_error("Atelico sidecar: %s\n--- last sidecar output ---\n%s" % [message, tail])
	sidecar_failed.emit(message, tail)


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
