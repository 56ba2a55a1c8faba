#!/usr/bin/env bash
# Mutation check of TrigramLens's tests: plants one bug at a time (tools/mutation/mutants/NN-name.patch), builds, runs the
# tests the bug could affect, records which tests failed, reverts, and prints a table. See docs/mutation-testing.md.
#
#   tools/mutation/run.sh                  every mutant, fast mode (below)
#   tools/mutation/run.sh 15 16 17         the mutants whose file names start with these numbers (or names)
#   tools/mutation/run.sh --full           every mutant against the whole test projects its Tests: header names
#   tools/mutation/run.sh --full --all 22  every test project, for every mutant named
#   tools/mutation/run.sh --list           the mutants and what each plants
#
# Fast mode (the default): each mutant first runs only the test classes its Fast: header names (Project/Name entries,
# a dotnet test --filter "FullyQualifiedName~Name" per project); if one fails, the mutant is caught by those tests and
# nothing else runs. Only if none fails are the whole projects of its Tests: header run, as in --full. A caught mutant
# is caught either way; the fast mode's count of failing tests is a lower bound of the full mode's.
# Options: --full, --all (every test project when the whole projects run), --no-baseline (skip the check that the
# clean tree passes first: in fast mode the Fast: classes, in full mode the whole projects), --list.
# Builds and tests run under nice -n 10, one mutant at a time.
# Environment: MUTATION_OUT (result folder; default tools/mutation/out/<time>), MUTATION_TIMEOUT (seconds per test
# project, default 1800), MUTATION_CONFIGURATION (build configuration, default Mutation).
#
# Mutant builds go to bin/Mutation and obj/Mutation, so the Debug and Release outputs are never those of a mutant. The
# source tree is restored after each mutant and on any exit, Ctrl-C included. CI=true, so the tests that need ARENA's
# checkpoint (../shared/arena-trigrams/trigram_model.pt beside the repository) run, and fail if it is missing.
set -uo pipefail

root=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel) || exit 2
cd "$root" || exit 2
mutants_dir=tools/mutation/mutants
configuration=${MUTATION_CONFIGURATION:-Mutation}
timeout_seconds=${MUTATION_TIMEOUT:-1800}
all_projects=(Toolkit Trigrams Benchmarks Figures Cli)
export CI=true DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

use_all=0 baseline=1 list=0 fast=1 selectors=()
for arg in "$@"; do
    case $arg in
        --all) use_all=1 ;;
        --full) fast=0 ;;
        --no-baseline) baseline=0 ;;
        --list) list=1 ;;
        -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
        *) selectors+=("$arg") ;;
    esac
done

# A header line of a patch ("Bug: ...") without its key.
field() { sed -n "s/^$2: *//p" "$1" | head -n 1; }

