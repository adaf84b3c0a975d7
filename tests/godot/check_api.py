"""Checks the engine API the add-on calls against an extract of Godot's class API.

The extracts in ``tests/godot/api/`` are facts, not code: ``godot-4.6-web.json`` is the
ClassDB of the pinned 4.6 web runtime (``harness.py --dump-api``); ``godot-4.6-editor.json``
adds the editor-only classes (``EditorPlugin``, ``EditorInterface``) that a web build does
not have, from the official class reference. The checker reads every ``addons/atelico``
script, including the EditorPlugin that cannot load in the web runtime, and reports:

- ``Class.member`` on an engine class or singleton (``OS.execute_with_pipe(...)``,
  ``AudioServer.bus_count``, ``Node.PROCESS_MODE_ALWAYS``) that the class does not have;
- ``name.member`` where ``name`` is declared with an engine type (``var x: T``,
  ``var x := T.new()``, typed parameters and ``for`` variables) and ``T`` lacks ``member``;
- bare calls ``method(...)`` in a script extending an engine class that neither the
  script, its base classes nor GDScript's global functions define;
- calls whose argument count is outside the method's range;
- ``s.member`` where ``var s: GDScript = load(CONST)`` and the loaded script (an add-on
  script named by a ``res://`` constant) does not define ``member``.

It cannot see through untyped values or return types; the web runtime's own parser (all
loadable scripts are loaded by the test bootstrap) catches the rest for 4.6.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ADDON = HERE.parents[1] / "addons" / "atelico"
API_FILES = (HERE / "api" / "godot-4.6-web.json", HERE / "api" / "godot-4.6-editor.json")

# Built-in Variant types: their methods are not in ClassDB and are not checked here.
VARIANT_TYPES = {
    "bool", "int", "float", "String", "StringName", "NodePath", "Vector2", "Vector2i",
    "Vector3", "Vector3i", "Vector4", "Vector4i", "Rect2", "Rect2i", "Transform2D",
    "Transform3D", "Plane", "Quaternion", "AABB", "Basis", "Projection", "Color", "RID",
    "Callable", "Signal", "Dictionary", "Array", "PackedByteArray", "PackedInt32Array",
    "PackedInt64Array", "PackedFloat32Array", "PackedFloat64Array", "PackedStringArray",
    "PackedVector2Array", "PackedVector3Array", "PackedColorArray", "PackedVector4Array",
    "Variant", "Object",
}
# GDScript keywords that look like calls, and @GlobalScope / @GDScript functions the
# add-on uses (the web runtime's parser rejects unknown ones when it loads the scripts).
NOT_METHODS = {
    "if", "elif", "while", "for", "match", "return", "not", "and", "or", "in", "await",
    "func", "assert", "preload", "load", "super",
    "abs", "absf", "absi", "clamp", "clampf", "clampi", "lerp", "lerpf", "max", "maxf",
    "maxi", "min", "minf", "mini", "sin", "cos", "floor", "ceil", "round", "sqrt", "pow",
    "str", "len", "range", "print", "printerr", "push_error", "push_warning", "typeof",
    "type_string", "error_string", "is_instance_valid", "var_to_str", "str_to_var",
    "instance_from_id", "randi", "randf", "randi_range", "randf_range", "seed",
    "char", "ord", "snappedf", "posmod", "fmod", "sign", "signf", "signi", "is_nan",
    "is_inf", "is_equal_approx", "is_zero_approx", "nearest_po2", "wrapf", "wrapi",
}

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_EXTENDS = re.compile(r"^extends\s+(\w+)", re.MULTILINE)
_DEFINED = re.compile(r"^\s*(?:static\s+)?(?:func|var|const|signal|class|enum)\s+(\w+)",
                      re.MULTILINE)
_TYPED = re.compile(r"\b(\w+)\s*:\s*([A-Z]\w*)\b(?!\s*\()")
_INFERRED = re.compile(r"\bvar\s+(\w+)\s*:?=\s*([A-Z]\w*)\.new\(")
_ACCESS = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\.([A-Za-z_]\w*)(\s*\()?")
_BARE_CALL = re.compile(r"(?<![\w.$&^@])([a-z_]\w*)\s*\(")


def load_api(files: tuple[Path, ...] = API_FILES) -> tuple[dict, dict]:
    classes: dict = {}
    singletons: dict = {}
    for path in files:
        data = json.loads(path.read_text())
        classes.update(data["classes"])
        singletons.update(data["singletons"])
    return classes, singletons


def _code(source: str) -> str:
    """Source without comments and with string contents blanked (positions kept)."""
    out = []
    for line in source.split("\n"):
        blank = _STRING.sub(lambda m: '"' + " " * (len(m.group()) - 2) + '"', line)
        cut = blank.find("#")
        out.append(blank if cut < 0 else blank[:cut])
    return "\n".join(out)


def _arg_count(code: str, open_paren: int) -> int | None:
    """Number of arguments of the call whose "(" is at ``open_paren`` (None if unclosed)."""
    depth = 0
    count = 0
    seen = False
    for ch in code[open_paren + 1:]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return count + 1 if seen else 0
            depth -= 1
        elif ch == "," and depth == 0:
            count += 1
            seen = False
            continue
        if not ch.isspace() and depth >= 0:
            seen = True
    return None


class Api:
    def __init__(self, classes: dict, singletons: dict) -> None:
        self.classes = classes
        self.singletons = singletons

    def chain(self, cls: str) -> list[dict]:
        out = []
        while cls and cls in self.classes:
            out.append(self.classes[cls])
            cls = self.classes[cls]["parent"]
        return out

    def method(self, cls: str, name: str) -> list | None:
        for api in self.chain(cls):
            if name in api["methods"]:
                return api["methods"][name]
        return None

    def has_member(self, cls: str, name: str) -> bool:
        return self.method(cls, name) is not None or any(
            name in api["properties"] or name in api["signals"] or name in api["constants"]
            or name in api["enums"] for api in self.chain(cls))


def check_source(rel: str, source: str, api: Api) -> list[str]:
    problems: list[str] = []
    code = _code(source)
    defined = set(_DEFINED.findall(code))
    base = _EXTENDS.search(code)
    base_class = base.group(1) if base else "RefCounted"
    typed: dict[str, set[str]] = {}
    for name, cls in _TYPED.findall(code) + _INFERRED.findall(code):
        if cls in api.classes:
            typed.setdefault(name, set()).add(cls)
    # var s: GDScript = load(PATH): its members are the loaded script's own.
    consts = dict(re.findall(r'const (\w+): String = "(res://[^"]+)"', source))
    scripts: dict[str, set[str]] = {}
    for name, arg in re.findall(r"var (\w+): (?:GDScript|Script) = load\((\w+)\)", code):
        path = ADDON.parents[1] / consts.get(arg, "").removeprefix("res://")
        if path.is_file():
            scripts[name] = set(_DEFINED.findall(_code(path.read_text())))

    def where(pos: int) -> str:
        return f"{rel}:{code.count(chr(10), 0, pos) + 1}"

    def arity(cls: str, member: str, paren: int, pos: int) -> None:
        spec = api.method(cls, member)
        n = _arg_count(code, paren)
        if spec is None or n is None:
            return
        low, high = spec[0], spec[1]
        if n < low or (high >= 0 and n > high):
            span = f"{low}" if low == high else f"{low}..{'n' if high < 0 else high}"
            problems.append(f"{where(pos)}: {cls}.{member}() takes {span} arguments, given {n}")

    for m in _ACCESS.finditer(code):
        left, member, call = m.group(1), m.group(2), m.group(3)
        if left in scripts:
            if member not in scripts[left] and api.method("GDScript", member) is None:
                problems.append(f"{where(m.start())}: the script loaded as {left!r} has no "
                                f"{member!r}")
            continue
        if (left in defined and left not in typed) or left in VARIANT_TYPES or left == "self":
            continue
        targets: set[str] = set()
        if left in api.singletons:
            targets = {api.singletons[left]}
        elif left in api.classes:
            targets = {left}
        elif left in typed:
            targets = typed[left]
        if not targets or (member == "new" and call and left in api.classes):
            continue
        ok = [c for c in targets if (api.method(c, member) is not None if call
                                     else api.has_member(c, member))]
        if not ok:
            kind = "method" if call else "member"
            problems.append(f"{where(m.start())}: {'/'.join(sorted(targets))} has no {kind} "
                            f"{member!r} ({left}.{member})")
        elif call:
            arity(ok[0], member, m.end() - 1, m.start())
    if base_class in api.classes:
        for m in _BARE_CALL.finditer(code):
            name = m.group(1)
            line_start = code.rfind("\n", 0, m.start()) + 1
            head = code[line_start:m.start()]
            if (name in defined or name in NOT_METHODS or name in VARIANT_TYPES
                    or re.search(r"\bfunc\s*$", head)):
                continue
            if api.method(base_class, name) is None:
                problems.append(f"{where(m.start())}: {base_class} has no method {name!r}()")
            else:
                arity(base_class, name, m.end() - 1, m.start())
    return problems


def problems(api: Api | None = None) -> list[str]:
    api = api or Api(*load_api())
    found: list[str] = []
    for path in sorted(ADDON.rglob("*.gd")):
        found += check_source(path.relative_to(ADDON.parent.parent).as_posix(),
                              path.read_text(), api)
    return found


if __name__ == "__main__":
    issues = problems()
    for issue in issues:
        print(issue)
    print(f"check_api: {len(issues)} problem(s) against {', '.join(p.name for p in API_FILES)}")
    sys.exit(1 if issues else 0)
