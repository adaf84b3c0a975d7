"""Line coverage for GDScript in the web runtime, which has no coverage tool of its own.

``instrument`` returns a copy of a script with a hit-counter call inserted before each
executable line: the first line of every statement inside a function or a multi-line
lambda body. Not executable (never counted, nothing inserted): class-level declarations
(``extends``, ``class_name``, ``signal``, ``const``, ``var``, ``enum``, annotations), ``func``
headers, ``elif``/``else`` lines (nothing may stand between them and their ``if``), ``match``
pattern lines, continuation lines of a multi-line statement, comments and blank lines. A
one-line lambda counts as part of the statement around it. Inserted calls keep the
statement's own indentation, so blocks, ``return``/``await`` positions and lambdas keep
their meaning; the original line numbers are kept in the counters' index.

The counters live in a generated ``AtelicoCoverage`` class (``coverage_script``); the
test bootstrap prints the indices that were hit, and ``report`` turns them into the
per-file table "executed / executable".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COVERAGE_CLASS = "AtelicoCoverage"
COVERAGE_PATH = "res://tests/coverage_hits.gd"

_FUNC = re.compile(r"^(static\s+)?func\s+\w+")
_LAMBDA_HEADER = re.compile(r"\bfunc\b.*\)\s*(->\s*[\w\[\]. ]+)?\s*:$")
_NO_INSERT = re.compile(r"^(elif\b|else\s*:)")
_ANNOTATION = re.compile(r"^@\w+")


@dataclass
class _Line:
    text: str
    indent: int  # width of the leading whitespace (a tab counts 4)
    code: str  # without comment and surrounding whitespace
    depth_start: int  # bracket depth before the line
    depth_end: int  # bracket depth after the line
    continued: bool  # the previous line ended with a backslash


def _scan(source: str) -> list[_Line]:
    """Splits into lines with comments removed and bracket depths tracked across strings."""
    lines: list[_Line] = []
    depth = 0
    in_triple: str | None = None
    continued = False
    for text in source.split("\n"):
        start_depth = depth
        code_chars: list[str] = []
        i = 0
        quote: str | None = None
        while i < len(text):
            ch = text[i]
            if in_triple is not None:
                if text.startswith(in_triple, i):
                    in_triple = None
                    i += 3
                    continue
                i += 1
                continue
            if quote is not None:
                code_chars.append(ch)
                if ch == "\\":
                    if i + 1 < len(text):
                        code_chars.append(text[i + 1])
                    i += 2
                    continue
                if ch == quote:
                    quote = None
                i += 1
                continue
            if text.startswith('"""', i) or text.startswith("'''", i):
                in_triple = text[i:i + 3]
                code_chars.append('""')
                i += 3
                continue
            if ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            elif ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(0, depth - 1)
            code_chars.append(ch)
            i += 1
        stripped = text.lstrip(" \t")
        lead = text[: len(text) - len(stripped)]
        indent = sum(4 if c == "\t" else 1 for c in lead)
        code = "".join(code_chars).strip()
        lines.append(_Line(text, indent, code, start_depth, depth, continued))
        continued = code.endswith("\\")
    return lines


@dataclass
class _Context:
    """A suite that holds statements: a function body or a multi-line lambda body."""

    base_depth: int  # bracket depth of the statements in this suite
    header_indent: int  # lines at or left of this indentation end the suite
    blocks: list[tuple[int, str]] = field(default_factory=list)  # (indent, kind) of open blocks


def executable_lines(source: str) -> list[int]:
    """1-based numbers of the executable lines (see the module docstring)."""
    return [n for n, _ in _statement_lines(source)]


