#!/bin/sh
# Makes a Python venv with blivedm (PyPI "blivedm", xfgryujk's client, with aiohttp and brotli) for the blivedm
# interop test, when it is missing; idempotent. Prints the venv's python path as its last stdout line.
#   venv: $DANMU_BLIVEDM_VENV, default <repository>/.build/blivedm-venv (outside git, removed with .build)
# Fails loudly (non-zero exit, the reason on stderr) when python3, venv or pip cannot provide it.
# Usage: Scripts/ensure-blivedm.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${DANMU_BLIVEDM_VENV:-$root/.build/blivedm-venv}
python="$venv/bin/python"
have_blivedm() { [ -x "$python" ] && "$python" -c 'import blivedm, aiohttp, brotli' >/dev/null 2>&1; }
if have_blivedm; then
    echo "ensure-blivedm: blivedm already in $venv" >&2
    echo "$python"
    exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "ensure-blivedm: python3 is not installed (Scripts/ensure-test-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$(dirname "$venv")"
if [ ! -x "$python" ]; then
    echo "ensure-blivedm: creating the venv $venv" >&2
    if ! python3 -m venv "$venv" >&2; then
        echo "ensure-blivedm: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
        rm -rf "$venv"
        exit 1
    fi
fi
echo "ensure-blivedm: pip install blivedm into $venv" >&2
if ! "$python" -m pip install -q --disable-pip-version-check blivedm >&2; then
    echo "ensure-blivedm: pip install blivedm failed (is PyPI reachable?)" >&2
    exit 1
fi
if ! have_blivedm; then
    echo "ensure-blivedm: blivedm installed but 'import blivedm, aiohttp, brotli' fails in $venv" >&2
    exit 1
fi
echo "$python"
