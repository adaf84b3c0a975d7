"""Each add-on's launcher source follows docs/launch_spec.json: the same arguments in the same
order, the token only in the environment, --parent-pid from the engine's own pid, the log line
read, /health/ready polled with "error" as a final answer. Drift in any add-on fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.launch.harness import REPO, SPEC

LAUNCHERS = SPEC["launchers"]


def scan(source: str, comment: str) -> tuple[list[str], str]:
    """(string literals, code without comments or literals) of a GDScript (``#``) or C-like
    (``//``, ``/* */``) source."""
    literals: list[str] = []
    code: list[str] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if comment == "#" and c == "#" or comment == "//" and source.startswith("//", i):
            i = source.find("\n", i) if "\n" in source[i:] else n
        elif comment == "//" and source.startswith("/*", i):
            i = source.index("*/", i) + 2
        elif c in "\"'" and (c == '"' or comment == "#"):
            j = i + 1
            while j < n and source[j] != c:
                j += 2 if source[j] == "\\" else 1
            literals.append(source[i + 1:j])
            code.append('""')
            i = j + 1
        elif comment == "//" and c == "'":  # a C++/C# character literal
            j = source.index("'", i + 2 if source[i + 1] == "\\" else i + 1)
            code.append(source[i:j + 1])
            i = j + 1
        else:
            code.append(c)
            i += 1
    return literals, "".join(code)


def launcher(name: str) -> tuple[list[str], str]:
    literals: list[str] = []
    code = ""
    for rel in LAUNCHERS[name]["sources"]:
        text = (REPO / rel).read_text()
        lits, c = scan(text, "#" if rel.endswith(".gd") else "//")
        literals += lits
        code += c
    return literals, code


def test_scanner_skips_comments_and_keeps_urls():
    lits, code = scan('x = "http://a/b" // --token\n/* "--no" */ y = \'c\';', "//")
    assert lits == ["http://a/b"] and "--token" not in code and "'c'" in code
    lits, code = scan('var a := "--x" # "--token"\n', "#")
    assert lits == ["--x"] and "token" not in code


@pytest.mark.parametrize("name", sorted(LAUNCHERS))
def test_launcher_uses_the_spec_arguments_in_order(name):
    literals, _ = launcher(name)
    joined = " ".join(literals)
    position = -1
    for flag in [a for a in SPEC["serve_args"] if a.startswith("--")]:
        at = joined.find(flag, position + 1)
        assert at > position, f"{name}: {flag} missing or out of order in {LAUNCHERS[name]['sources']}"
        position = at
    for forbidden in SPEC["forbidden_args"]:
        assert not any(forbidden == lit.strip() or f"{forbidden} " in lit for lit in literals), \
            f"{name} passes {forbidden} on the command line"


@pytest.mark.parametrize("name", sorted(LAUNCHERS))
def test_launcher_token_env_parent_pid_log_line_and_readiness(name):
    literals, code = launcher(name)
    joined = " ".join(literals)
    assert SPEC["env"]["token"] in literals, f"{name}: the token does not go through {SPEC['env']['token']}"
    assert LAUNCHERS[name]["parent_pid"] in code, f"{name}: --parent-pid from {LAUNCHERS[name]['parent_pid']}"
    assert SPEC["stdout"]["log_line_prefix"] in joined, f"{name} never reads the ATELICO_LOG line"
    assert SPEC["ready"]["path"].lstrip("/") in joined, f"{name}: no {SPEC['ready']['path']} poll"
    assert any(SPEC["ready"]["final_status"] in lit for lit in literals), f"{name}: 'error' not final"
