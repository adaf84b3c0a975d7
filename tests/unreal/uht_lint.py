"""A linter for the reflection rules Unreal's header tool (UHT) enforces, for machines without UE.

Checks every header under the given paths (default: unreal_plugin/Source):

- ``generated-include``: a header with UCLASS/USTRUCT/UENUM includes ``<File>.generated.h``,
  and that include is the last one.
- ``generated-body``: every UCLASS/USTRUCT body contains GENERATED_BODY() (or a GENERATED_*_BODY).
- ``blueprint-assignable``: a ``BlueprintAssignable`` UPROPERTY has a dynamic multicast delegate
  type (DECLARE_DYNAMIC_MULTICAST_DELEGATE*); a UPROPERTY never has a native delegate type.
- ``reflected-type``: UFUNCTION parameters/return types and UPROPERTY types use no ``std::``, no
  raw STL names, and no templates other than TArray/TMap/TSet/TSubclassOf/TObjectPtr/
  TWeakObjectPtr/TSoftObjectPtr (plus TSoftClassPtr, TScriptInterface, TEnumAsByte).
- ``template-member``: no template UFUNCTION, no templated UCLASS/USTRUCT.
- ``reflected-outside-uclass``: UFUNCTION only inside a UCLASS; UPROPERTY only inside a
  UCLASS/USTRUCT.
- ``dynamic-binding``: a member bound with AddDynamic/AddUniqueDynamic/RemoveDynamic (in a
  header or a .cpp beside it) is a UFUNCTION of that class; UE finds it by name at run time,
  so binding a plain member compiles and then never fires.

Prints ``path:line: rule: message`` per violation and exits 1 when there is any.
Run: python tests/unreal/uht_lint.py [paths...]
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ALLOWED_TEMPLATES = {"TArray", "TMap", "TSet", "TSubclassOf", "TObjectPtr", "TWeakObjectPtr",
                     "TSoftObjectPtr", "TSoftClassPtr", "TScriptInterface", "TEnumAsByte"}
STL_NAMES = {"vector", "string", "map", "unordered_map", "set", "unordered_set", "function",
             "shared_ptr", "unique_ptr", "weak_ptr", "pair", "tuple", "optional", "variant",
             "array", "deque", "list", "u16string", "wstring", "string_view"}
SPECIFIER_KEYWORDS = {"const", "class", "struct", "enum", "static", "virtual", "inline",
                      "FORCEINLINE", "explicit", "mutable", "volatile", "unsigned", "signed"}
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Violation:
    path: Path
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"


@dataclass
class Scope:
    kind: str  # "UCLASS", "USTRUCT" or "" (plain class/struct)
    name: str
    start: int
    end: int
    line: int


def strip_comments(text: str) -> str:
    """Blanks comments and string/char literals, keeping offsets and newlines."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out[i:j] = [c if c == "\n" else " " for c in text[i:j]]
            i = j
        elif text[i] in "\"'":
            quote, j = text[i], i + 1
            while j < n and text[j] != quote and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out[i + 1:j] = " " * (j - i - 1)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def matching(text: str, open_at: int, open_ch: str, close_ch: str) -> int:
    """Index of the bracket closing the one at open_at (len(text) if unbalanced)."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == open_ch:
            depth += 1
        elif text[i] == close_ch:
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def macro_args(text: str, at: int) -> tuple[str, int]:
    """The argument text of the macro call whose name ends before `at`, and the end offset."""
    open_at = text.find("(", at)
    close = matching(text, open_at, "(", ")")
    return text[open_at + 1:close], close + 1


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def class_scopes(code: str) -> list[Scope]:
    """Every class/struct body in the file, tagged with its reflection macro (if any)."""
    scopes: list[Scope] = []
    for m in re.finditer(r"\b(class|struct)\s+(?:[A-Z0-9_]+_API\s+)?([A-Za-z_]\w*)\s*(?:final\s*)?(?::[^;{]*)?\{", code):
        before = code[:m.start()].rstrip()
        kind = ""
        macro = re.search(r"\b(UCLASS|USTRUCT|UINTERFACE)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*$", before)
        if macro:
            kind = "UCLASS" if macro.group(1) in ("UCLASS", "UINTERFACE") else "USTRUCT"
        open_at = m.end() - 1
        scopes.append(Scope(kind, m.group(2), open_at, matching(code, open_at, "{", "}"), line_of(code, m.start())))
    return scopes


def innermost(scopes: list[Scope], offset: int) -> Scope | None:
    inside = [s for s in scopes if s.start < offset < s.end]
    return min(inside, key=lambda s: s.end - s.start) if inside else None


def type_problems(type_text: str) -> list[str]:
    """Why a reflected type is illegal (empty when legal)."""
    problems = []
    t = re.sub(r"\s+", " ", type_text).strip()
    if "std::" in t:
        problems.append(f"'{t}' uses std:: (not reflectable)")
    for name in re.findall(r"\b([A-Za-z_]\w*)\s*<", t):
        if name not in ALLOWED_TEMPLATES:
            problems.append(f"'{t}' uses template {name}<> (UHT allows only {', '.join(sorted(ALLOWED_TEMPLATES))})")
    for word in re.findall(r"(?<!::)\b([a-z_]\w*)\b", t):
        if word in STL_NAMES:
            problems.append(f"'{t}' uses the STL type {word}")
    return problems


def split_params(params: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in params:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def param_type(param: str) -> str:
    """'const TArray<uint8>& Pcm = {}' -> 'const TArray<uint8>&' (drops the name and default)."""
    p = param.split("=")[0].strip()
    m = re.match(r"^(.*?)([A-Za-z_]\w*)\s*(\[[^\]]*\])?$", p)
    if m and m.group(1).strip() and not m.group(1).strip().endswith("::"):
        return m.group(1).strip()
    return p


def collect_delegates(headers: list[tuple[Path, str]]) -> tuple[set[str], set[str]]:
    dynamic_multicast, native = set(), set()
    for _, code in headers:
        for m in re.finditer(r"\bDECLARE_(DYNAMIC_)?(MULTICAST_)?(?:SPARSE_)?DELEGATE\w*\s*\(\s*([A-Za-z_]\w*)", code):
            if m.group(1) and m.group(2):
                dynamic_multicast.add(m.group(3))
            elif not m.group(1):
                native.add(m.group(3))
    return dynamic_multicast, native


def lint_header(path: Path, raw: str, code: str, dynamic_multicast: set[str], native_delegates: set[str]) -> list[Violation]:
    found: list[Violation] = []

    def report(offset: int, rule: str, message: str) -> None:
        found.append(Violation(path, line_of(code, offset), rule, message))

    reflected = re.search(r"\b(UCLASS|USTRUCT|UENUM|UINTERFACE)\s*\(", code)
    # Include names come from the raw text (string contents are blanked in `code`), at the
    # offsets of includes that are not commented out.
    includes = [m for m in re.finditer(r"^\s*#\s*include\s*[\"<]([^\">]+)[\">]", raw, re.M)
                if re.match(r"\s*#\s*include", code[m.start():m.end()])]
    if reflected:
        generated = f"{path.stem}.generated.h"
        names = [m.group(1) for m in includes]
        if generated not in names:
            report(reflected.start(), "generated-include", f"reflected header does not include \"{generated}\"")
        elif names[-1] != generated:
            at = includes[names.index(generated)]
            report(at.start(), "generated-include", f"\"{generated}\" must be the last include (found \"{names[-1]}\" after it)")

    scopes = class_scopes(code)
    for scope in scopes:
        if not scope.kind:
            continue
        body = code[scope.start:scope.end]
        nested = [s for s in scopes if scope.start < s.start and s.end < scope.end]
        own = "".join(c for i, c in enumerate(body) if not any(s.start <= scope.start + i <= s.end for s in nested))
        if not re.search(r"\bGENERATED_(?:\w+_)?BODY\s*\(", own):
            report(scope.start, "generated-body", f"{scope.kind} {scope.name} has no GENERATED_BODY()")
        head = code[:scope.start]
        macro_at = max(head.rfind("UCLASS"), head.rfind("USTRUCT"), head.rfind("UINTERFACE"))
        if re.search(r"\btemplate\s*<[^;{}]*$", code[max(0, macro_at - 200):macro_at]):
            report(scope.start, "template-member", f"{scope.kind} {scope.name} is a class template")

    for m in re.finditer(r"\b(UFUNCTION|UPROPERTY)\s*\(", code):
        macro = m.group(1)
        args, end = macro_args(code, m.start())
        scope = innermost(scopes, m.start())
        if macro == "UFUNCTION" and (scope is None or scope.kind != "UCLASS"):
            where = f"{scope.kind or 'plain'} {scope.name}" if scope else "file scope"
            report(m.start(), "reflected-outside-uclass", f"UFUNCTION({args.strip()}) outside a UCLASS ({where})")
        if macro == "UPROPERTY" and (scope is None or not scope.kind):
            where = f"plain {scope.name}" if scope else "file scope"
            report(m.start(), "reflected-outside-uclass", f"UPROPERTY outside a UCLASS/USTRUCT ({where})")
        stop = min([i for i in (code.find(";", end), code.find("{", end)) if i >= 0] or [len(code)])
        decl = code[end:stop].strip()
        if macro == "UFUNCTION":
            if re.match(r"template\s*<", decl):
                report(m.start(), "template-member", "template UFUNCTION")
                continue
            paren = decl.find("(")
            if paren < 0:
                continue
            close = matching(decl, paren, "(", ")")
            head = decl[:paren].strip()
            ret = re.sub(r"\b(" + "|".join(SPECIFIER_KEYWORDS) + r")\b", " ", head)
            ret = ret.rsplit(None, 1)[0] if len(ret.split()) > 1 else ""
            for problem in type_problems(ret):
                report(m.start(), "reflected-type", f"return type {problem}")
            for param in split_params(decl[paren + 1:close]):
                for problem in type_problems(param_type(param)):
                    report(m.start(), "reflected-type", f"parameter {problem}")
        else:
            member = decl.split("=")[0].strip()
            member = re.sub(r"\s*:\s*\d+\s*$", "", member)  # bitfield
            mtype = param_type(member)
            for problem in type_problems(mtype):
                report(m.start(), "reflected-type", f"property {problem}")
            base = re.sub(r"\b(const|class|struct|enum)\b", "", mtype).strip(" &*")
            if "BlueprintAssignable" in args and base not in dynamic_multicast:
                report(m.start(), "blueprint-assignable",
                       f"BlueprintAssignable property of type {base or '?'} is not a dynamic multicast delegate")
            elif base in native_delegates:
                report(m.start(), "blueprint-assignable", f"UPROPERTY of native delegate type {base} (use a dynamic delegate)")
    return found


def ufunctions(headers: list[tuple[Path, str]]) -> set[tuple[str, str]]:
    """(class, member) of every UFUNCTION declared inside a UCLASS."""
    found = set()
    for _, code in headers:
        scopes = class_scopes(code)
        for m in re.finditer(r"\bUFUNCTION\s*\(", code):
            scope = innermost(scopes, m.start())
            _, end = macro_args(code, m.start())
            name = re.match(r"[^(;{]*?([A-Za-z_]\w*)\s*\(", code[end:])
            if scope is not None and scope.kind == "UCLASS" and name:
                found.add((scope.name, name.group(1)))
    return found


def lint_bindings(path: Path, code: str, reflected: set[tuple[str, str]]) -> list[Violation]:
    found = []
    for m in re.finditer(r"\b(AddDynamic|AddUniqueDynamic|RemoveDynamic)\s*\(\s*[^,()]+,\s*&\s*([A-Za-z_]\w*)::([A-Za-z_]\w*)\s*\)",
                         code):
        if (m.group(2), m.group(3)) not in reflected:
            found.append(Violation(path, line_of(code, m.start()), "dynamic-binding",
                                   f"{m.group(1)} binds {m.group(2)}::{m.group(3)}, which is not a UFUNCTION of "
                                   f"{m.group(2)}"))
    return found


def lint(paths: list[Path]) -> list[Violation]:
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.rglob("*.h")) if p.is_dir() else [p])
    sources = [f for p in paths for f in (sorted(p.rglob("*.cpp")) if p.is_dir() else [])]
    raws = {f: f.read_text(encoding="utf-8") for f in files + sources}
    headers = [(f, strip_comments(raws[f])) for f in files if f.suffix != ".cpp"]
    dynamic_multicast, native = collect_delegates(headers)
    reflected = ufunctions(headers)
    violations: list[Violation] = []
    for path, code in headers:
        violations.extend(lint_header(path, raws[path], code, dynamic_multicast, native))
    for path in files + sources:
        violations.extend(lint_bindings(path, strip_comments(raws[path]), reflected))
    return violations


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or [REPO / "unreal_plugin" / "Source"]
    violations = lint(paths)
    for v in violations:
        print(v)
    count = sum(1 for p in paths for _ in (p.rglob("*.h") if p.is_dir() else [p]))
    print(f"uht_lint: {count} headers, {len(violations)} violations")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
