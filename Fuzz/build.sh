#!/usr/bin/env bash
# Build one libFuzzer target.
# Usage: Fuzz/build.sh NAME            → Fuzz/out/NAME
#        Fuzz/build.sh --prepare       → only the shared C object (Fuzz/out/obj/dictionary.o)
#        Fuzz/out/NAME Fuzz/NAME/seeds -max_total_time=600     (run; see docs/testing.md "Fuzzing")
#
# Two layouts:
# - single module (default): Fuzz/<name>/*.swift compiled together with Sources/DanmuCodecs (and, for targets that
#   need them, Sources/DanmuClient's pure files listed in Fuzz/<name>/extra-sources.txt) as one module FuzzTarget.
# - separate modules, when Fuzz/<name>/modules.txt exists: each line `ModuleName source...` (globs or `@listfile`,
#   paths relative to the repo root, `#` comments) is compiled in order as its own module with coverage and ASan,
#   so sources that `import DanmuCodecs` compile unchanged; then Fuzz/<name>/*.swift (module FuzzTarget) imports
#   them and everything is linked with libFuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: Fuzz/build.sh NAME}
mkdir -p Fuzz/out/obj
# The C dictionary object every target links. Built only when missing or stale: Fuzz/smoke.sh builds it once
# (`Fuzz/build.sh --prepare`) before building two targets at once, since a swiftc that sees an input file change
# under it fails ("was modified during the build").
dictionary=Fuzz/out/obj/dictionary.o
if [ ! -f "$dictionary" ] || [ Sources/CBrotliDictionary/dictionary.c -nt "$dictionary" ]; then
    clang -c -O1 -fsanitize=fuzzer-no-link,address -ISources/CBrotliDictionary/include \
        Sources/CBrotliDictionary/dictionary.c -o "$dictionary.$$"
    mv -f "$dictionary.$$" "$dictionary"
fi
[ "$name" = "--prepare" ] && exit 0

if [ -f "Fuzz/$name/modules.txt" ]; then
    moddir="Fuzz/out/obj/$name"
    rm -rf "$moddir"
    mkdir -p "$moddir"
    objects=()
    while read -r module specs; do
        case "$module" in ''|'#'*) continue ;; esac
        sources=()
        for spec in $specs; do
            if [[ "$spec" == @* ]]; then
                while read -r f; do
                    case "$f" in ''|'#'*) continue ;; esac
                    sources+=("$f")
                done < "${spec#@}"
            else
                sources+=($spec)   # glob expansion wanted here
            fi
        done
        # -sanitize=fuzzer on a compile-only job adds the coverage instrumentation; libFuzzer is linked below.
        swiftc -O -wmo -sanitize=fuzzer,address -parse-as-library -module-name "$module" \
            -ISources/CBrotliDictionary/include -I "$moddir" \
            -emit-module -emit-module-path "$moddir/$module.swiftmodule" \
            -emit-object -o "$moddir/$module.o" "${sources[@]}"
        objects+=("$moddir/$module.o")
    done < "Fuzz/$name/modules.txt"
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name FuzzTarget \
        -ISources/CBrotliDictionary/include -I "$moddir" \
        Fuzz/"$name"/*.swift "${objects[@]}" Fuzz/out/obj/dictionary.o \
        -o "Fuzz/out/$name" 2> >(grep -v "Cannot export local symbol" >&2)
    wait
    echo "built Fuzz/out/$name"
    exit 0
fi

extra=()
if [ -f "Fuzz/$name/extra-sources.txt" ]; then
    while read -r f; do [ -n "$f" ] && extra+=("$f"); done < "Fuzz/$name/extra-sources.txt"
fi
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name FuzzTarget \
    -ISources/CBrotliDictionary/include \
    Sources/DanmuCodecs/*.swift "${extra[@]}" Fuzz/"$name"/*.swift Fuzz/out/obj/dictionary.o \
    -o "Fuzz/out/$name" 2> >(grep -v "Cannot export local symbol" >&2)
wait
echo "built Fuzz/out/$name"
