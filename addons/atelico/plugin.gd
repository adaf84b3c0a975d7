## Editor plugin: project settings, the autoloads, and pre-flight checks before each run.
##
## Enabling it registers the [code]AtelicoSidecar[/code] autoload (launches the sidecar for
## the running game and stops it with the game) and the [code]Atelico[/code] autoload (an
## [AtelicoCoreNode]); disabling it removes both. Before the game runs from the editor,
## [method _build] checks that Python exists and the configured port is free, and shows an
## editor dialog instead of running the game when it is not. It also registers the export
## plugin ([code]export_plugin.gd[/code]) that copies the bundled sidecar beside exported games.
@tool
extends EditorPlugin

const SIDECAR_AUTOLOAD: String = "AtelicoSidecar"
const CORE_AUTOLOAD: String = "Atelico"
const SIDECAR_SCRIPT: String = "res://addons/atelico/runtime/sidecar.gd"
const CORE_SCRIPT: String = "res://addons/atelico/runtime/core_node.gd"
const SETTINGS_SCRIPT: String = "res://addons/atelico/runtime/settings.gd"
const EXPORT_PLUGIN_SCRIPT: String = "res://addons/atelico/export_plugin.gd"

var _export_plugin: EditorExportPlugin = null


func _enter_tree() -> void:
	_register_settings()
	_export_plugin = load(EXPORT_PLUGIN_SCRIPT).new()
	add_export_plugin(_export_plugin)


func _exit_tree() -> void:
	if _export_plugin != null:
		remove_export_plugin(_export_plugin)
		_export_plugin = null


func _enable_plugin() -> void:
	_register_settings()
	add_autoload_singleton(SIDECAR_AUTOLOAD, SIDECAR_SCRIPT)
	add_autoload_singleton(CORE_AUTOLOAD, CORE_SCRIPT)


func _disable_plugin() -> void:
	remove_autoload_singleton(CORE_AUTOLOAD)
	remove_autoload_singleton(SIDECAR_AUTOLOAD)


## Pre-flight before running the project; returning false cancels the run.
func _build() -> bool:
	var settings: GDScript = load(SETTINGS_SCRIPT)
	if not settings.get_value(settings.AUTO_LAUNCH_IN_EDITOR):
		return true
	var problem := _preflight(settings)
	if problem.is_empty():
		return true
	push_error("Atelico: " + problem)
	var dialog := AcceptDialog.new()
	dialog.title = "Atelico sidecar cannot start"
	dialog.dialog_text = (
		problem
		+ "\n\nFix it in Project Settings → atelico/sidecar, or turn off auto_launch_in_editor."
	)
	EditorInterface.get_base_control().add_child(dialog)
	dialog.confirmed.connect(dialog.queue_free)
	dialog.popup_centered()
	return false


func _preflight(settings: GDScript) -> String:
	var python: String = load(SIDECAR_SCRIPT).resolve_python()  # the launcher's own search order
	var output: Array = []
	var code := OS.execute(python, ["-c", "import atelico, sys; print(sys.version)"], output, true)
	if code != 0:
		return (
			"%s cannot import the atelico package (exit code %d).\n%s"
			% [python, code, "\n".join(output).right(2000)]
		)
	var port: int = int(settings.get_value(settings.PORT))
	if port != 0:
		var probe := TCPServer.new()
		var free := probe.listen(port, "127.0.0.1") == OK
		probe.stop()
		if not free:
			return "port %d is already taken by another program." % port
	return ""


func _register_settings() -> void:
	var settings: GDScript = load(SETTINGS_SCRIPT)
	for setting_name: String in settings.ALL:
		var spec: Array = settings.ALL[setting_name]
		if not ProjectSettings.has_setting(setting_name):
			ProjectSettings.set_setting(setting_name, spec[0])
		ProjectSettings.set_initial_value(setting_name, spec[0])
		ProjectSettings.add_property_info(
			{"name": setting_name, "type": spec[1], "hint": spec[2], "hint_string": spec[3]}
		)
		ProjectSettings.set_as_basic(setting_name, true)
