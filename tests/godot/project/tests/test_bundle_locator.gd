## The shipping path logic, run in the real engine: where an exported game looks for the bundled
## sidecar, where the export step puts it, the bundle check, and a real copy on the engine's file
## system (a fake bundle copied into a fake exported-game folder is then found by the lookup).
extends AtelicoTestCase

const Locator := preload("res://addons/atelico/runtime/bundle_locator.gd")
const Sidecar := preload("res://addons/atelico/runtime/sidecar.gd")
const ROOT: String = "user://shipping_test"


func after_each() -> void:
	_remove_tree(ProjectSettings.globalize_path(ROOT))


## Beside the executable first; on macOS inside the .app's Resources, then beside the .app.
func test_candidates_per_os() -> void:
	check_eq(
		Locator.candidates("/games/demo/demo.x86_64", "Linux"),
		PackedStringArray(["/games/demo/atelico-sidecar/atelico-sidecar"]),
		"Linux"
	)
	check_eq(
		Locator.candidates("C:/Games/Demo/Demo.exe", "Windows"),
		PackedStringArray(["C:/Games/Demo/atelico-sidecar/atelico-sidecar.exe"]),
		"Windows"
	)
	check_eq(
		Locator.candidates("/Applications/Demo.app/Contents/MacOS/Demo", "macOS"),
		PackedStringArray(
			[
				"/Applications/Demo.app/Contents/MacOS/atelico-sidecar/atelico-sidecar",
				"/Applications/Demo.app/Contents/Resources/atelico-sidecar/atelico-sidecar",
				"/Applications/atelico-sidecar/atelico-sidecar",
			]
		),
		"macOS"
	)


## The export step writes exactly where the lookup looks (for a plain export and a .app).
func test_export_destination_is_what_the_lookup_finds() -> void:
	var linux_dest := Locator.export_destination("/out/demo.x86_64")
	check_eq(linux_dest, "/out/atelico-sidecar", "beside the executable")
	var exe := linux_dest + "/atelico-sidecar"
	check_eq(
		Locator.find_executable(
			"/out/demo.x86_64", "Linux", func(p: String) -> bool: return p == exe
		),
		exe,
		"found"
	)
	var app_dest := Locator.export_destination("/out/Demo.app")
	check_eq(app_dest, "/out/Demo.app/Contents/Resources/atelico-sidecar", ".app Resources")
	var app_exe := app_dest + "/atelico-sidecar"
	check_eq(
		Locator.find_executable(
			"/out/Demo.app/Contents/MacOS/Demo",
			"macOS",
			func(p: String) -> bool: return p == app_exe
		),
		app_exe,
		"found inside the app"
	)
	check_eq(
		Locator.find_executable(
			"/out/demo.x86_64", "Linux", func(_p: String) -> bool: return false
		),
		"",
		"nothing there"
	)


## A bundle folder with its manifest and executable is copied (nested folders included) into a
## fake exported-game folder; the lookup from the fake game executable then finds it.
func test_copy_into_a_fake_exported_game_then_lookup() -> void:
	var src := ProjectSettings.globalize_path(ROOT + "/atelico-sidecar")
	_write(src + "/manifest.json", '{"name":"atelico-sidecar","version":"1","platform":"linux"}')
	_write(src + "/atelico-sidecar", "#!/bin/sh\necho fake\n")
	_write(src + "/models/kokoro/model.onnx", "weights")
	_write(src + "/_internal/lib/libpython.so", "lib")
	check_eq(Locator.check_bundle(src, PackedStringArray(["linux", "pc"])), "", "valid bundle")
	var game := ProjectSettings.globalize_path(ROOT + "/export")
	var game_exe := game + "/demo.x86_64"
	_write(game_exe, "game")
	var dest := Locator.export_destination(game_exe)
	check_eq(Locator.copy_bundle(src, dest), "", "copied")
	for rel in [
		"manifest.json", "atelico-sidecar", "models/kokoro/model.onnx", "_internal/lib/libpython.so"
	]:
		check_eq(
			FileAccess.get_file_as_string(dest + "/" + rel),
			FileAccess.get_file_as_string(src + "/" + rel),
			rel
		)
	var found := Locator.find_executable(
		game_exe, "Linux", func(p: String) -> bool: return FileAccess.file_exists(p)
	)
	check_eq(found, dest + "/atelico-sidecar", "the lookup finds the copied executable")
	check_eq(Locator.copy_bundle(src, dest), "", "copying again replaces the files")


## No manifest, a foreign manifest, or no executable for the export's OS: each a clear problem.
func test_check_bundle_problems() -> void:
	var src := ProjectSettings.globalize_path(ROOT + "/bad")
	DirAccess.make_dir_recursive_absolute(src)
	check(Locator.check_bundle(src, PackedStringArray()).contains("manifest.json"), "no manifest")
	_write(src + "/manifest.json", '{"name":"something-else"}')
	check(
		Locator.check_bundle(src, PackedStringArray()).contains("not an atelico-sidecar"), "foreign"
	)
	_write(src + "/manifest.json", '{"name":"atelico-sidecar","platform":"linux-x86_64"}')
	_write(src + "/atelico-sidecar", "x")
	check_eq(Locator.check_bundle(src, PackedStringArray(["linux"])), "", "Linux export ok")
	var windows := Locator.check_bundle(src, PackedStringArray(["windows"]))
	check(windows.contains("atelico-sidecar.exe") and windows.contains("linux-x86_64"), windows)


## An exported game launches the bundle (its arguments without -m atelico) when found; without
## one only a configured Python; never when the setting is off.
func test_exported_game_launch_choice() -> void:
	check(Sidecar.launch_in_exported_game(true, "/g/atelico-sidecar/atelico-sidecar", "", ""), "1")
	check(not Sidecar.launch_in_exported_game(true, "", "", ""), "no bundle, no Python")
	check(Sidecar.launch_in_exported_game(true, "", "", "/opt/py"), "ATELICO_PYTHON")
	check(Sidecar.launch_in_exported_game(true, "", "/opt/py", ""), "python_path")
	check(not Sidecar.launch_in_exported_game(false, "/g/x", "", ""), "turned off")
	var bundled := Sidecar.choose_program("/g/atelico-sidecar/atelico-sidecar", "python3")
	check_eq(bundled, {"path": "/g/atelico-sidecar/atelico-sidecar", "bundled": true}, "bundle")
	check_eq(Sidecar.choose_program("", "python3"), {"path": "python3", "bundled": false}, "py")
	var args := Sidecar.program_arguments(true, 4321, 99, "tts")
	check_eq(args[0], "serve", "a bundle takes the CLI arguments")
	check_eq(args.slice(1), Sidecar.launch_arguments(4321, 99, "tts").slice(3), "the rest same")
	check_eq(Sidecar.program_arguments(false, 1, 2, ""), Sidecar.launch_arguments(1, 2, ""), "py")
	check(not AtelicoSettings.get_value(AtelicoSettings.BUNDLE_PATH).is_empty(), "a bundle path")
	check(AtelicoSettings.get_value(AtelicoSettings.AUTO_LAUNCH_IN_EXPORTED_GAMES), "on by default")


func _write(path: String, text: String) -> void:
	DirAccess.make_dir_recursive_absolute(path.get_base_dir())
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_string(text)
	file.close()


func _remove_tree(path: String) -> void:
	for file_name in DirAccess.get_files_at(path):
		DirAccess.remove_absolute(path.path_join(file_name))
	for sub in DirAccess.get_directories_at(path):
		_remove_tree(path.path_join(sub))
	DirAccess.remove_absolute(path)
