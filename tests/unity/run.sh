#!/usr/bin/env bash
# Builds the Unity package along its .asmdef boundaries with mcs (C# 7.2 subset, warnings as errors)
# against the UnityEngine/UnityEditor stand-ins, then runs its NUnit tests (unit + end-to-end against
# a real sidecar) and prints "N passed, N failed". Exit 0 only when everything passed.
# Needs: mono-devel, nunit-console, libnunit-cil-dev (Debian). Env: ATELICO_PYTHON (default repo .venv).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PKG="$REPO/unity_package"
if [ -n "${ATELICO_UNITY_BUILD_DIR:-}" ]; then
  BUILD="$ATELICO_UNITY_BUILD_DIR"; mkdir -p "$BUILD"
else
  BUILD="$(mktemp -d -t atelico-unity.XXXXXX)"
  trap 'rm -rf "$BUILD"' EXIT
fi
# Everything the tests write to the temp dir (fake sidecars, sidecar logs) lands in the build dir.
mkdir -p "$BUILD/tmp"
export TMPDIR="$BUILD/tmp"
PYTHON="${ATELICO_PYTHON:-$REPO/.venv/bin/python}"
NUNIT_DLL="$(ls /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll 2>/dev/null | head -1)"
MCS=(mcs -langversion:7.2 -warnaserror+ -nologo -debug -target:library)

for tool in mcs mono nunit-console; do
  if ! command -v "$tool" >/dev/null; then
    echo "missing $tool: apt-get install -y mono-devel libmono-profiler nunit-console libnunit-cil-dev"
    echo "0 passed, 1 failed"
    exit 2
  fi
done
if ! compgen -G "/usr/lib/libmono-profiler-coverage.so*" >/dev/null && ! compgen -G "/usr/lib/*/libmono-profiler-coverage.so*" >/dev/null; then
  echo "missing mono's coverage profiler: apt-get install -y libmono-profiler"
  echo "0 passed, 1 failed"
  exit 2
fi
if [ -z "$NUNIT_DLL" ]; then
  echo "missing nunit.framework.dll: apt-get install -y libnunit-cil-dev"
  echo "0 passed, 1 failed"
  exit 2
fi
cp "$NUNIT_DLL" "$BUILD/nunit.framework.dll"

build_failed=0
compile() { # name, sources..., then -r: refs via REFS array
  local out="$1"; shift
  echo "== build $out"
  if ! "${MCS[@]}" -out:"$BUILD/$out" "${REFS[@]}" "$@"; then
    echo "BUILD FAILED: $out"
    build_failed=1
  fi
}

# Unity ignores files without a .meta in an immutable (git/registry) package: every file and folder
# outside the "~" folders needs one, and no .meta may be orphaned.
meta_problems="$(cd "$PKG" && { find . -path '*~*' -prune -o ! -name '*.meta' ! -name '.*' ! -path . -print | while read -r f; do [ -f "$f.meta" ] || echo "missing $f.meta"; done; find . -path '*~*' -prune -o -name '*.meta' -print | while read -r m; do [ -e "${m%.meta}" ] || echo "orphan $m"; done; })"
if [ -n "$meta_problems" ]; then echo "$meta_problems"; echo "META CHECK FAILED"; build_failed=1; fi

# The stand-ins, kept outside the package, in two profiles: "strict" has only members that exist in
# Unity (the package's Runtime, Editor and Tests compile against it, as in Unity's Test Runner); the full
# profile adds the test hooks (*.Hooks.cs: player loop, audio thread steps, console) for tests/unity.
STRICT="$BUILD/strict"
mkdir -p "$STRICT"
REFS=()
compile strict/UnityEngine.dll $(find "$HERE/stubs/UnityEngine" -name '*.cs' ! -name '*.Hooks.cs' | sort)
REFS=(-r:"$STRICT/UnityEngine.dll")
compile strict/UnityEditor.dll $(find "$HERE/stubs/UnityEditor" -name '*.cs' ! -name '*.Hooks.cs' | sort)
REFS=()
compile UnityEngine.dll $(find "$HERE/stubs/UnityEngine" -name '*.cs' | sort)
REFS=(-r:"$BUILD/UnityEngine.dll")
compile UnityEditor.dll $(find "$HERE/stubs/UnityEditor" -name '*.cs' | sort)

