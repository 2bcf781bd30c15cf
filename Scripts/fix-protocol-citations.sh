#!/usr/bin/env bash
# Rewrites the source comments that cite `PROTOCOL.md` (the team's protocol reference, which is not in this
# repository) to cite `docs/protocol.md`, which is. docs/protocol.md keeps the reference's section numbers, so
# `PROTOCOL.md §8` becomes `docs/protocol.md §8`, `PROTOCOL.md §11–13` becomes `docs/protocol.md §11–13`, and a bare
# `PROTOCOL.md` (no section) becomes `docs/protocol.md`.
#
# Usage: Scripts/fix-protocol-citations.sh [--check]
#   (no option)  rewrite the files in Sources/, Tests/, Benchmarks/ and Fuzz/, then list what changed
#   --check      change nothing; list the citations that would change and exit 1 if there are any
#
# Idempotent: only a `PROTOCOL.md` that is not already part of a path or a longer name is rewritten, and the result
# (`docs/protocol.md`) is lower case, so a second run finds nothing. Every section a citation names must exist in
# docs/protocol.md (a heading `## N.` or `### N.M`); a citation of a missing section is reported and fails the run
# before anything is written.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=fix
case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# A citation: `PROTOCOL.md` not preceded by a path or name character (`../shared/PROTOCOL.md` stays), not followed by
# one (`PROTOCOL.md.bak` stays; a full stop ending a sentence does not count).
pattern='(?<![A-Za-z0-9_./-])PROTOCOL\.md(?![A-Za-z0-9_-]|\.[A-Za-z0-9_])'

mapfile -t files < <(grep -rlP "$pattern" Sources Tests Benchmarks Fuzz 2>/dev/null | sort || true)
if [ "${#files[@]}" -eq 0 ]; then
    echo "fix-protocol-citations: no PROTOCOL.md citations left"
    exit 0
fi

# The sections docs/protocol.md has: "## 8. Heartbeat" → 8, "### 2.2 WBI signing" → 2.2.
mapfile -t sections < <(sed -nE 's/^##+ ([0-9]+(\.[0-9]+)?)\.? .*/\1/p' docs/protocol.md)
has_section() {
    local wanted=$1 s
    for s in "${sections[@]}"; do [ "$s" = "$wanted" ] && return 0; done
    return 1
}

# Every section number a citation names: `§2.4, §3`, `§11–13` (a range: both ends), `§4–§9`.
missing=0
while IFS= read -r hit; do
    location=${hit%%:PROTOCOL*}
    refs=$(printf '%s\n' "$hit" | grep -oE 'PROTOCOL\.md[^)"]*' | grep -oE '§[0-9]+(\.[0-9]+)?([–-]§?[0-9]+(\.[0-9]+)?)?' || true)
    for ref in $refs; do
        for number in $(printf '%s\n' "${ref//§/}" | tr '–-' '  '); do
            if ! has_section "$number"; then
                echo "fix-protocol-citations: $location cites §$number, which docs/protocol.md does not have" >&2
                missing=1
            fi
        done
    done
done < <(grep -rnoE 'PROTOCOL\.md[^)"]*' "${files[@]}")
[ "$missing" -eq 0 ] || exit 1

if [ "$mode" = check ]; then
    grep -nP "$pattern" "${files[@]}"
    echo "fix-protocol-citations: $(grep -cP "$pattern" "${files[@]}" | awk -F: '{n += $NF} END {print n}') lines in ${#files[@]} files would change" >&2
    exit 1
fi

for file in "${files[@]}"; do
    PATTERN=$pattern perl -CSD -pi -e 's/$ENV{PATTERN}/docs\/protocol.md/g' "$file"
done
echo "fix-protocol-citations: rewrote the citations in ${#files[@]} files:"
printf '  %s\n' "${files[@]}"
