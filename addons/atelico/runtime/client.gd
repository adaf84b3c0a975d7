## WebSocket client for the Atelico protocol: handshake, request bookkeeping, reconnects.
##
## Drive it by calling [method poll] every frame (the [AtelicoCoreNode] does this); every
## signal is emitted from inside [method poll], i.e. on the thread that polls (the main
## thread for the core node). Guarantees: each [AtelicoRequest] completes exactly once;
## when the socket drops (or the server sends a frame that cannot be decoded: the client then
## closes the socket), every request already sent completes with [code]connection.lost[/code]
## while requests not yet sent wait for the reconnect (at most [member queue_timeout_s],
## then [code]connection.unavailable[/code]); [method close] ends every request with
## [code]client.closed[/code]. Reconnects back off exponentially. The client-side codes are
## those of docs/protocol.md ("Client-side codes"), shared with the other Atelico clients.
class_name AtelicoClient
extends RefCounted

## The handshake completed; [param welcome] is the server's welcome data.
signal connected(welcome: Dictionary)
## The connection was lost or closed ([param code] e.g. [code]connection.lost[/code]).
signal disconnected(code: String, reason: String)
## A connection-level [code]error[/code] from the server (no request id).
signal server_error(code: String, message: String)

enum State { IDLE, CONNECTING, HANDSHAKE, READY, CLOSED }

## Protocol version this client speaks.
const PROTOCOL_VERSION: int = 1
const CLIENT_NAME: String = "atelico-godot"
const CLIENT_VERSION: String = "0.1.0"
## Errors after which reconnecting cannot help.
const FATAL_CODES: PackedStringArray = ["auth.invalid_token", "protocol.version"]

## [code]ws://127.0.0.1:<port>/v1/ws[/code]
## Follow-ups a queued request may hold (see [method send_follow_up]).
const MAX_HELD := 4096

var url: String = ""
## Launch token sent in [code]hello[/code] (empty when the sidecar has none).
var token: String = ""
## Reconnect automatically after a drop or a failed attempt.
var auto_reconnect: bool = true
## First and largest delay between reconnect attempts.
var reconnect_min_s: float = 0.25
var reconnect_max_s: float = 5.0
## Seconds a connection attempt may take: the socket must open within it
## ([code]connection.unavailable[/code] otherwise), then the welcome must arrive within it
## ([code]connection.handshake_timeout[/code] otherwise).
var connect_timeout_s: float = 10.0
## Seconds a request may wait for a connection before ending with
## [code]connection.unavailable[/code].
var queue_timeout_s: float = 30.0
## Socket buffers (bytes); must hold the largest frame ([code]limits.max_frame_bytes[/code]).
var buffer_bytes: int = 16 * 1024 * 1024
## Current state.
var state: State = State.IDLE
## The last welcome data (models, capabilities, limits).
var welcome: Dictionary = {}
## The last connection problem as [code]<code>: <message>[/code], e.g.
## [code]auth.invalid_token: wrong or missing token[/code]; empty after a welcome.
var last_error: String = ""
## The code of [member last_error]: [code]connection.unavailable[/code] (the socket could not
## be opened, or closed before the welcome), [code]connection.handshake_timeout[/code],
## [code]connection.lost[/code] (it closed or dropped after the welcome, or sent an
## undecodable frame) or the server's handshake error (e.g. [code]auth.invalid_token[/code]).
var last_error_code: String = ""

var _socket: WebSocketPeer = null
var _pending: Dictionary = {}
var _queue: Array[AtelicoRequest] = []
var _to_finish: Array = []
var _next_id: int = 0
var _attempt_started_ms: int = 0
var _retry_at_ms: int = 0
var _backoff_s: float = 0.0
var _max_in_flight: int = 16
# True once the current socket's problem is recorded in last_error (so a close that follows
# a handshake error or a timeout keeps that more precise code).
var _socket_error_set: bool = false


func _init(server_url: String = "", launch_token: String = "") -> void:
	url = server_url
	token = launch_token


## Starts connecting (also done lazily by the first [method poll] after a request).
func open() -> void:
	if state == State.CLOSED:
		state = State.IDLE
	if state == State.IDLE:
		_connect_now()


## Closes for good: every request (sent or queued) completes with [code]client.closed[/code].
func close() -> void:
	if state == State.CLOSED:
		return
	state = State.CLOSED
	if _socket != null:
		_socket.close(1000, "client closed")
		_socket = null
	_fail_all("client.closed", "the client was closed", true)
	_flush_finished()


## True when the handshake is done and requests go out immediately.
func is_ready() -> bool:
	return state == State.READY


## Requests that have not ended yet (sent or waiting to be sent).
func in_flight_count() -> int:
	return _pending.size() + _queue.size()