# The scripting defines of the Unity version the stand-ins model (Unity 6), plus the editor's.
UNITY6_DEFINES="-define:UNITY_2021_3_OR_NEWER;UNITY_2022_2_OR_NEWER;UNITY_2023_1_OR_NEWER;UNITY_6000_0_OR_NEWER;UNITY_EDITOR;UNITY_INCLUDE_TESTS"
UNITY2021_DEFINES="-define:UNITY_2021_3_OR_NEWER;UNITY_EDITOR;UNITY_INCLUDE_TESTS"

# One assembly per .asmdef, referencing exactly what the .asmdef declares (Unity refs: strict profile).
asmdef_refs() { # prints -r: flags for an asmdef
  "$PYTHON" - "$1" "$BUILD" <<'PY'
import json, sys
asm = json.load(open(sys.argv[1]))
build = sys.argv[2]
refs = ["strict/UnityEngine"]
editor = "Editor" in asm.get("includePlatforms", [])
if editor:
    refs.append("strict/UnityEditor")
refs += [r for r in asm.get("references", []) if r.startswith("Atelico.")]
if "nunit.framework.dll" in asm.get("precompiledReferences", []):
    refs.append("nunit.framework")
print(" ".join(f"-r:{build}/{r}.dll" for r in refs))
PY
}
asmdef_sources() { # asmdef path -> its .cs files, one a line (nested folders with their own .asmdef excluded)
  local dir f nested
  dir="$(dirname "$1")"
  while IFS= read -r f; do
    nested="$(dirname "$f")"
    while [ "$nested" != "$dir" ] && [ ! -f "$(ls "$nested"/*.asmdef 2>/dev/null | head -1)" ]; do nested="$(dirname "$nested")"; done
    [ "$nested" = "$dir" ] && echo "$f"
  done < <(find "$dir" -name '*.cs' | sort)
}
build_asmdef() { # asmdef path, output folder (relative to BUILD, "" = BUILD), extra mcs flags...
  local asmdef="$1" outdir="$2" name; shift 2
  name="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$asmdef")"
  local sources=()
  mapfile -t sources < <(asmdef_sources "$asmdef")
  read -r -a REFS <<<"$(asmdef_refs "$asmdef")"
  REFS+=("$@")
  compile "${outdir}$name.dll" "${sources[@]}"
}
build_asmdef "$PKG/Runtime/Atelico.Audio.asmdef" "" "$UNITY6_DEFINES"
build_asmdef "$PKG/Editor/Atelico.Audio.Editor.asmdef" "" "$UNITY6_DEFINES"
build_asmdef "$PKG/Tests/Runtime/Atelico.Audio.Tests.asmdef" "" "$UNITY6_DEFINES"
build_asmdef "$PKG/Tests/Editor/Atelico.Audio.Editor.Tests.asmdef" "" "$UNITY6_DEFINES"
# The oldest supported editor (package.json "unity": 2021.3) takes the other #if branches: they compile
# too (its FindObjectOfType is not obsolete there, so CS0618 from the Unity 6 stand-in is not an error).
mkdir -p "$BUILD/u2021"
build_asmdef "$PKG/Runtime/Atelico.Audio.asmdef" "u2021/" "$UNITY2021_DEFINES" -nowarn:618

# Tests that drive the stand-ins through their hooks (player loop, editor loop, audio thread) and the
# end-to-end tests live outside the package (they need the hooks, the repo's sidecar and test data).
REFS=(-r:"$BUILD/UnityEngine.dll" -r:"$BUILD/UnityEditor.dll" -r:"$BUILD/Atelico.Audio.dll" -r:"$BUILD/Atelico.Audio.Editor.dll" -r:"$BUILD/nunit.framework.dll")
compile Atelico.Audio.Engine.Tests.dll $(find "$HERE/engine" -name '*.cs' | sort)
REFS=(-r:"$BUILD/UnityEngine.dll" -r:"$BUILD/Atelico.Audio.dll" -r:"$BUILD/nunit.framework.dll")
compile Atelico.Audio.E2E.Tests.dll $(find "$HERE/e2e" -name '*.cs' | sort)

# The client conformance runner (tests/conformance/csharp) on the package's own Runtime assembly, so the
# scenarios it plays count towards the coverage below.
REFS=(-r:"$BUILD/Atelico.Audio.dll")
MCS_EXE=("${MCS[@]/-target:library/-target:exe}")
echo "== build Atelico.Conformance.exe"
"${MCS_EXE[@]}" -out:"$BUILD/Atelico.Conformance.exe" "${REFS[@]}" "$REPO/tests/conformance/csharp/ConformanceRunner.cs" || { echo "BUILD FAILED: Atelico.Conformance.exe"; build_failed=1; }