patches=()
for patch in "$mutants_dir"/*.patch; do
    name=$(basename "$patch" .patch)
    if ((${#selectors[@]})); then
        keep=0
        for s in "${selectors[@]}"; do [[ $name == "$s" || $name == "$s"-* || $name == *"$s"* ]] && keep=1; done
        ((keep)) || continue
    fi
    patches+=("$patch")
done
((${#patches[@]})) || { echo "run.sh: no mutant matches ${selectors[*]}" >&2; exit 2; }

if ((list)); then
    for patch in "${patches[@]}"; do printf '%s\n    %s\n    tests: %s\n    fast: %s\n' "$(basename "$patch" .patch)" "$(field "$patch" Bug)" "$(field "$patch" Tests)" "$(field "$patch" Fast)"; done
    exit 0
fi

# The patches change src/ only; it must be as committed, so that restoring a file from HEAD restores it exactly.
if ! git diff --quiet HEAD -- src; then
    echo "run.sh: src/ has uncommitted changes; commit or stash them first (mutants are reverted by restoring files from HEAD)" >&2
    exit 2
fi

out=${MUTATION_OUT:-$root/tools/mutation/out/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" || exit 2
exec 3>&2       # the terminal's stderr, for the traps: they may run while a build's output goes to its log
applied=()      # files the planted mutant changed
child=          # process group of the running build or test

restore() {
    if ((${#applied[@]})); then
        git checkout -q HEAD -- "${applied[@]}"
        applied=()
    fi
}

on_exit() {
    restore
    if ! git diff --quiet HEAD -- src; then
        echo "run.sh: WARNING: src/ still differs from HEAD; restore it with: git checkout HEAD -- src" >&3
    fi
}

on_signal() {
    echo >&3
    echo "run.sh: interrupted; restoring the tree" >&3
    [[ -n $child ]] && kill -TERM -- "-$child" 2>/dev/null
    exit 130
}

trap on_exit EXIT
trap on_signal INT TERM HUP

# Runs a command in its own process group and waits for it: the wait is interruptible, and an interrupt ends the whole
# group (dotnet test's test host included). Returns the command's exit code.
run() {
    setsid nice -n 10 "$@" &
    child=$!
    wait "$child"
    local code=$?
    child=
    return $code
}

project_path() { echo "tests/TrigramLens.$1.Tests/TrigramLens.$1.Tests.csproj"; }

build() {   # build <log> <project...>
    local log=$1 p
    shift
    for p in "$@"; do
        run dotnet build "$(project_path "$p")" -c "$configuration" -nologo -nr:false -v q -clp:ErrorsOnly >>"$log" 2>&1 || return 1
    done
}

# Runs the test projects into <dir> (one trx each). Prints "project<TAB>failed-test" lines on stdout: one per failed
# test case, and a note per project whose run failed without a failed test (a crash or the timeout). With a Fast:
# header value in $fast_filter, runs only that header's classes of each project (the projects it names no class of
# are skipped).
fast_filter=
test_projects() {   # test_projects <dir> <project...>
    local dir=$1 p code trx filter
    shift
    for p in "$@"; do
        filter=""
        if [[ -n $fast_filter ]]; then
            local expr="" entry
            for entry in $fast_filter; do
                [[ ${entry%%/*} == "$p" ]] && expr+="${expr:+|}FullyQualifiedName~${entry#*/}"
            done
            [[ -n $expr ]] || continue
            filter=$expr
        fi
        trx="$dir/$p.trx"
        rm -f "$trx"
        run timeout --signal=TERM --kill-after=30 "$timeout_seconds" dotnet test "$(project_path "$p")" -c "$configuration" --no-build \
            ${filter:+--filter "$filter"} --logger "trx;LogFileName=$p.trx" --results-directory "$dir" >"$dir/test-$p.log" 2>&1
        code=$?
        local failed=""
        [[ -f $trx ]] && failed=$(grep -o '<UnitTestResult [^>]*outcome="Failed"' "$trx" | sed 's/.* testName="\([^"]*\)".*/\1/')
        if [[ -n $filter && -f $trx ]] && ! grep -q '<UnitTestResult ' "$trx"; then
            printf '%s\t%s\n' "$p" "(the filter matched no test: a Fast: header names a class that does not exist)"
        elif [[ -n $failed ]]; then
            printf '%s\n' "$failed" | sed -e 's/&quot;/"/g' -e 's/&apos;/'"'"'/g' -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g' \
                | awk -v p="$p" '{ split($0, a, "("); n = split(a[1], parts, "."); args = substr($0, length(a[1]) + 1);
                                   print p "\t" parts[n-1] "." parts[n] args }'
        elif ((code == 124 || code == 137)); then
            printf '%s\t%s\n' "$p" "(timed out after ${timeout_seconds} s)"
        elif ((code != 0)); then
            printf '%s\t%s\n' "$p" "(test run failed with exit code $code and no failed test: crash; see test-$p.log)"
        fi
    done
}

projects_for() {   # the test projects a patch names (Tests: header), or every one with --all
    if ((use_all)); then echo "${all_projects[*]}"; else field "$1" Tests; fi
}

fast_projects_for() {   # the projects a patch's Fast: header names classes of, in order, once each
    local entry out=()
    for entry in $(field "$1" Fast); do [[ " ${out[*]} " == *" ${entry%%/*} "* ]] || out+=("${entry%%/*}"); done
    echo "${out[*]}"
}

if ((fast)); then
    for patch in "${patches[@]}"; do
        [[ -n $(field "$patch" Fast) ]] || { echo "run.sh: $(basename "$patch" .patch) has no Fast: header (use --full, or add one)" >&2; exit 2; }
    done
fi

if ((baseline)); then
    needed=() all_fast=""
    for patch in "${patches[@]}"; do
        if ((fast)); then ps=$(fast_projects_for "$patch"); all_fast+=" $(field "$patch" Fast)"; else ps=$(projects_for "$patch"); fi
        for p in $ps; do [[ " ${needed[*]} " == *" $p "* ]] || needed+=("$p"); done
    done
    if ((fast)); then what="the Fast: classes of"; else what="the whole of"; fi
    echo "Baseline: the clean tree, $what ${needed[*]} ($configuration build)"
    mkdir -p "$out/baseline"
    build "$out/baseline/build.log" "${needed[@]}" || { echo "run.sh: the clean tree does not build; see $out/baseline/build.log" >&2; exit 1; }
    fast_filter=$all_fast
    test_projects "$out/baseline" "${needed[@]}" >"$out/baseline/failed.tsv"
    fast_filter=
    if [[ -s $out/baseline/failed.tsv ]]; then
        echo "run.sh: the clean tree fails tests, so failures could not be told apart from mutants':" >&2
        sed 's/^/  /' "$out/baseline/failed.tsv" >&2
        exit 1
    fi
    echo "  all pass"
