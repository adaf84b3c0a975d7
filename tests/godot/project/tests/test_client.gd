## AtelicoClient bookkeeping against a scripted server: exactly one completion per request,
## connection.lost on a drop, reconnect, queue timeouts and local cancels.
extends AtelicoTestCase

var _clients: Array[AtelicoClient] = []


func required_config() -> Array:
	return ["fake_url"]


func after_each() -> void:
	for client in _clients:
		client.close()
	_clients.clear()


func _client(url: String) -> AtelicoClient:
	var client := AtelicoClient.new(url)
	client.reconnect_min_s = 0.05
	_clients.append(client)
	return client


## Polls [param client] until [param req] completes or [param timeout_s] passes.
func _run_until_done(client: AtelicoClient, req: AtelicoRequest, timeout_s: float) -> bool:
	return await wait_until(
		func() -> bool:
			client.poll()
			return req.done,
		timeout_s
	)


## A dropped socket ends the in-flight request once with connection.lost, after the chunk
## that arrived before the drop; the client reconnects and serves the next request.
func test_drop_ends_in_flight_request_with_connection_lost_then_reconnects() -> void:
	var client := _client(manifest["fake_url"])
	var completions: Array = []
	var chunks: Array = []
	var dropped := client.request("tts.synthesize", {"input": "drop"})
	dropped.message_received.connect(func(m: AtelicoMessage) -> void: chunks.append(m.type))
	dropped.completed.connect(func(m: AtelicoMessage) -> void: completions.append(m))
	check(await _run_until_done(client, dropped, 10.0), "dropped request completed")
	check_eq(chunks, ["tts.chunk"], "chunk before the drop delivered")
	check_eq(completions.size(), 1, "exactly one completion")
	check_eq(dropped.error_code(), "connection.lost", "error code")
	var next := client.request("tts.synthesize", {"input": "again"})
	check(await _run_until_done(client, next, 10.0), "request after reconnect completed")
	check(next.succeeded(), "request after reconnect succeeded")
	check_eq(next.result.data.get("echo"), "again", "answered by the server")
	check(int(next.result.data.get("connection", 0)) >= 2, "served on a new connection")
	for i in 10:
		client.poll()
		await root.get_tree().process_frame
	check_eq(completions.size(), 1, "still exactly one completion for the dropped request")


## Concurrent requests each get their own answer, matched by id.
func test_concurrent_requests_are_matched_by_id() -> void:
	var client := _client(manifest["fake_url"])
	var reqs: Array[AtelicoRequest] = []
	for i in 8:
		reqs.append(client.request("tts.synthesize", {"input": "n%d" % i}))
	var last := reqs[reqs.size() - 1]
	check(
		await wait_until(
			func() -> bool:
				client.poll()
				return reqs.all(func(r: AtelicoRequest) -> bool: return r.done),
			10.0
		),
		"all done"
	)
	for i in 8:
		check_eq(reqs[i].result.data.get("echo"), "n%d" % i, "answer %d" % i)
	check(last.succeeded(), "last succeeded")


## With no server listening, a request waits for the connection at most queue_timeout_s,
## then ends once with connection.unavailable; completion is never synchronous.
func test_unreachable_server_ends_queued_request_with_unavailable() -> void:
	var client := _client("ws://127.0.0.1:9/v1/ws")
	client.queue_timeout_s = 1.0
	client.connect_timeout_s = 0.5
	var req := client.request("tts.synthesize", {"input": "x"})
	check(not req.done, "not completed synchronously")
	var t0 := Time.get_ticks_msec()
	check(await _run_until_done(client, req, 8.0), "completed")
	check_eq(req.error_code(), "connection.unavailable", "code")
	check(Time.get_ticks_msec() - t0 >= 900, "waited for the queue timeout")


## Cancelling a queued request ends it with cancelled; close() ends everything else once.
func test_cancel_queued_and_close() -> void:
	var client := _client("ws://127.0.0.1:9/v1/ws")
	var a := client.request("tts.synthesize", {"input": "a"})
	var b := client.request("tts.synthesize", {"input": "b"})
	var count := [0]
	b.completed.connect(func(_m: AtelicoMessage) -> void: count[0] += 1)
	client.cancel(a)
	client.poll()
	check(a.done and a.result.type == "cancelled", "queued request cancelled locally")
	client.close()
	client.poll()
	check_eq(b.error_code(), "client.closed", "close() ends queued requests")
	var late := client.request("tts.synthesize", {"input": "late"})
	client.poll()
	check_eq(late.error_code(), "client.closed", "requests after close() end at once")
	check_eq(count[0], 1, "one completion for b")
	var result: AtelicoMessage = await b.wait()
	check(result == b.result, "wait() after completion returns the result")