# A stand-in exported game (a separate process) for the shipping tests: launches the bundle beside it.
REFS=(-r:"$BUILD/UnityEngine.dll" -r:"$BUILD/Atelico.Audio.dll")
echo "== build Atelico.FakeGame.exe"
"${MCS_EXE[@]}" -out:"$BUILD/Atelico.FakeGame.exe" "${REFS[@]}" "$HERE/fakegame/FakeGame.cs" || { echo "BUILD FAILED: Atelico.FakeGame.exe"; build_failed=1; }

# The Samples~ folder is not an assembly in Unity (it is copied into Assets/ on import): compile it too.
REFS=(-r:"$STRICT/UnityEngine.dll" -r:"$BUILD/Atelico.Audio.dll")
compile VoicedNPC.Sample.dll $(find "$PKG/Samples~" -name '*.cs' | sort)

if [ "$build_failed" != 0 ]; then
  echo "0 passed, 1 failed"
  exit 1
fi

# Harness tools: the API-drift check and the coverage report (Mono.Cecil and the .mdb reader ship with mono).
CECIL="$(ls /usr/lib/mono/gac/Mono.Cecil/0.11*/Mono.Cecil.dll 2>/dev/null | head -1)"
if [ -z "$CECIL" ] || ! mcs -langversion:7.2 -warnaserror+ -nologo -out:"$BUILD/UnityTools.exe" -r:"$CECIL" -r:Mono.CompilerServices.SymbolWriter -r:System.Xml "$HERE/tools/UnityTools.cs"; then
  echo "BUILD FAILED: UnityTools.exe (needs mono-devel's Mono.Cecil)"
  echo "0 passed, 1 failed"
  exit 1
fi
checks=()
# Every public member of the strict stand-ins must be Unity API (tests/unity/api/unity-api.txt).
echo "== check stand-in API against Unity's"
if mono "$BUILD/UnityTools.exe" api "$HERE/api/unity-api.txt" "$STRICT/UnityEngine.dll" "$STRICT/UnityEditor.dll"; then checks+=("api:pass"); else checks+=("api:fail"); fi

# WebGL is excluded twice: Atelico.Audio.asmdef excludes the platform (Unity does not build the
# assembly for it), and a player build that still compiles the Runtime with UNITY_WEBGL stops at the
# #error in PlatformSupport.cs with its message; the editor (UNITY_EDITOR) targeting WebGL still compiles.
echo "== check WebGL exclusion"
webgl_check() {
  local sources=() out
  "$PYTHON" - "$PKG/Runtime/Atelico.Audio.asmdef" <<'PY' || return 1
import json, sys
asm = json.load(open(sys.argv[1]))
ok = asm.get("excludePlatforms") == ["WebGL"] and not asm.get("includePlatforms")
print("webgl: Atelico.Audio.asmdef excludePlatforms =", asm.get("excludePlatforms"), "includePlatforms =", asm.get("includePlatforms"))
sys.exit(0 if ok else 1)
PY
  mapfile -t sources < <(asmdef_sources "$PKG/Runtime/Atelico.Audio.asmdef")
  mkdir -p "$BUILD/webgl"
  if out="$("${MCS[@]}" -out:"$BUILD/webgl/Atelico.Audio.dll" -r:"$STRICT/UnityEngine.dll" \
      "-define:UNITY_2021_3_OR_NEWER;UNITY_2022_2_OR_NEWER;UNITY_2023_1_OR_NEWER;UNITY_6000_0_OR_NEWER;UNITY_WEBGL" "${sources[@]}" 2>&1)"; then
    echo "webgl: the Runtime compiled for a WebGL player; it must stop at PlatformSupport.cs's #error"; return 1
  fi
  if ! grep -q "PlatformSupport.cs.*#error: .Atelico Audio does not support WebGL: the browser has no threads" <<<"$out"; then
    echo "webgl: the WebGL build failed without the stated message:"; echo "$out" | head -5; return 1
  fi
  echo "webgl: a WebGL player build fails with: $(grep -o "#error: .*" <<<"$out" | head -1 | cut -c1-90)..."
  if ! "${MCS[@]}" -out:"$BUILD/webgl/Atelico.Audio.Editor-target.dll" -r:"$STRICT/UnityEngine.dll" \
      "$UNITY6_DEFINES;UNITY_WEBGL" "${sources[@]}"; then
    echo "webgl: the editor (UNITY_EDITOR) with WebGL as build target must still compile the Runtime"; return 1
  fi
}
if webgl_check; then checks+=("webgl:pass"); else checks+=("webgl:fail"); fi