## Starts a request. It is sent as soon as the connection is ready.
func request(
	type: String, data: Dictionary = {}, payload: Variant = null, timeout_s: float = 0.0
) -> AtelicoRequest:
	var req := AtelicoRequest.new()
	_next_id += 1
	req.id = "g%d" % _next_id
	req.type = type
	req.data = data
	if payload != null:
		req.payload = payload
		req.has_payload = true
	req.timeout_s = timeout_s
	req.queued_ms = Time.get_ticks_msec()
	if state == State.CLOSED:
		_to_finish.append(
			[req, AtelicoMessage.make_error(req.id, "client.closed", "the client was closed")]
		)
		return req
	_queue.append(req)
	if state == State.IDLE:
		_connect_now()
	elif state == State.READY:
		_flush_queue()
	return req


## Sends a follow-up message of an open request (e.g. [code]stt.live.audio[/code],
## [code]tts.text[/code]) with the request's id. A request still queued keeps up to
## [constant MAX_HELD] follow-ups and sends them right after itself, when [param hold]
## (live audio passes false: stale audio is better dropped). Returns false when the request
## is not open, or not running on a ready connection and not held.
func send_follow_up(
	req: AtelicoRequest,
	type: String,
	data: Dictionary = {},
	payload: Variant = null,
	hold: bool = false
) -> bool:
	if req.done:
		return false
	if not req.sent:
		if not hold or req.held.size() >= MAX_HELD or not _queue.has(req):
			return false
		req.held.append(AtelicoMessage.new(type, req.id, data, payload))
		return true
	if state != State.READY:
		return false
	return _send(AtelicoMessage.new(type, req.id, data, payload))


## Cancels a request: a queued one ends at once with [code]cancelled[/code]; a sent one is
## cancelled on the server, which answers [code]cancelled[/code] (or it ends otherwise first).
## [param data] rides on the cancel, e.g. [code]{"played_samples": n}[/code] for a barge-in.
func cancel(req: AtelicoRequest, data: Dictionary = {}) -> void:
	if req.done:
		return
	if not req.sent:
		_queue.erase(req)
		_to_finish.append([req, AtelicoMessage.new("cancelled", req.id, {})])
	elif state == State.READY:
		_send(AtelicoMessage.new("cancel", req.id, data))


## Pumps the socket, dispatches messages, handles timeouts and reconnects. Call every frame.
func poll() -> void:
	var now := Time.get_ticks_msec()
	_flush_finished()
	if state == State.IDLE:
		if not _queue.is_empty() and now >= _retry_at_ms:
			_connect_now()
	elif state != State.CLOSED and _socket != null:
		_socket.poll()
		var ready_state := _socket.get_ready_state()
		if ready_state == WebSocketPeer.STATE_OPEN and state == State.CONNECTING:
			state = State.HANDSHAKE
			_send_hello()
		# Frames that arrived before a close are still delivered before the close is handled.
		_read_packets()
		if ready_state == WebSocketPeer.STATE_CLOSED:
			_on_socket_closed()
		if (
			(state == State.CONNECTING or state == State.HANDSHAKE)
			and now - _attempt_started_ms > int(connect_timeout_s * 1000.0)
		):
			if state == State.HANDSHAKE:
				_set_error(
					"connection.handshake_timeout", "no welcome within %.1f s" % connect_timeout_s
				)
			else:
				_set_error(
					"connection.unavailable",
					"the socket did not open within %.1f s" % connect_timeout_s
				)
			_socket.close()
			_socket = null
			_on_socket_closed()
	_check_timeouts(now)
	_flush_finished()


func _connect_now() -> void:
	if url.is_empty():
		_set_error("connection.unavailable", "no sidecar url")
		state = State.IDLE
		_retry_at_ms = Time.get_ticks_msec() + 1000
		return
	_socket = WebSocketPeer.new()
	_socket.inbound_buffer_size = buffer_bytes
	_socket.outbound_buffer_size = buffer_bytes
	_socket.max_queued_packets = 4096
	_attempt_started_ms = Time.get_ticks_msec()
	_socket_error_set = false
	var err := _socket.connect_to_url(url)
	if err != OK:
		_set_error("connection.unavailable", "connect_to_url returned %s" % error_string(err))
		_socket = null
		_schedule_retry()
		return
	state = State.CONNECTING


func _send_hello() -> void:
	var fields: Dictionary = {
		"protocol": PROTOCOL_VERSION, "client": CLIENT_NAME, "client_version": CLIENT_VERSION
	}
	if not token.is_empty():
		fields["token"] = token
	_send(AtelicoMessage.new("hello", "", fields))


func _send(msg: AtelicoMessage) -> bool:
	if _socket == null:
		return false
	return _socket.put_packet(msg.encode()) == OK


func _read_packets() -> void:
	while _socket != null and _socket.get_available_packet_count() > 0:
		var packet := _socket.get_packet()
		if _socket.was_string_packet():
			push_warning("Atelico: ignoring a text frame from the server")
			continue
		var msg := AtelicoMessage.decode(packet)
		if not msg.is_valid():
			# A stream that cannot be parsed cannot be trusted: end the connection.
			push_warning("Atelico: undecodable frame from the server: " + msg.error)
			_set_error("connection.lost", "undecodable frame from the server: " + msg.error)
			# Browsers only accept close codes 1000 and 3000-4999 (a web export throws on 1002).
			_socket.close(1000, "undecodable frame")
			_socket = null
			_on_socket_closed()
			return
		_dispatch(msg)


