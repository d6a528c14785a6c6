# Redis servers for the tests, on 127.0.0.1 only. Sourced by scripts/test.
#
#   ensure_redis          standalone Redis on 6379 (started if not answering)
#   ensure_redis_cluster  3 primaries on 7101-7103, cluster created if needed
#
# Servers this script starts keep running for the next test run; their files
# (pid, log, nodes.conf) live under $SESSION_SERVICES_DIR.

REDIS_CLUSTER_PORTS=(7101 7102 7103)

need_redis_binaries() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return
  echo "installing redis-server (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
}

redis_answers() { # port
  [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
}

ensure_redis() {
  redis_answers 6379 && return
  need_redis_binaries
  echo "starting redis-server on 127.0.0.1:6379" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_for 10 "redis on 127.0.0.1:6379 answers PING" redis_answers 6379
}

cluster_ok() {
  local port
  for port in "${REDIS_CLUSTER_PORTS[@]}"; do
    redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
}

start_cluster_node() { # port
  local dir="$SESSION_SERVICES_DIR/redis-$1"
  mkdir -p "$dir"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$1" --cluster-enabled yes \
    --cluster-config-file "$dir/nodes.conf" --dir "$dir" --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" --save "" --appendonly no
}

stop_our_cluster_nodes() {
  local port pidfile
  for port in "${REDIS_CLUSTER_PORTS[@]}"; do
    pidfile="$SESSION_SERVICES_DIR/redis-$port/redis.pid"
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 0.5
}

ensure_redis_cluster() {
  cluster_ok && return
  need_redis_binaries
  local port fresh=1
  for port in "${REDIS_CLUSTER_PORTS[@]}"; do
    redis_answers "$port" || start_cluster_node "$port"
    wait_for 10 "cluster node 127.0.0.1:$port answers PING" redis_answers "$port" || return 1
  done
  # Nodes restarted from an earlier nodes.conf rejoin by themselves.
  wait_for 5 "cluster state ok" cluster_ok 2>/dev/null && return
  for port in "${REDIS_CLUSTER_PORTS[@]}"; do
    [ "$(redis-cli -h 127.0.0.1 -p "$port" dbsize)" = 0 ] || fresh=0
    redis-cli -h 127.0.0.1 -p "$port" cluster info | grep -q '^cluster_known_nodes:1' || fresh=0
  done
  if [ "$fresh" = 0 ]; then
    echo "resetting the test cluster's nodes (their state was inconsistent)" >&2
    stop_our_cluster_nodes
    rm -rf "${SESSION_SERVICES_DIR:?}"/redis-71*
    for port in "${REDIS_CLUSTER_PORTS[@]}"; do start_cluster_node "$port"; done
    for port in "${REDIS_CLUSTER_PORTS[@]}"; do
      wait_for 10 "cluster node 127.0.0.1:$port answers PING" redis_answers "$port" || return 1
    done
  fi
  echo "creating the 3-primary test cluster on 127.0.0.1:${REDIS_CLUSTER_PORTS[*]}" >&2
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${REDIS_CLUSTER_PORTS[@]}") \
    --cluster-replicas 0 --cluster-yes >/dev/null
  wait_for 20 "cluster state ok on every node" cluster_ok
}