export ATELICO_PROTOCOL_VECTORS="$REPO/tests/data/protocol"
export ATELICO_SPEECH_DIR="$REPO/tests/data/speech"
export ATELICO_PYTHON="$PYTHON"
export ATELICO_REPO="$REPO"
cd "$BUILD"
status=0
rm -f "$BUILD"/*.Tests.xml "$BUILD"/coverage-*.xml
# Every suite runs under mono's coverage profiler, limited to the package's two assemblies (without the
# filter, mono 6.8's profiler crashes inside NUnit); -domain=None keeps the tests in the profiled domain.
printf '+[Atelico.Audio]\n+[Atelico.Audio.Editor]\n' >"$BUILD/coverage-filter.txt"
NUNIT_EXE=/usr/lib/nunit/nunit-console.exe
SUITES="${ATELICO_UNITY_SUITES:-Atelico.Audio.Tests Atelico.Audio.Editor.Tests Atelico.Audio.Engine.Tests Atelico.Audio.E2E.Tests}"
for asm in $SUITES; do
  echo "== run $asm"
  timeout 300 mono --debug "--profile=coverage:output=$BUILD/coverage-$asm.xml,covfilter-file=$BUILD/coverage-filter.txt" \
    "$NUNIT_EXE" -nologo -noshadow -domain=None "-xml=$BUILD/$asm.xml" "$BUILD/$asm.dll" >"$BUILD/$asm.out" 2>&1
  rc=$?
  # The summary, and each failure with the lines under it (a fixture's SetUp error carries the
  # exception's message, e.g. the sidecar's output tail, which is what explains it).
  awk '/^(Tests run|Errors and Failures|Tests Not Run)/ { print; next }
       /^[0-9]+\) .*(SetUp|TearDown) Error/ { print; n = 40; next }
       /^[0-9]+\) / { print; n = 8; next }
       n > 0 { print; n-- }' "$BUILD/$asm.out" | head -160
  [ "$rc" != 0 ] && status=1
  [ ! -f "$BUILD/$asm.xml" ] && { echo "no result file for $asm (rc=$rc)"; tail -30 "$BUILD/$asm.out"; status=1; }
done

# Every client conformance scenario (tests/data/conformance) against the scripted server, as
# tests/conformance does, with this build's Atelico.Audio.dll under the coverage profiler.
if [ -z "${ATELICO_UNITY_SUITES:-}" ]; then
  echo "== run client conformance scenarios"
  if (cd "$REPO" && PYTHONPATH="$REPO/sidecar:$REPO" timeout 300 "$PYTHON" -m tests.conformance.csharp.runner \
      mono --debug "--profile=coverage:output=$BUILD/coverage-Conformance.xml,covfilter-file=$BUILD/coverage-filter.txt" \
      "$BUILD/Atelico.Conformance.exe"); then checks+=("conformance:pass"); else checks+=("conformance:fail"); fi
fi

# Share of the package's Runtime + Editor lines executed by these tests, per file. The minimum is a
# ratchet: raise it when coverage rises, never lower it (only meaningful for the full set of suites).
COVERAGE_MIN="${ATELICO_UNITY_COVERAGE_MIN:-85.0}"
[ -n "${ATELICO_UNITY_SUITES:-}" ] && COVERAGE_MIN=0
echo "== coverage"
if mono "$BUILD/UnityTools.exe" coverage "$COVERAGE_MIN" "$PKG" "$BUILD" "$BUILD"/coverage-*.xml; then checks+=("coverage:pass"); else checks+=("coverage:fail"); fi

# Count per test case: ignored or not-run tests count as failures (nothing may silently skip here);
# the API and coverage checks count as one case each.
"$PYTHON" - "$BUILD" "${checks[@]}" <<'PY'
import sys, glob, xml.etree.ElementTree as ET
passed = failed = 0
for path in sorted(glob.glob(sys.argv[1] + "/*.Tests.xml")):
    for case in ET.parse(path).iter("test-case"):
        if case.get("executed") == "True" and case.get("success") == "True":
            passed += 1
        else:
            failed += 1
            print("FAILED:", case.get("name"), "(" + (case.get("result") or "") + ")")
for check in sys.argv[2:]:
    name, result = check.split(":")
    if result == "pass":
        passed += 1
    else:
        failed += 1
        print("FAILED: check", name)
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
PY
py=$?
[ "$py" != 0 ] && status=1
exit $status
