#!/usr/bin/env bash
# Build one libFuzzer target.
# Usage: Fuzz/build.sh NAME            → Fuzz/out/NAME
#        Fuzz/build.sh --prepare       → only the objects most targets share (the C dictionary, module DanmuCodecs)
#        Fuzz/out/NAME Fuzz/NAME/seeds -max_total_time=600     (run; see docs/testing.md "Fuzzing")
#
# Two layouts:
# - modules (Fuzz/<name>/modules.txt): each line `ModuleName source...` (globs or `@listfile`, paths relative to the
#   repo root, `#` comments) is compiled in order as its own module with coverage, ASan and -enable-testing, so
#   sources compile unchanged and the entry can `@testable import` what it tests; then Fuzz/<name>/*.swift (module
#   FuzzTarget) is compiled and linked with them and libFuzzer.
# - single module (Fuzz/<name>/extra-sources.txt): the listed files, which import nothing of ours, and
#   Fuzz/<name>/*.swift compiled together as module FuzzTarget.
#
# Module objects are cached by content in Fuzz/out/obj/cache/<Module>-<hash>; the hash covers the flags, the
# module's file names and bytes, and the hashes of the modules before it. Most targets test DanmuCodecs: compiled
# once for all of them instead of once per target (one single-threaded -O -wmo compile: 44 s wall, 20 s CPU at
# load ~3 on the 2-core machine, where a target's own entry then builds and links in ~2 s). A lock per entry lets two builds that need one module share it (Fuzz/smoke.sh builds two
# targets at a time).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: Fuzz/build.sh NAME}
mkdir -p Fuzz/out/obj/cache
module_flags=(-O -wmo -sanitize=fuzzer,address -parse-as-library -enable-testing -ISources/CBrotliDictionary/include)

# The C dictionary object the Brotli decoder links. Built only when missing or stale, into a temporary name first:
# a swiftc that sees an input file change under it fails ("was modified during the build").
dictionary=Fuzz/out/obj/dictionary.o
if [ ! -f "$dictionary" ] || [ Sources/CBrotliDictionary/dictionary.c -nt "$dictionary" ]; then
    clang -c -O1 -fsanitize=fuzzer-no-link,address -ISources/CBrotliDictionary/include \
        Sources/CBrotliDictionary/dictionary.c -o "$dictionary.$$"
    mv -f "$dictionary.$$" "$dictionary"
fi

# build_module NAME FILE... : compiles (or finds in the cache) one module; sets module_dir. Reads and extends
# include_flags and chain (the hashes of the modules already in this target).
include_flags=()
chain=""
build_module() {
    local module=$1
    shift
    local key
    key=$({
        printf '%s\n' "${module_flags[*]}" "$module" "$chain"
        for f in "$@"; do
            printf '%s\n' "$f"
            cat "$f"
        done
    } | sha1sum | cut -c1-16)
    module_dir="Fuzz/out/obj/cache/$module-$key"
    if [ ! -f "$module_dir/$module.o" ]; then
        exec 9>"$module_dir.lock"
        flock 9
        if [ ! -f "$module_dir/$module.o" ]; then
            local staging="$module_dir.tmp.$$"
            rm -rf "$staging"
            mkdir -p "$staging"
            # -sanitize=fuzzer on a compile-only job adds the coverage instrumentation; libFuzzer is linked later.
            swiftc "${module_flags[@]}" -module-name "$module" "${include_flags[@]}" \
                -emit-module -emit-module-path "$staging/$module.swiftmodule" \
                -emit-object -o "$staging/$module.o" "$@"
            mv -T "$staging" "$module_dir"
        fi
        exec 9>&-
    fi
    include_flags+=(-I "$module_dir")
    chain="$chain $key"
}

if [ "$name" = "--prepare" ]; then
    build_module DanmuCodecs Sources/DanmuCodecs/*.swift
    exit 0
fi

link() {
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name FuzzTarget \
        -ISources/CBrotliDictionary/include "$@" -o "Fuzz/out/$name" 2> >(grep -v "Cannot export local symbol" >&2)
    wait
    echo "built Fuzz/out/$name"
}

if [ -f "Fuzz/$name/modules.txt" ]; then
    objects=()
    while read -r module specs; do
        case "$module" in '' | '#'*) continue ;; esac
        sources=()
        for spec in $specs; do
            if [[ "$spec" == @* ]]; then
                while read -r f; do
                    case "$f" in '' | '#'*) continue ;; esac
                    sources+=("$f")
                done <"${spec#@}"
            else
                sources+=($spec) # glob expansion wanted here
            fi
        done
        build_module "$module" "${sources[@]}"
        objects+=("$module_dir/$module.o")
    done <"Fuzz/$name/modules.txt"
    link "${include_flags[@]}" Fuzz/"$name"/*.swift "${objects[@]}" "$dictionary"
    exit 0
fi

extra=()
if [ -f "Fuzz/$name/extra-sources.txt" ]; then
    while read -r f; do [ -n "$f" ] && extra+=("$f"); done <"Fuzz/$name/extra-sources.txt"
fi
link "${extra[@]}" Fuzz/"$name"/*.swift
