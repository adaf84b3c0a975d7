## Client conformance driver: plays the client steps of every scenario of
## tests/data/conformance (format in the README there) with a real [AtelicoClient] against
## tests/conformance/scripted_server.py, and reports per scenario
## [code]{connects, completions, errors}[/code] in one [code]conformance[/code] event. Python
## checks the results (tests/conformance/common.py), the same check as for the other clients.
extends AtelicoTestCase

const EVENT_PREFIX: String = "ATELICO_EVENT "

var _wait_timeout_s: float = 8.0


func required_config() -> Array:
	return ["conformance"]


func test_every_scenario() -> void:
	var setup: Dictionary = manifest["conformance"]
	_wait_timeout_s = float(setup["wait_timeout_ms"]) / 1000.0
	var scenario_timeout_ms := int(setup["scenario_timeout_ms"])
	var results: Dictionary = {}
	for typed: Dictionary in setup["scenarios"]:
		var scenario: Dictionary = from_typed(typed)
		var scenario_name: String = scenario["name"]
		var t0 := Time.get_ticks_msec()
		var result: Dictionary = await _play(scenario, int(setup["ports"][scenario_name]))
		if Time.get_ticks_msec() - t0 > scenario_timeout_ms:
			result["errors"].append("the scenario hung for over %d ms" % scenario_timeout_ms)
		results[scenario_name] = result
	print(EVENT_PREFIX + JSON.stringify({"event": "conformance", "results": results}))
	check_eq(results.size(), setup["scenarios"].size(), "every scenario played")


## Plays one scenario's client steps; every wait is bounded, so this always returns.
func _play(scenario: Dictionary, port: int) -> Dictionary:
	var result := {"connects": [], "completions": [], "errors": []}
	var errors: Array = result["errors"]
	var client: AtelicoClient = null
	var requests: Dictionary = {}  # scenario request name -> _send()'s state
	var recording := {"on": true}  # completions after the scenario's end are not its own
	for step: Dictionary in scenario["client"]:
		var action: String = step["do"]
		if action == "connect" or action == "reconnect":
			if client == null:
				client = AtelicoClient.new("ws://127.0.0.1:%d/v1/ws" % port)
			client.connect_timeout_s = float(step.get("handshake_timeout_ms", 10000)) / 1000.0
			result["connects"].append(await _connect(client, errors))
		elif client == null:
			errors.append("step %s needs a connected client" % JSON.stringify(step))
			break
		elif action == "send":
			requests[step["request"]] = _send(client, step, result["completions"], recording)
		elif action == "cancel":
			client.cancel(requests[step["request"]]["req"])
		elif action == "wait":
			var state: Dictionary = requests[step["request"]]
			if step.has("chunks"):
				var wanted := int(step["chunks"])
				await _poll_until(
					client,
					func() -> bool: return state["chunks"] >= wanted or state["req"].done,
					"%d chunks of %s" % [wanted, step["request"]],
					errors
				)
			else:
				await _poll_until(
					client,
					func() -> bool: return state["req"].done,
					"the completion of " + step["request"],
					errors
				)
		elif action == "close":
			client.close()
		else:
			errors.append("unknown step %s" % JSON.stringify(step))
	if client != null:
		await _poll_until(
			client,
			func() -> bool:
				return requests.values().all(func(s: Dictionary) -> bool: return s["req"].done),
			"every request to complete",
			errors
		)
		recording["on"] = false
		client.close()
	return result


## Opens the connection and polls until the attempt ends: "ok" or the client's error code.
func _connect(client: AtelicoClient, errors: Array) -> String:
	client.open()
	await _poll_until(
		client,
		func() -> bool: return client.is_ready() or client.state == AtelicoClient.State.IDLE,
		"the connect to end",
		errors
	)
	return "ok" if client.is_ready() else client.last_error_code


## Starts a request; its completion is recorded as the suite's result shape.
func _send(
	client: AtelicoClient, step: Dictionary, completions: Array, recording: Dictionary
) -> Dictionary:
	var timeout_s := float(step.get("timeout_ms", 0)) / 1000.0
	var req := client.request(step["type"], step.get("data", {}), null, timeout_s)
	var state := {"req": req, "chunks": 0}
	var request_name: String = step["request"]
	req.message_received.connect(func(_m: AtelicoMessage) -> void: state["chunks"] += 1)
	req.completed.connect(
		func(m: AtelicoMessage) -> void:
			if recording["on"]:
				var kind := m.type if m.type == "done" or m.type == "cancelled" else "error"
				(
					completions
					. append(
						{
							"request": request_name,
							"kind": kind,
							"code": m.error_code(),
							"chunks": state["chunks"],
						}
					)
				)
	)
	return state


## Polls [param client] every frame until [param condition] holds, at most the wait timeout.
func _poll_until(client: AtelicoClient, condition: Callable, what: String, errors: Array) -> void:
	var reached: bool = await wait_until(
		func() -> bool:
			client.poll()
			return condition.call(),
		_wait_timeout_s
	)
	if not reached:
		errors.append("timed out waiting for " + what)
