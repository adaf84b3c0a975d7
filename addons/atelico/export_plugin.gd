## Export step: copies the bundled sidecar beside the exported game (docs/shipping.md).
##
## Registered by [code]plugin.gd[/code]. For a desktop export it takes the folder named by
## the project setting [code]atelico/bundle/path[/code] (default
## [code]res://../atelico-sidecar[/code], the output of [code]atelico bundle[/code] run beside the
## project) and, once the export is written ([method _export_end]), copies it to
## [code]<export folder>/atelico-sidecar/[/code], or into [code]Contents/Resources/[/code] when
## exporting a macOS [code].app[/code]. The path logic is [AtelicoBundleLocator]'s, shared with
## the launcher. No bundle: a warning, and the exported game launches no sidecar.
@tool
extends EditorExportPlugin

const LOCATOR_SCRIPT: String = "res://addons/atelico/runtime/bundle_locator.gd"
const SETTINGS_SCRIPT: String = "res://addons/atelico/runtime/settings.gd"
const SKIPPED_FEATURES: Array[String] = ["web", "android", "ios"]

var _export_path: String = ""
var _features: PackedStringArray = PackedStringArray()


func _get_name() -> String:
	return "AtelicoSidecarBundle"


func _export_begin(features: PackedStringArray, _is_debug: bool, path: String, _flags: int) -> void:
	_export_path = path
	_features = features


func _export_end() -> void:
	var path := _export_path
	_export_path = ""
	if path.is_empty() or SKIPPED_FEATURES.any(func(f: String) -> bool: return _features.has(f)):
		return
	var settings: GDScript = load(SETTINGS_SCRIPT)
	var locator: GDScript = load(LOCATOR_SCRIPT)
	var source := ProjectSettings.globalize_path(str(settings.get_value(settings.BUNDLE_PATH)))
	source = source.simplify_path()
	if not DirAccess.dir_exists_absolute(source):
		push_warning(
			(
				(
					"Atelico: no sidecar bundle at %s (set %s, or run `atelico bundle`): "
					+ "the exported game will not start a sidecar."
				)
				% [source, settings.BUNDLE_PATH]
			)
		)
		return
	var problem: String = locator.check_bundle(source, _features)
	if problem.is_empty():
		problem = locator.copy_bundle(source, locator.export_destination(path))
	if not problem.is_empty():
		push_error("Atelico: the sidecar bundle was not exported: " + problem)
