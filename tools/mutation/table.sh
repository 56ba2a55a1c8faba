#!/usr/bin/env bash
# Prints the mutants of one or more summary.tsv files (from run.sh) as a Markdown table, one row per mutant (the
# last file that has a mutant wins), with each mutant's Bug: header and the first few failing test methods (all of them
# with --long). The starting point of the table in docs/mutation-testing.md.
#
#   tools/mutation/table.sh [--long] tools/mutation/out/<run>/summary.tsv [more summary.tsv ...]
set -euo pipefail
long=0
[[ ${1:-} == --long ]] && { long=1; shift; }
(($#)) || { echo "usage: table.sh [--long] summary.tsv [summary.tsv ...]" >&2; exit 2; }
mutants_dir=$(dirname "${BASH_SOURCE[0]}")/mutants

declare -A row
order=()
for summary in "$@"; do
    while IFS=$'\t' read -r name status failed tests projects seconds mode; do
        [[ $name == mutant ]] && continue
        [[ -v row[$name] ]] || order+=("$name")
        row[$name]="$status"$'\t'"$failed"$'\t'"$tests"$'\t'"${mode:-full}"
    done <"$summary"
done

echo '| Mutant | Plants | Result | Failing tests | Caught by |'
echo '|---|---|---|---|---|'
mapfile -t sorted < <(printf '%s\n' "${order[@]}" | sort)
for name in "${sorted[@]}"; do
    IFS=$'\t' read -r status failed tests mode <<<"${row[$name]}"
    bug=$(sed -n 's/^Bug: *//p' "$mutants_dir/$name.patch" | head -n 1 | sed 's/|/\\|/g')
    if ((!long)); then   # the first three methods, and how many more
        tests=$(awk -F', ' '{ for (i = 1; i <= NF && i <= 3; i++) printf "%s%s", (i > 1 ? ", " : ""), $i; if (NF > 3) printf " (+%d more)", NF - 3 }' <<<"$tests")
    fi
    printf '| %s | %s | %s (%s) | %s | %s |\n' "$name" "$bug" "$status" "$mode" "$failed" "$(sed 's/|/\\|/g' <<<"$tests")"
done
