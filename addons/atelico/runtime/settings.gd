## Project settings of the Atelico add-on (Project Settings → atelico/sidecar/...).
class_name AtelicoSettings
extends RefCounted

const PYTHON_PATH: String = "atelico/sidecar/python_path"
const PORT: String = "atelico/sidecar/port"
const PRELOAD_MODELS: String = "atelico/sidecar/preload_models"
const AUTO_LAUNCH_IN_EDITOR: String = "atelico/sidecar/auto_launch_in_editor"
const AUTO_LAUNCH_IN_EXPORTED_GAMES: String = "atelico/sidecar/auto_launch_in_exported_games"
const READY_TIMEOUT_S: String = "atelico/sidecar/ready_timeout_s"
const EXTRA_ARGS: String = "atelico/sidecar/extra_args"
const BUNDLE_PATH: String = "atelico/bundle/path"

## name → [default, type, hint, hint_string, description]
const ALL: Dictionary = {
	PYTHON_PATH:
	[
		"",
		TYPE_STRING,
		PROPERTY_HINT_GLOBAL_FILE,
		"",
		"Python with the atelico package; empty = res://.venv, then python3 on PATH."
	],
	PORT: [0, TYPE_INT, PROPERTY_HINT_RANGE, "0,65535", "Sidecar port; 0 picks a free one."],
	PRELOAD_MODELS:
	[
		"tts,whisper,face",
		TYPE_STRING,
		PROPERTY_HINT_NONE,
		"",
		"Comma-separated model ids loaded at launch."
	],
	AUTO_LAUNCH_IN_EDITOR:
	[
		true,
		TYPE_BOOL,
		PROPERTY_HINT_NONE,
		"",
		"Start the sidecar when the game runs from the editor."
	],
	AUTO_LAUNCH_IN_EXPORTED_GAMES:
	[
		true,
		TYPE_BOOL,
		PROPERTY_HINT_NONE,
		"",
		"Start the bundled sidecar in exported games when one ships beside the game."
	],
	READY_TIMEOUT_S:
	[120.0, TYPE_FLOAT, PROPERTY_HINT_RANGE, "1,600", "Seconds to wait for /health/ready."],
	EXTRA_ARGS: ["", TYPE_STRING, PROPERTY_HINT_NONE, "", "Extra arguments for `atelico serve`."],
	BUNDLE_PATH:
	[
		"res://../atelico-sidecar",
		TYPE_STRING,
		PROPERTY_HINT_GLOBAL_DIR,
		"",
		"The `atelico bundle` folder the export copies beside the exported game."
	],
}


## The setting's value, or its default when the project does not define it.
static func get_value(setting_name: String) -> Variant:
	return ProjectSettings.get_setting(setting_name, ALL[setting_name][0])
