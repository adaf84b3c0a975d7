"""The architecture gate (issue #17): types, layering, complexity and module size of the sidecar.

Each check prints its table to the CI output (also with ``-q``), pass or fail:

- ``mypy --strict sidecar/atelico`` (config in pyproject.toml) reports 0 errors;
- no module under ``server/`` imports ``atelico.engines`` (adapters go through the service);
- ``protocol/`` imports neither ``av`` nor ``atelico.audio.codecs`` (it stays pure);
- radon: no function or method above cyclomatic complexity 15, no module above 450 lines.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "sidecar" / "atelico"
MAX_COMPLEXITY = 15
MAX_MODULE_LINES = 450
TOP = 12


def _report(capsys: pytest.CaptureFixture[str], title: str, lines: list[str]) -> None:
    with capsys.disabled():
        print(f"\n[architecture] {title}\n" + "\n".join(lines))


def _need(module: str) -> None:
    """The gate's tools come with the dev extra: missing in CI is a failure, elsewhere a skip."""
    try:
        __import__(module)
    except ImportError:
        hint = f"{module} is missing: pip install -e '.[dev]'"
        if os.environ.get("CI") == "true":
            pytest.fail(hint)
        pytest.skip(hint)


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _dotted(path: Path, root: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _is_module(dotted: str, root: Path) -> bool:
    base = root.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imported_modules(path: Path, root: Path = PACKAGE.parent) -> Iterator[tuple[int, str]]:
    """Every module a file under ``root`` imports, at top level or inside functions, relative
    imports resolved; ``from a import b`` yields ``a``, and ``a.b`` too where b is a module."""
    here = _dotted(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield node.lineno, base
            for alias in node.names:
                if _is_module(f"{base}.{alias.name}", root):
                    yield node.lineno, f"{base}.{alias.name}"


def _violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    """``path:line imports module`` for each forbidden import (the most specific name)."""
    hits: dict[tuple[str, int], set[str]] = {}
    for path in _modules(PACKAGE / folder):
        for line, name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                hits.setdefault((str(path.relative_to(ROOT)), line), set()).add(name)
    return [f"  {where}:{line} imports {name}" for (where, line), names in sorted(hits.items())
            for name in sorted(names) if not any(n.startswith(name + ".") for n in names)]


def test_the_import_scanner_sees_lazy_relative_and_submodule_imports(tmp_path: Path) -> None:
    """The layering checks are only as good as the scanner: it must see an import inside a
    function, resolve ``..`` and notice a submodule named after ``import``."""
    server = tmp_path / "pkg" / "server"
    (tmp_path / "pkg" / "engines").mkdir(parents=True)
    server.mkdir()
    for init in (tmp_path / "pkg", server, tmp_path / "pkg" / "engines"):
        (init / "__init__.py").write_text("")
    (tmp_path / "pkg" / "engines" / "base.py").write_text("X = 1\n")
    (server / "routes.py").write_text(
        "import json\n"
        "def handler():\n"
        "    from ..engines import base\n"
        "    from ..engines.base import X\n"
        "    from . import helpers\n")
    found = set(imported_modules(server / "routes.py", tmp_path))
    assert found == {(1, "json"), (3, "pkg.engines"), (3, "pkg.engines.base"),
                     (4, "pkg.engines.base"), (5, "pkg.server")}


def test_server_does_not_import_engines(capsys: pytest.CaptureFixture[str]) -> None:
    """Adapters translate; only the service (and the registry) reach the engines."""
    found = _violations("server", ("atelico.engines",))
    _report(capsys, f"server/ -> engines/ imports: {len(found)}", found or ["  none"])
    assert not found, "\n".join(found)


def test_protocol_is_pure(capsys: pytest.CaptureFixture[str]) -> None:
    """protocol/ decodes no audio: no PyAV, no audio.codecs."""
    found = _violations("protocol", ("av", "atelico.audio.codecs"))
    _report(capsys, f"protocol/ -> av, audio.codecs imports: {len(found)}", found or ["  none"])
    assert not found, "\n".join(found)


@pytest.mark.timeout(600)  # a cold cache takes minutes on a busy machine
def test_mypy_strict_reports_no_errors(capsys: pytest.CaptureFixture[str]) -> None:
    """``mypy --strict sidecar/atelico`` with the pyproject config: 0 errors."""
    _need("mypy")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "sidecar/atelico"],
                          cwd=ROOT, capture_output=True, text=True, timeout=540)
    errors = [line for line in proc.stdout.splitlines() if re.match(r"^\S+\.py:\d+: error:", line)]
    by_file = Counter(line.split(":", 1)[0] for line in errors)
    table = [f"  {count:4d}  {name}" for name, count in by_file.most_common(TOP)]
    if len(by_file) > TOP:
        table.append(f"  ... {len(by_file) - TOP} more file(s)")
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:]
    _report(capsys, f"mypy --strict: {summary}", table + [*(f"  {e}" for e in errors[:40])])
    assert proc.returncode in (0, 1), proc.stderr[-2000:]  # 2: mypy itself failed
    assert not errors and proc.returncode == 0, f"{len(errors)} mypy error(s)"


def _complexities() -> list[tuple[int, str]]:
    from radon.complexity import cc_visit
    from radon.visitors import Function

    rows = []
    for path in _modules(PACKAGE):
        for block in cc_visit(path.read_text("utf-8")):
            if isinstance(block, Function):  # functions and methods (a class is their average)
                name = f"{block.classname}.{block.name}" if block.classname else block.name
                rows.append((block.complexity, f"{path.relative_to(ROOT)}:{block.lineno} {name}"))
    return sorted(rows, reverse=True)


def _sizes() -> list[tuple[int, str]]:
    from radon.raw import analyze

    return sorted(((analyze(p.read_text("utf-8")).loc, str(p.relative_to(ROOT)))
                   for p in _modules(PACKAGE)), reverse=True)


def _check_limit(capsys: pytest.CaptureFixture[str], rows: list[tuple[int, str]], limit: int,
                 what: str, unit: str) -> None:
    """Print the largest rows (every one over ``limit``, at least TOP), then assert none is over."""
    over = [r for r in rows if r[0] > limit]
    shown = rows[: max(TOP, len(over))]
    _report(capsys, f"radon: {len(over)} {what} above {limit} {unit} (of {len(rows)}; !! = over)",
            [f"  {'!!' if value > limit else '  '} {value:5d}  {where}" for value, where in shown])
    assert not over, "\n".join(f"{value} {where}" for value, where in over)


def test_no_function_above_complexity_15(capsys: pytest.CaptureFixture[str]) -> None:
    _need("radon")
    _check_limit(capsys, _complexities(), MAX_COMPLEXITY, "function(s)", "cyclomatic complexity")


def test_no_module_above_450_lines(capsys: pytest.CaptureFixture[str]) -> None:
    _need("radon")
    _check_limit(capsys, _sizes(), MAX_MODULE_LINES, "module(s)", "lines")