fi

summary="$out/summary.tsv"
printf 'mutant\tstatus\tfailed\ttests\tprojects\tseconds\tmode\n' >"$summary"
invalid=0
for patch in "${patches[@]}"; do
    name=$(basename "$patch" .patch)
    dir="$out/$name"
    mkdir -p "$dir"
    read -r -a projects <<<"$(projects_for "$patch")"
    ((${#projects[@]})) || { echo "run.sh: $name names no test projects (Tests: header)" >&2; exit 2; }
    start=$SECONDS
    echo "$name: $(field "$patch" Bug)"
    echo "    tests: ${projects[*]}"

    if ! git apply --check "$patch" 2>"$dir/apply.log"; then
        echo "    DOES NOT APPLY (see $dir/apply.log): not a mutant of this tree"
        printf '%s\tdoes not apply\t0\t\t%s\t%s\t\n' "$name" "${projects[*]}" $((SECONDS - start)) >>"$summary"
        invalid=$((invalid + 1))
        continue
    fi
    mapfile -t applied < <(git apply --numstat "$patch" | cut -f3)
    git apply "$patch" || exit 1

    mode=full
    if ((fast)); then
        mode=fast
        read -r -a first <<<"$(fast_projects_for "$patch")"
        echo "    fast: $(field "$patch" Fast)"
    else
        first=("${projects[@]}")
    fi
    if ! build "$dir/build.log" "${first[@]}"; then
        echo "    DOES NOT BUILD (see $dir/build.log): not a mutant"
        restore
        printf '%s\tdoes not build\t0\t\t%s\t%s\t%s\n' "$name" "${projects[*]}" $((SECONDS - start)) "$mode" >>"$summary"
        invalid=$((invalid + 1))
        continue
    fi
    ((fast)) && fast_filter=$(field "$patch" Fast)
    test_projects "$dir" "${first[@]}" >"$dir/failed.tsv"
    fast_filter=
    if ((fast)) && [[ ! -s $dir/failed.tsv ]]; then
        # Nothing the header named failed: the whole projects decide.
        echo "    the Fast: classes all pass; running the whole of ${projects[*]}"
        mode=fast+full
        mkdir -p "$dir/fast" && mv "$dir"/*.trx "$dir"/test-*.log "$dir/fast/" 2>/dev/null
        if ! build "$dir/build.log" "${projects[@]}"; then
            echo "    DOES NOT BUILD (see $dir/build.log): not a mutant"
            restore
            printf '%s\tdoes not build\t0\t\t%s\t%s\t%s\n' "$name" "${projects[*]}" $((SECONDS - start)) "$mode" >>"$summary"
            invalid=$((invalid + 1))
            continue
        fi
        test_projects "$dir" "${projects[@]}" >"$dir/failed.tsv"
    fi
    restore

    count=$(awk -F'\t' 'substr($2, 1, 1) != "("' "$dir/failed.tsv" | wc -l)
    # Test methods, the cases of a theory folded into one entry with their count; a crash or timeout as a note.
    tests=$(awk -F'\t' '{ key = substr($2, 1, 1) == "(" ? $1 " " $2 : $2; sub(/\(.*/, "", key) } substr($2, 1, 1) == "(" { key = $1 " " $2 }
                        { if (!(key in n)) order[++k] = key; n[key]++ }
                        END { for (i = 1; i <= k; i++) printf "%s%s%s", (i > 1 ? ", " : ""), order[i], (n[order[i]] > 1 ? " x" n[order[i]] : "") }' "$dir/failed.tsv")
    if [[ -s $dir/failed.tsv ]]; then status=caught; else status=SURVIVED; fi
    echo "    $status ($count failed test cases, $mode) in $((SECONDS - start)) s"
    [[ -n $tests ]] && echo "    by: $tests"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$count" "$tests" "${projects[*]}" $((SECONDS - start)) "$mode" >>"$summary"
done

echo
echo "Results in $out"
column -t -s $'\t' "$summary" 2>/dev/null || cat "$summary"
planted=$(awk -F'\t' 'NR > 1 && ($2 == "caught" || $2 == "SURVIVED")' "$summary" | wc -l)
caught=$(awk -F'\t' 'NR > 1 && $2 == "caught"' "$summary" | wc -l)
echo
echo "Score: $caught / $planted mutants caught"
awk -F'\t' 'NR > 1 && $2 == "SURVIVED" { print "  survived: " $1 }' "$summary"
((invalid)) && echo "  $invalid patch(es) did not apply or build: fix them (they are not counted)"
[[ $caught == "$planted" && $invalid == 0 ]]
