#!/bin/sh
# Installs the Debian packages the tests run against when they are missing (non-interactive, idempotent):
#   redis-server, redis-tools  the Redis sink's tests start a real server and read back with redis-cli
#   libsqlite3-0, python3      the SQLite sink (dlopen) and the tests' independent reader (python3's sqlite3)
# Usage: Scripts/ensure-test-deps.sh   (as root, or with sudo available)
set -eu
missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v redis-cli >/dev/null 2>&1 || missing="$missing redis-tools"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
ldconfig -p 2>/dev/null | grep -q 'libsqlite3\.so\.0' || missing="$missing libsqlite3-0"
if [ -z "$missing" ]; then
    echo "ensure-test-deps: nothing to install"
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "ensure-test-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