## A request with a timeout that gets no answer ends once with request.timeout (and the
## client cancels it on the server); the connection stays usable.
func test_request_timeout() -> void:
	var client := _client(manifest["fake_url"])
	var req := client.request("tts.synthesize", {"input": "silent"}, null, 0.3)
	check(await _run_until_done(client, req, 5.0), "ended")
	check_eq(req.error_code(), "request.timeout", "code")
	check_eq(client.in_flight_count(), 0, "nothing left in flight")
	var next := client.request("tts.synthesize", {"input": "after"})
	check(await _run_until_done(client, next, 5.0), "next ended")
	check(next.succeeded(), "connection still usable")


## A connection-level error reaches server_error; a text frame is ignored; the request
## around them still gets its answer.
func test_connection_level_error_and_text_frame() -> void:
	var client := _client(manifest["fake_url"])
	var errors: Array = []
	client.server_error.connect(func(code: String, m: String) -> void: errors.append([code, m]))
	var req := client.request("tts.synthesize", {"input": "noise"})
	check(await _run_until_done(client, req, 5.0), "ended")
	check(req.succeeded(), "answered")
	check_eq(errors, [["server.busy", "hm"]], "server_error")


## A server that accepts the socket but never welcomes: the attempt times out
## (connection.handshake_timeout) and the queued request ends with connection.unavailable.
func test_handshake_timeout() -> void:
	var client := _client(manifest["fake_url"])
	client.token = "no-welcome"
	client.connect_timeout_s = 0.3
	client.queue_timeout_s = 1.0
	var req := client.request("tts.synthesize", {"input": "x"})
	check(await _run_until_done(client, req, 8.0), "ended")
	check_eq(req.error_code(), "connection.unavailable", "code")
	check(client.last_error.contains("no welcome"), "reason: %s" % client.last_error)
	check_eq(client.last_error_code, "connection.handshake_timeout", "last_error_code")


## A client without a URL does not try to connect; its requests end unavailable.
func test_no_url() -> void:
	var client := _client("")
	client.queue_timeout_s = 0.3
	client.open()
	var req := client.request("models.list")
	check(await _run_until_done(client, req, 5.0), "ended")
	check_eq(req.error_code(), "connection.unavailable", "code")
	check(client.last_error.contains("no sidecar url"), client.last_error)
	check_eq(client.last_error_code, "connection.unavailable", "last_error_code")


## Without auto_reconnect a drop is final: the in-flight request ends connection.lost and
## the ones still queued (over the server's max_in_flight of 4) connection.unavailable.
func test_drop_without_reconnect_ends_queued_requests() -> void:
	var client := _client(manifest["fake_url"])
	client.auto_reconnect = false
	client.open()
	check(
		await wait_until(
			func() -> bool:
				client.poll()
				return client.is_ready(),
			5.0
		),
		"connected"
	)
	var silent: Array[AtelicoRequest] = []
	for i in 3:
		silent.append(client.request("tts.synthesize", {"input": "silent"}))
	var dropped := client.request("tts.synthesize", {"input": "drop"})
	var queued := client.request("tts.synthesize", {"input": "queued"})
	check(await _run_until_done(client, queued, 5.0), "queued request ended")
	check_eq(dropped.error_code(), "connection.lost", "in flight: lost")
	check_eq(queued.error_code(), "connection.unavailable", "queued: unavailable")
	check(
		silent.all(func(r: AtelicoRequest) -> bool: return r.error_code() == "connection.lost"),
		"all in flight lost"
	)


## close() then open() makes a closed client usable again; cancelling an ended request
## does nothing.
func test_reopen_after_close() -> void:
	var client := _client(manifest["fake_url"])
	client.close()
	client.open()
	var req := client.request("tts.synthesize", {"input": "again"})
	check(await _run_until_done(client, req, 5.0), "answered after reopening")
	check(req.succeeded(), "succeeded")
	client.cancel(req)
	client.poll()
	check(req.succeeded(), "cancel after the end changes nothing")
