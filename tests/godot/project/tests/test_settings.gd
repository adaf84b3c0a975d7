## Settings resolution in the real engine: AtelicoSettings precedence (project setting over
## default) and how AtelicoCoreNode picks its sidecar URL and token (exported property,
## then the AtelicoSidecar launcher autoload, then the environment, then the port setting).
extends AtelicoTestCase

const ENV_URL: String = "ATELICO_SIDECAR_URL"
const ENV_TOKEN: String = "ATELICO_TOKEN"

var _nodes: Array[Node] = []


## A stand-in for the launcher autoload: only the two getters the core node reads.
class FakeLauncher:
	extends Node
	var url: String = ""
	var token: String = ""

	func get_url() -> String:
		return url

	func get_token() -> String:
		return token


func after_each() -> void:
	for setting_name: String in AtelicoSettings.ALL:
		ProjectSettings.set_setting(setting_name, null)
	OS.unset_environment(ENV_URL)
	OS.unset_environment(ENV_TOKEN)
	for node in _nodes:
		node.queue_free()
	_nodes.clear()
	await root.get_tree().process_frame


## Every setting reads as its declared default (with the declared type) until the project
## sets it; a set value wins; clearing it brings the default back.
func test_settings_default_then_project_value() -> void:
	for setting_name: String in AtelicoSettings.ALL:
		var spec: Array = AtelicoSettings.ALL[setting_name]
		check(not ProjectSettings.has_setting(setting_name), "%s unset" % setting_name)
		var value: Variant = AtelicoSettings.get_value(setting_name)
		check(AtelicoTestCase.same(value, spec[0]), "%s default %s" % [setting_name, value])
		check_eq(typeof(value), spec[1], "%s type" % setting_name)
	ProjectSettings.set_setting(AtelicoSettings.PORT, 4321)
	ProjectSettings.set_setting(AtelicoSettings.PRELOAD_MODELS, "tts")
	check_eq(AtelicoSettings.get_value(AtelicoSettings.PORT), 4321, "port set")
	check_eq(AtelicoSettings.get_value(AtelicoSettings.PRELOAD_MODELS), "tts", "preload set")
	ProjectSettings.set_setting(AtelicoSettings.PORT, null)
	check_eq(AtelicoSettings.get_value(AtelicoSettings.PORT), 0, "cleared: default again")


func _core(url: String = "", launch_token: String = "") -> AtelicoCoreNode:
	var core := AtelicoCoreNode.new()
	core.connect_on_ready = false
	core.sidecar_url = url
	core.token = launch_token
	root.add_child(core)
	_nodes.append(core)
	return core


func _launcher(url: String, launch_token: String) -> FakeLauncher:
	var launcher := FakeLauncher.new()
	launcher.name = "AtelicoSidecar"
	launcher.url = url
	launcher.token = launch_token
	root.get_tree().root.add_child(launcher)
	_nodes.append(launcher)
	return launcher


## Nothing configured: the default port; the port setting changes it (0 keeps the default).
func test_url_from_the_port_setting() -> void:
	check_eq(_core().get_client().url, "ws://127.0.0.1:11434/v1/ws", "default port")
	ProjectSettings.set_setting(AtelicoSettings.PORT, 4321)
	check_eq(_core().get_client().url, "ws://127.0.0.1:4321/v1/ws", "port setting")
	ProjectSettings.set_setting(AtelicoSettings.PORT, 0)
	check_eq(_core().get_client().url, "ws://127.0.0.1:11434/v1/ws", "0 = default")
	check_eq(_core().get_client().token, "", "no token anywhere")


## The environment beats the port setting; the launcher beats the environment; the node's
## own properties beat everything. An empty launcher URL/token falls through.
func test_url_and_token_precedence() -> void:
	ProjectSettings.set_setting(AtelicoSettings.PORT, 4321)
	OS.set_environment(ENV_URL, "ws://127.0.0.1:5000/v1/ws")
	OS.set_environment(ENV_TOKEN, "env-token")
	var from_env := _core().get_client()
	check_eq(from_env.url, "ws://127.0.0.1:5000/v1/ws", "environment URL over the port")
	check_eq(from_env.token, "env-token", "environment token")
	var launcher := _launcher("", "")
	var empty_launcher := _core().get_client()
	check_eq(empty_launcher.url, "ws://127.0.0.1:5000/v1/ws", "launcher without URL: env")
	check_eq(empty_launcher.token, "env-token", "launcher without token: env")
	launcher.url = "ws://127.0.0.1:6000/v1/ws"
	launcher.token = "launcher-token"
	var from_launcher := _core().get_client()
	check_eq(from_launcher.url, "ws://127.0.0.1:6000/v1/ws", "launcher URL over env")
	check_eq(from_launcher.token, "launcher-token", "launcher token over env")
	var own := _core("ws://127.0.0.1:7000/v1/ws", "own-token").get_client()
	check_eq(own.url, "ws://127.0.0.1:7000/v1/ws", "exported URL first")
	check_eq(own.token, "own-token", "exported token first")


## connect_to() replaces the client: queued requests of the old one end (closed), the new
## one uses the new address.
func test_connect_to_replaces_the_client() -> void:
	var core := _core("ws://127.0.0.1:9/v1/ws")
	var old := core.get_client()
	var queued := core.send_request("models.list")
	core.connect_to(manifest.get("fake_url", "ws://127.0.0.1:9/v1/ws"), "t")
	check(core.get_client() != old, "a new client")
	check_eq(core.get_client().token, "t", "new token")
	check(await wait_until(func() -> bool: return queued.done, 5.0), "old request ended")
	check(not queued.succeeded(), "old request failed")
