#!/usr/bin/env bash
# Build one libFuzzer target: Fuzz/<name>/*.swift compiled together with Sources/DanmuCodecs (and, for targets
# that need them, Sources/DanmuClient's pure files listed in Fuzz/<name>/extra-sources.txt).
# Usage: Fuzz/build.sh NAME            → Fuzz/out/NAME
#        Fuzz/out/NAME Fuzz/NAME/seeds -max_total_time=600     (run; see README "Fuzzing")
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: Fuzz/build.sh NAME}
mkdir -p Fuzz/out/obj
clang -c -O1 -fsanitize=fuzzer-no-link,address -ISources/CBrotliDictionary/include \
    Sources/CBrotliDictionary/dictionary.c -o Fuzz/out/obj/dictionary.o
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
