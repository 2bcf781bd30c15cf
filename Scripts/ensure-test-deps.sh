#!/bin/sh
# Installs the Debian packages the tests run against when they are missing (non-interactive, idempotent):
#   redis-server, redis-tools  the Redis sink's tests start a real server and read back with redis-cli
#   libsqlite3-0, python3      the SQLite sink (dlopen) and the tests' independent reader (python3's sqlite3)
#   libssl3, openssl           TLS (dlopen) and the test certificates (openssl CLI)
#   zlib1g, libbrotli1         the codec round trips through the system libz / libbrotlidec / libbrotlienc
#   python3 websockets         the WebSocket reference server and client (pip, else python3-websockets); also
#                              Scripts/chromium-page-check.py's DevTools connection
#   chromium                   headless Chromium loads the live page (Tests/TestSupport/HeadlessChromium.swift)
#   python3 prometheus_client  the reference parser /metrics is checked with (pip, else python3-prometheus-client)
# Usage: Scripts/ensure-test-deps.sh   (as root, or with sudo available)
set -eu
missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v redis-cli >/dev/null 2>&1 || missing="$missing redis-tools"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
ldconfig -p 2>/dev/null | grep -q 'libsqlite3\.so\.0' || missing="$missing libsqlite3-0"
ldconfig -p 2>/dev/null | grep -q 'libssl\.so\.3' || missing="$missing libssl3"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
ldconfig -p 2>/dev/null | grep -q 'libz\.so\.1' || missing="$missing zlib1g"
ldconfig -p 2>/dev/null | grep -q 'libbrotlienc\.so\.1' || missing="$missing libbrotli1"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
websockets_ok() { python3 -c 'import websockets' >/dev/null 2>&1; }
prometheus_ok() { python3 -c 'import prometheus_client.parser' >/dev/null 2>&1; }
if [ -z "$missing" ] && websockets_ok && prometheus_ok; then
    echo "ensure-test-deps: nothing to install"
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
    echo "ensure-test-deps: installing$missing"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $missing
fi
if ! websockets_ok; then
    echo "ensure-test-deps: installing the python3 websockets module"
    python3 -m pip install -q websockets 2>/dev/null || python3 -m pip install -q --break-system-packages websockets \
        2>/dev/null || $sudo apt-get install -y -qq --no-install-recommends python3-websockets
fi
if ! prometheus_ok; then
    echo "ensure-test-deps: installing the python3 prometheus_client module"
    python3 -m pip install -q prometheus-client 2>/dev/null ||
        python3 -m pip install -q --break-system-packages prometheus-client 2>/dev/null ||
        $sudo apt-get install -y -qq --no-install-recommends python3-prometheus-client
fi
