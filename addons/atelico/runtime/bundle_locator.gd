## Where the bundled sidecar ([code]atelico bundle[/code]) sits in an exported game, and how the
## export plugin puts it there (docs/shipping.md).
##
## The bundle is a folder [code]atelico-sidecar/[/code] holding the executable
## [code]atelico-sidecar[/code] ([code].exe[/code] on Windows, same arguments as
## [code]python -m atelico[/code]) and a [code]manifest.json[/code]. The export plugin copies it
## beside the exported executable (inside [code]Contents/Resources/[/code] for a macOS
## [code].app[/code]); [code]sidecar.gd[/code] looks for it there. Plain static helpers, no editor
## class, so the web runtime tests run them too.
class_name AtelicoBundleLocator
extends RefCounted

const FOLDER: String = "atelico-sidecar"
const EXECUTABLE: String = "atelico-sidecar"
const MANIFEST: String = "manifest.json"


## The bundle executable's file name on Windows ([code]atelico-sidecar.exe[/code]) or elsewhere.
static func executable_name(windows: bool) -> String:
	return EXECUTABLE + (".exe" if windows else "")


## Where an exported game whose executable is [param exe_path] looks for the bundle executable,
## in order: [code]<exe dir>/atelico-sidecar/[/code]; on macOS also
## [code]<Game>.app/Contents/Resources/atelico-sidecar/[/code] and the folder holding the app.
static func candidates(exe_path: String, os_name: String) -> PackedStringArray:
	var dir := exe_path.get_base_dir()
	var exe := executable_name(os_name == "Windows")
	var found := PackedStringArray([dir.path_join(FOLDER).path_join(exe)])
	if os_name == "macOS":
		var contents := dir.get_base_dir()  # <Game>.app/Contents/MacOS -> <Game>.app/Contents
		found.append(contents.path_join("Resources").path_join(FOLDER).path_join(exe))
		found.append(contents.get_base_dir().get_base_dir().path_join(FOLDER).path_join(exe))
	return found


## The first of [method candidates] that [param exists] accepts, else [code]""[/code].
static func find_executable(exe_path: String, os_name: String, exists: Callable) -> String:
	for candidate in candidates(exe_path, os_name):
		if exists.call(candidate):
			return candidate
	return ""


## The bundle executable of this running exported game, or [code]""[/code].
static func find_for_this_game() -> String:
	return find_executable(
		OS.get_executable_path(),
		OS.get_name(),
		func(path: String) -> bool: return FileAccess.file_exists(path)
	)


## The folder the export plugin fills for an export to [param export_path] (the exported
## executable, or a macOS [code].app[/code]).
static func export_destination(export_path: String) -> String:
	if export_path.get_extension().to_lower() == "app":
		return export_path.path_join("Contents").path_join("Resources").path_join(FOLDER)
	return export_path.get_base_dir().path_join(FOLDER)


## [code]""[/code] when [param folder] is a usable bundle for an export whose features are
## [param features], else the problem: no manifest, a manifest of something else, or no
## executable for the target OS (a bundle runs only on the OS it was built on).
static func check_bundle(folder: String, features: PackedStringArray) -> String:
	var manifest_path := folder.path_join(MANIFEST)
	if not FileAccess.file_exists(manifest_path):
		return "no %s in %s (build it with `atelico bundle`)" % [MANIFEST, folder]
	var manifest: Variant = JSON.parse_string(FileAccess.get_file_as_string(manifest_path))
	if not manifest is Dictionary or manifest.get("name") != FOLDER:
		return "%s is not an atelico-sidecar manifest" % manifest_path
	var exe := executable_name(features.has("windows"))
	if not FileAccess.file_exists(folder.path_join(exe)):
		return (
			"%s has no %s: this bundle was built for %s; build one on the target OS"
			% [folder, exe, manifest.get("platform", "another OS")]
		)
	return ""


## Copies the folder [param source] to [param destination] (replacing files there), keeping
## each file's Unix permissions (the executable bit). Returns [code]""[/code] or the problem.
static func copy_bundle(source: String, destination: String) -> String:
	var made := DirAccess.make_dir_recursive_absolute(destination)
	if made != OK:
		return "cannot create %s (error %d)" % [destination, made]
	for file_name in DirAccess.get_files_at(source):
		var from := source.path_join(file_name)
		var to := destination.path_join(file_name)
		var copied := DirAccess.copy_absolute(from, to)
		if copied != OK:
			return "cannot copy %s to %s (error %d)" % [from, to, copied]
		var mode := FileAccess.get_unix_permissions(from)
		if mode != 0:
			FileAccess.set_unix_permissions(to, mode)
	for sub in DirAccess.get_directories_at(source):
		var problem := copy_bundle(source.path_join(sub), destination.path_join(sub))
		if not problem.is_empty():
			return problem
	return ""
