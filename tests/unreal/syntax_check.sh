#!/usr/bin/env bash
# g++ -fsyntax-only over every UE-layer .cpp of the plugin against the stand-in headers in
# stubs/. Generates empty *.generated.h files (UHT's output) into $1. UHT rules are review-only.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLUGIN="$HERE/../../unreal_plugin"
GEN="${1:-/tmp/atelico_unreal_syntax}"
mkdir -p "$GEN"
INCLUDES=(-I"$HERE/stubs" -I"$GEN")
for module in AtelicoAI AtelicoAIEditor; do
  INCLUDES+=(-I"$PLUGIN/Source/$module/Public" -I"$PLUGIN/Source/$module/Private")
done
INCLUDES+=(-I"$PLUGIN/Source/AtelicoAI/Private/Core")
while IFS= read -r header; do
  base="$(basename "$header" .h)"
  : >"$GEN/$base.generated.h"
done < <(find "$PLUGIN/Source" -name '*.h' -not -path '*/Core/*')
FAIL=0
COUNT=0
while IFS= read -r src; do
  COUNT=$((COUNT + 1))
  case "$src" in *AtelicoAIEditor*) API="-DATELICOAIEDITOR_API= -DWITH_EDITOR=1" ;; *) API="-DWITH_EDITOR=1" ;; esac
  if ! g++ -std=c++17 -fsyntax-only -fno-exceptions -fno-rtti -Wall -Wextra -Wshadow -Werror -DATELICOAI_API= $API \
      -include "$HERE/stubs/CoreMinimal.h" "${INCLUDES[@]}" "$src" 2>"$GEN/err.txt"; then
    echo "FAIL $src"; head -n 30 "$GEN/err.txt"; FAIL=1
  fi
done < <(find "$PLUGIN/Source" -name '*.cpp' -not -path '*/Core/*' | sort)
echo "syntax-checked $COUNT UE-layer files"
[ "$COUNT" -gt 0 ] && [ "$FAIL" -eq 0 ]
