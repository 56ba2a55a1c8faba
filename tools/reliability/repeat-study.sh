#!/usr/bin/env bash
# Runs the command that once crashed intermittently (issue #11, docs/reliability.md) N times and counts failures:
#   trigramlens study --model ../shared/arena-trigrams/trigram_model.pt --rows 2500
# Usage: tools/reliability/repeat-study.sh [RUNS=50] [OUT=/tmp/trigramlens-repeat-study]
# Builds the CLI once (Release), then runs it RUNS times into OUT (the first run trains the study's transcoder, the others
# reuse it). Prints one line per run (exit code, seconds) and the last lines of any failing run; exits 1 if any failed.
set -u
cd "$(dirname "$0")/../.."
runs=${1:-50}
out=${2:-/tmp/trigramlens-repeat-study}
model=../shared/arena-trigrams/trigram_model.pt
[ -f "$model" ] || { echo "repeat-study: no checkpoint at $model (README: Reference data)" >&2; exit 2; }
dotnet build -c Release src/TrigramLens.Cli -v quiet -nologo >/dev/null || { echo "repeat-study: the build failed" >&2; exit 1; }
cli=src/TrigramLens.Cli/bin/Release/net10.0/trigramlens.dll
failed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  log=$(dotnet "$cli" study --model "$model" --rows 2500 --out "$out" 2>&1)
  code=$?
  echo "run $i/$runs: exit $code in $(( $(date +%s) - start )) s"
  if [ "$code" -ne 0 ]; then failed=$((failed + 1)); echo "$log" | tail -3 | sed 's/^/    /'; fi
done
echo "$((runs - failed)) of $runs runs exited 0; $failed failed"
[ "$failed" -eq 0 ]
