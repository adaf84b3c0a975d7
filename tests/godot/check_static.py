"""Static checks for the scripts the web runtime cannot load (EditorPlugin, autoload wiring)."""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

ADDON = Path(__file__).resolve().parents[2] / "addons" / "atelico"


def problems() -> list[str]:
    found: list[str] = []
    cfg = configparser.ConfigParser()
    cfg.read(ADDON / "plugin.cfg")
    script = cfg.get("plugin", "script", fallback="").strip('"')
    plugin = ADDON / script
    if not plugin.is_file():
        return [f"plugin.cfg names a missing script {script!r}"]
    source = plugin.read_text()
    if not source.startswith("## ") or "@tool" not in source:
        found.append("plugin.gd must be a documented @tool script")
    if "extends EditorPlugin" not in source:
        found.append("plugin.gd must extend EditorPlugin")
    for hook in ("_enable_plugin", "_disable_plugin", "_build"):
        if f"func {hook}(" not in source:
            found.append(f"plugin.gd lacks {hook}()")
    consts = dict(re.findall(r'const (\w+): String = "([^"]*)"', source))
    adds = re.findall(r"add_autoload_singleton\((\w+), (\w+)\)", source)
    removes = re.findall(r"remove_autoload_singleton\((\w+)\)", source)
    if not adds or sorted(n for n, _ in adds) != sorted(removes):
        found.append(f"autoloads added {adds} and removed {removes} differ")
    for _, path_const in adds:
        res = consts.get(path_const, "")
        if not (ADDON / res.removeprefix("res://addons/atelico/")).is_file():
            found.append(f"autoload script {res!r} does not exist")
    found += export_plugin_problems(source)
    settings = (ADDON / "runtime" / "settings.gd").read_text()
    for name in re.findall(r"settings\.([A-Z_]+)", source):
        if not re.search(rf"^const {name}\b", settings, re.MULTILINE):
            found.append(f"plugin.gd uses settings.{name}, which settings.gd does not define")
    for gd in ADDON.rglob("*.gd"):
        text = gd.read_text()
        if not text.startswith("## "):
            found.append(f"{gd.relative_to(ADDON)} lacks a ## doc comment")
        name = re.search(r"^class_name (\w+)", text, re.MULTILINE)
        if name and not name.group(1).startswith("Atelico"):
            found.append(f"{gd.relative_to(ADDON)}: class_name {name.group(1)} is not prefixed")
    return found


def export_plugin_problems(plugin_source: str) -> list[str]:
    """The export plugin (copies the sidecar bundle) is registered and removed by plugin.gd and
    overrides the EditorExportPlugin virtuals with Godot 4.6's signatures."""
    found: list[str] = []
    path = re.search(r'const EXPORT_PLUGIN_SCRIPT: String = "res://addons/atelico/([^"]+)"', plugin_source)
    if not path or not (ADDON / path.group(1)).is_file():
        return ["plugin.gd names no existing EXPORT_PLUGIN_SCRIPT"]
    for call in ("add_export_plugin(", "remove_export_plugin("):
        if call not in plugin_source:
            found.append(f"plugin.gd never calls {call})")
    text = (ADDON / path.group(1)).read_text()
    if "@tool" not in text or "extends EditorExportPlugin" not in text:
        found.append(f"{path.group(1)} must be a @tool script extending EditorExportPlugin")
    for signature in (
        r"func _get_name\(\) -> String:",
        r"func _export_begin\(\s*\w+: PackedStringArray,\s*\w+: bool,\s*\w+: String,\s*\w+: int\s*\) -> void:",
        r"func _export_end\(\) -> void:",
    ):
        if not re.search(signature, text):
            found.append(f"{path.group(1)} lacks {signature}")
    return found


if __name__ == "__main__":
    issues = problems()
    for issue in issues:
        print(issue)
    sys.exit(1 if issues else 0)
