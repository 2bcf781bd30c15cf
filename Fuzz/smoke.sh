#!/usr/bin/env bash
# Smoke run of every fuzz target (CI keeps "fuzzed" true): build each with Fuzz/build.sh (zero warnings), replay
# its committed seeds (and Fuzz/<name>/regressions/ if present), then fuzz for FUZZ_SMOKE_SECONDS (default 20).
# Usage: Fuzz/smoke.sh [NAME...]        (default: every Fuzz/<name>/main.swift)
#
# New inputs go to a scratch corpus in a temporary directory (listed first, so libFuzzer writes there and the
# committed seeds are only read). A crash, leak, timeout or OOM fails the run; its input is kept in
# Fuzz/out/smoke-artifacts/ (git-ignored) and the end of the fuzzer's log is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SMOKE_SECONDS:-20}
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for main in Fuzz/*/main.swift; do targets+=("$(basename "$(dirname "$main")")"); done
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
artifacts=Fuzz/out/smoke-artifacts
mkdir -p "$artifacts"
# A trap would otherwise start the Swift backtracer, which can hang instead of letting libFuzzer report.
export SWIFT_BACKTRACE=enable=no

# Build every target first. Most link the module DanmuCodecs, which Fuzz/build.sh compiles once into its cache
# (--prepare); the targets without it (single-module layout) build on the other core meanwhile, then the rest two at
# a time (each then only compiles its own entry and small modules: a few seconds). Building each target with its own
# DanmuCodecs took ~210 s of CI on the 2-core machine.
build_one() {
    local name=$1 scratch=$2
    if ! Fuzz/build.sh "$name" >"$scratch/build-$name.log" 2>&1; then
        echo "FAIL: building fuzz target $name failed:" >&2
        cat "$scratch/build-$name.log" >&2
        return 1
    fi
}
export -f build_one
start=$SECONDS
standalone=()
modular=()
for name in "${targets[@]}"; do
    if [ -f "Fuzz/$name/modules.txt" ]; then modular+=("$name"); else standalone+=("$name"); fi
done
echo "-- fuzz: building ${#targets[@]} targets"
Fuzz/build.sh --prepare >"$scratch/build-prepare.log" 2>&1 &
prepare=$!
for name in "${standalone[@]}"; do build_one "$name" "$scratch" || { kill "$prepare" 2>/dev/null; exit 1; }; done
if ! wait "$prepare"; then
    echo "FAIL: building the shared fuzz objects failed:" >&2
    cat "$scratch/build-prepare.log" >&2
    exit 1
fi
if [ ${#modular[@]} -gt 0 ]; then
    printf '%s\n' "${modular[@]}" | xargs -P 2 -I{} bash -c 'build_one "$1" "$2"' _ {} "$scratch"
fi
for name in prepare "${targets[@]}"; do
    cat "$scratch/build-$name.log"
    if grep -E '(^|: )warning:' "$scratch/build-$name.log" >/dev/null; then
        echo "FAIL: building fuzz target $name printed warnings" >&2
        exit 1
    fi
done
echo "-- fuzz: built in $((SECONDS - start)) s"

for name in "${targets[@]}"; do
    start=$SECONDS
    options=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
             -artifact_prefix="$artifacts/$name-")
    for dict in Fuzz/"$name"/*.dict; do [ -f "$dict" ] && options+=(-dict="$dict"); done
    corpora=("$scratch/corpus-$name" "Fuzz/$name/seeds")
    [ -d "Fuzz/$name/regressions" ] && corpora+=("Fuzz/$name/regressions")
    mkdir -p "$scratch/corpus-$name"
    echo "-- fuzz $name: ${seconds} s over ${corpora[*]:1}"
    if ! Fuzz/out/"$name" "${options[@]}" "${corpora[@]}" >"$scratch/run.log" 2>&1; then
        tail -n 60 "$scratch/run.log" >&2
        echo "FAIL: fuzz target $name failed; input kept in $artifacts/" >&2
        exit 1
    fi
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|^INFO: seed corpus' "$scratch/run.log" || true
    echo "-- fuzz $name: ok in $((SECONDS - start)) s"
done
