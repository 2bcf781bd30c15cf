#!/usr/bin/env bash
# A throwaway Redis Cluster on loopback for trying `danmu-cli listen --cluster` by hand (the tests start their own,
# Tests/TestSupport/RedisClusterTestServer.swift): 3 masters + 3 replicas on ports BASE..BASE+5 (BASE 7000 unless
# given), no persistence, everything under DIR (default /tmp/danmu-redis-cluster).
#
#   Scripts/redis-cluster.sh start [BASE] [DIR]    # then: danmu-cli listen --cluster redis://127.0.0.1:BASE …
#   Scripts/redis-cluster.sh owner [BASE]          # which master owns {danmu} (kill it to try a failover)
#   Scripts/redis-cluster.sh stop [BASE] [DIR]
#
# cluster-node-timeout is 2000 ms, as in the failover tests: a killed master's replica takes over in ~3-4 s.
set -euo pipefail
command=${1:-start}
base=${2:-7000}
dir=${3:-/tmp/danmu-redis-cluster}
ports=$(seq "$base" $((base + 5)))

case "$command" in
start)
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
        { echo "redis-server/redis-cli missing: run Scripts/ensure-test-deps.sh" >&2; exit 1; }
    mkdir -p "$dir"
    for port in $ports; do
        redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --cluster-enabled yes \
            --cluster-config-file "$dir/nodes-$port.conf" --cluster-node-timeout 2000 --save "" --appendonly no \
            --daemonize yes --pidfile "$dir/redis-$port.pid" --logfile "$dir/redis-$port.log"
    done
    for port in $ports; do
        for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    done
    # shellcheck disable=SC2086
    redis-cli --cluster create $(for port in $ports; do printf '127.0.0.1:%s ' "$port"; done) \
        --cluster-replicas 1 --cluster-yes >"$dir/create.log"
    for _ in $(seq 200); do
        redis-cli -p "$base" cluster info | grep -q cluster_state:ok && break
        sleep 0.1
    done
    redis-cli -p "$base" cluster nodes | awk '{print $2, $3}'
    echo "seed: redis://127.0.0.1:$base"
    ;;
owner)
    slot=$(redis-cli -p "$base" cluster keyslot danmu)
    redis-cli -p "$base" cluster nodes | awk -v s="$slot" '$3 ~ /master/ && $3 !~ /fail/ {
        for (i = 9; i <= NF; i++) { split($i, r, "-"); if (r[2] == "") r[2] = r[1]; if (s >= r[1] && s <= r[2]) print $2 } }'
    ;;
stop)
    for port in $ports; do
        if [ -f "$dir/redis-$port.pid" ]; then kill "$(cat "$dir/redis-$port.pid")" 2>/dev/null || true; fi
    done
    sleep 0.5
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|owner|stop [BASE] [DIR]" >&2
    exit 2
    ;;
esac