func _dispatch(msg: AtelicoMessage) -> void:
	if state == State.HANDSHAKE:
		if msg.type == "welcome":
			welcome = msg.data
			var limits: Dictionary = welcome.get("limits", {})
			_max_in_flight = max(1, int(limits.get("max_in_flight", 16)))
			state = State.READY
			_backoff_s = 0.0
			last_error = ""
			last_error_code = ""
			_socket_error_set = false
			connected.emit(welcome)
			_flush_queue()
			return
		if msg.type == "error":
			var code := msg.error_code()
			_set_error(code, str(msg.data.get("message", "")))
			server_error.emit(code, str(msg.data.get("message", "")))
			if FATAL_CODES.has(code):
				auto_reconnect = false
				_fail_all(code, str(msg.data.get("message", "")), true)
		return
	if msg.id.is_empty():
		if msg.type == "error":
			server_error.emit(msg.error_code(), str(msg.data.get("message", "")))
		return
	var req: AtelicoRequest = _pending.get(msg.id)
	if req == null:
		return
	req.active_ms = Time.get_ticks_msec()
	if msg.is_terminal():
		_finish(req, msg)
		_flush_queue()
	else:
		req.message_received.emit(msg)


func _flush_queue() -> void:
	while state == State.READY and not _queue.is_empty() and _pending.size() < _max_in_flight:
		var req: AtelicoRequest = _queue.pop_front()
		var msg := AtelicoMessage.new(
			req.type, req.id, req.data, req.payload if req.has_payload else null
		)
		if not _send(msg):
			_to_finish.append(
				[req, AtelicoMessage.make_error(req.id, "request.send_failed", "could not send")]
			)
			continue
		req.sent = true
		req.sent_ms = Time.get_ticks_msec()
		req.active_ms = req.sent_ms
		_pending[req.id] = req
		for held in req.held:
			_send(held)
		req.held.clear()


func _on_socket_closed() -> void:
	var was_ready := state == State.READY
	if _socket != null and not _socket_error_set:
		var how := (
			"socket closed (code %d) %s" % [_socket.get_close_code(), _socket.get_close_reason()]
		)
		how = how.strip_edges()
		if was_ready:
			_set_error("connection.lost", "the connection to the sidecar was lost: " + how)
		else:
			_set_error("connection.unavailable", "could not connect to %s: %s" % [url, how])
	var reason := last_error
	_socket = null
	_fail_all("connection.lost", "the connection to the sidecar was lost", false)
	if was_ready:
		disconnected.emit("connection.lost", reason)
	if not auto_reconnect:
		_fail_all("connection.unavailable", last_error, true)
		state = State.IDLE
		return
	_schedule_retry()


func _schedule_retry() -> void:
	state = State.IDLE
	_backoff_s = (reconnect_min_s if _backoff_s <= 0.0 else minf(_backoff_s * 2.0, reconnect_max_s))
	_retry_at_ms = Time.get_ticks_msec() + int(_backoff_s * 1000.0)


## Ends every sent request with [param code]; with [param include_queued] also queued ones.
func _fail_all(code: String, text: String, include_queued: bool) -> void:
	for req: AtelicoRequest in _pending.values():
		_to_finish.append([req, AtelicoMessage.make_error(req.id, code, text)])
	_pending.clear()
	if include_queued:
		for req in _queue:
			_to_finish.append([req, AtelicoMessage.make_error(req.id, code, text)])
		_queue.clear()


func _check_timeouts(now: int) -> void:
	for req: AtelicoRequest in _pending.values():
		if req.timeout_s > 0.0 and now - req.active_ms > int(req.timeout_s * 1000.0):
			_send(AtelicoMessage.new("cancel", req.id, {}))
			_pending.erase(req.id)
			var text := "no message from the server for %.1f s" % req.timeout_s
			_to_finish.append([req, AtelicoMessage.make_error(req.id, "request.timeout", text)])
	for req in _queue.duplicate():
		if now - req.queued_ms > int(queue_timeout_s * 1000.0):
			_queue.erase(req)
			var text := "no connection to the sidecar within %.1f s" % queue_timeout_s
			if not last_error.is_empty():
				text += " (%s)" % last_error
			_to_finish.append(
				[req, AtelicoMessage.make_error(req.id, "connection.unavailable", text)]
			)


func _finish(req: AtelicoRequest, msg: AtelicoMessage) -> void:
	if req.done:
		return
	_pending.erase(req.id)
	_queue.erase(req)
	req.done = true
	req.result = msg
	req.completed.emit(msg)


func _flush_finished() -> void:
	while not _to_finish.is_empty():
		var item: Array = _to_finish.pop_front()
		_finish(item[0], item[1])


## Records the current connection problem ([member last_error], [member last_error_code]).
func _set_error(code: String, text: String) -> void:
	last_error_code = code
	last_error = "%s: %s" % [code, text]
	_socket_error_set = true