def _statement_lines(source: str) -> list[tuple[int, int]]:
    """(line number, line number to insert the counter before) for each executable line."""
    out: list[tuple[int, int]] = []
    contexts: list[_Context] = []
    pending_annotation: int | None = None
    header_indent: int | None = None  # indentation of a func header still being read
    for number, line in enumerate(_scan(source), start=1):
        if not line.code:
            continue
        if header_indent is not None:  # a multi-line func header: its body starts after ":"
            if line.depth_end == 0 and line.code.endswith(":"):
                contexts = [_Context(0, header_indent)]
                header_indent = None
            continue
        # Leave the suites this line is outside of.
        while contexts and (line.indent <= contexts[-1].header_indent
                            or line.depth_start < contexts[-1].base_depth):
            contexts.pop()
        ctx = contexts[-1] if contexts else None
        starts_statement = (ctx is not None and line.depth_start == ctx.base_depth
                            and not line.continued)
        if _FUNC.match(line.code) and line.depth_start == 0:
            if line.depth_end == 0 and line.code.endswith(":"):
                contexts = [_Context(0, line.indent)]
            else:
                header_indent = line.indent
            pending_annotation = None
            continue
        if starts_statement and ctx is not None:
            while ctx.blocks and ctx.blocks[-1][0] >= line.indent:
                ctx.blocks.pop()
            in_match = bool(ctx.blocks) and ctx.blocks[-1][1] == "match"
            opens_block = line.code.endswith(":") and line.depth_end == line.depth_start
            if in_match:
                if opens_block:
                    ctx.blocks.append((line.indent, "pattern"))
            elif _ANNOTATION.match(line.code):
                if pending_annotation is None:
                    pending_annotation = number
                continue
            elif _NO_INSERT.match(line.code):
                if opens_block:
                    ctx.blocks.append((line.indent, "block"))
            else:
                out.append((number, pending_annotation or number))
                if opens_block:
                    kind = "match" if re.match(r"^match\b", line.code) else "block"
                    ctx.blocks.append((line.indent, kind))
            pending_annotation = None
        if ctx is not None and line.depth_end > ctx.base_depth and _LAMBDA_HEADER.search(line.code):
            contexts.append(_Context(line.depth_end, line.indent))
    return out


def instrument(source: str, first_index: int) -> tuple[str, list[int]]:
    """The instrumented copy and the executable line numbers, counted from ``first_index``.

    The counter of the k-th executable line is ``first_index + k``.
    """
    points = _statement_lines(source)
    before: dict[int, list[int]] = {}
    for k, (_, insert_at) in enumerate(points):
        before.setdefault(insert_at, []).append(first_index + k)
    out: list[str] = []
    for number, text in enumerate(source.split("\n"), start=1):
        lead = text[: len(text) - len(text.lstrip(" \t"))]
        for index in before.get(number, []):
            out.append(f"{lead}{COVERAGE_CLASS}.hit({index})")
        out.append(text)
    return "\n".join(out), [n for n, _ in points]


def coverage_script(total: int) -> str:
    """The GDScript class that holds the counters of ``total`` executable lines."""
    return (
        "## Line hit counters of the instrumented add-on scripts (tests/godot/gd_coverage.py).\n"
        f"class_name {COVERAGE_CLASS}\n"
        "extends RefCounted\n\n"
        "static var hits: PackedInt32Array = PackedInt32Array()\n\n\n"
        "static func hit(index: int) -> void:\n"
        "\tif hits.is_empty():\n"
        f"\t\thits.resize({max(total, 1)})\n"
        "\thits[index] += 1\n\n\n"
        "## Indices of the lines that ran at least once.\n"
        "static func snapshot() -> PackedInt32Array:\n"
        "\tvar out := PackedInt32Array()\n"
        "\tfor i in hits.size():\n"
        "\t\tif hits[i] > 0:\n"
        "\t\t\tout.append(i)\n"
        "\treturn out\n"
    )


@dataclass
class FileCoverage:
    path: str
    lines: list[int]  # executable line numbers
    first_index: int
    loadable: bool = True

    def executed(self, hit: set[int]) -> list[int]:
        return [n for k, n in enumerate(self.lines) if self.first_index + k in hit]


def report(files: list[FileCoverage], hit: set[int]) -> tuple[str, float]:
    """The per-file table and the total share (percent) of executable lines executed."""
    rows = ["coverage (executed / executable lines of addons/atelico):"]
    total_run = total_lines = 0
    for f in files:
        if not f.loadable:
            rows.append(f"  {f.path:<44} static only ({len(f.lines)} lines; cannot load in the"
                        " web runtime: checked by check_static.py and check_api.py)")
            continue
        ran = len(f.executed(hit))
        total_run += ran
        total_lines += len(f.lines)
        share = 100.0 * ran / len(f.lines) if f.lines else 100.0
        rows.append(f"  {f.path:<44} {ran:>4} / {len(f.lines):<4} {share:5.1f}%")
    total = 100.0 * total_run / total_lines if total_lines else 0.0
    label = "TOTAL (scripts that run)"
    rows.append(f"  {label:<44} {total_run:>4} / {total_lines:<4} {total:5.1f}%")
    return "\n".join(rows), total


def missed(files: list[FileCoverage], hit: set[int]) -> list[str]:
    """``path:line`` of every executable line that did not run."""
    out = []
    for f in files:
        if f.loadable:
            done = set(f.executed(hit))
            out += [f"{f.path}:{n}" for n in f.lines if n not in done]
    return out
