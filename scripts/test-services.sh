#!/usr/bin/env bash
# Makes sure the backends the test suite needs are installed and running on
# loopback: PostgreSQL (database "test", trust auth for 127.0.0.1), a
# streaming replica of it on 5433, and
# Redis/Valkey on 6379. Installs Debian packages when missing, starts stopped
# servers, and waits until each answers. Idempotent.
set -euo pipefail

log() { printf 'test-services: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    log "installing postgresql"
    apt_install postgresql postgresql-contrib
  fi
  local ver
  ver=$(ls /etc/postgresql | sort -V | tail -1)
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting postgresql $ver"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  fi
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  pg_isready -q -h 127.0.0.1 -p 5432 || { log "postgresql did not come up"; exit 1; }
  # A fresh Debian install uses peer/scram auth; the tests connect as
  # postgres over TCP without a password, so trust loopback like CI does.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    log "enabling trust auth for loopback"
    local hba
    hba=$(as_root su postgres -c "psql -Atc 'show hba_file'")
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    as_root su postgres -c "psql -c 'select pg_reload_conf()'" >/dev/null
    sleep 1
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1 from pg_database where datname='test'" | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test' >/dev/null
  fi
}

# A streaming replica of the primary above, for the read-replica tests
# (ENGRAM_TEST_POSTGRES_REPLICA_URL, port 5433): pg_basebackup -R from the
# installed PostgreSQL binaries into /var/tmp/engram-pg-replica, its own
# minimal postgresql.conf and pg_hba.conf (Debian keeps the primary's in
# /etc, so the copy has none), started with pg_ctl. No replication slot:
# a slot would pin WAL on the primary for as long as the replica is down;
# a replica that fell too far behind is rebuilt instead (the base backup is
# the size of the test database). Idempotent and bounded in time.
REPLICA_PORT=${ENGRAM_TEST_REPLICA_PORT:-5433}
REPLICA_DIR=${ENGRAM_TEST_REPLICA_DIR:-/var/tmp/engram-pg-replica}
replica_in_recovery() {
  [ "$(psql -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -d postgres -Atc 'select pg_is_in_recovery()' 2>/dev/null)" = t ]
}
replica_streaming() {
  [ "$(psql -h 127.0.0.1 -U postgres -d postgres -Atc "select count(*) from pg_stat_replication where application_name = 'engram_test_replica' and state = 'streaming'" 2>/dev/null)" -ge 1 ]
}
ensure_postgres_replica() {
  local ver bin
  ver=$(ls /etc/postgresql | sort -V | tail -1)
  bin=/usr/lib/postgresql/$ver/bin
  if [ ! -x "$bin/pg_basebackup" ] || [ ! -x "$bin/pg_ctl" ]; then
    log "no pg_basebackup/pg_ctl in $bin: the replica tests will skip"
    return 0
  fi
  if replica_in_recovery && replica_streaming; then return 0; fi
  # The primary must accept replication connections from loopback
  # (wal_level replica and max_wal_senders are Debian's defaults).
  local hba
  hba=$(psql -h 127.0.0.1 -U postgres -d postgres -Atc 'show hba_file')
  if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    log "allowing replication connections from loopback"
    as_root sed -i '1i host replication all 127.0.0.1/32 trust' "$hba"
    psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select pg_reload_conf()' >/dev/null
    sleep 1
  fi
  local run=(runuser -u postgres --)
  [ "$(id -u)" = 0 ] || run=(sudo -u postgres)
  start_replica() {
    "${run[@]}" "$bin/pg_ctl" -D "$REPLICA_DIR" -l "$REPLICA_DIR/server.log" -w -t 30 start >/dev/null 2>&1 || return 1
    for _ in $(seq 1 40); do replica_in_recovery && replica_streaming && return 0; sleep 0.25; done
    return 1
  }
  if [ -f "$REPLICA_DIR/standby.signal" ]; then
    if ! replica_in_recovery; then
      log "starting the postgresql replica on $REPLICA_PORT"
      start_replica && return 0
    fi
    replica_in_recovery && replica_streaming && return 0
    log "the replica is not streaming (behind the primary's WAL?): rebuilding it"
    "${run[@]}" "$bin/pg_ctl" -D "$REPLICA_DIR" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
  fi
  log "building a postgresql replica on $REPLICA_PORT (pg_basebackup -R into $REPLICA_DIR)"
  as_root rm -rf "$REPLICA_DIR"
  as_root install -d -o postgres -g postgres -m 700 "$REPLICA_DIR"
  "${run[@]}" timeout 120 "$bin/pg_basebackup" -h 127.0.0.1 -p 5432 -U postgres -D "$REPLICA_DIR" -R -X stream -c fast --no-sync
  # -R wrote a primary_conninfo without an application_name; the later
  # line wins and names the replica, so the check above can find it.
  "${run[@]}" sh -c "echo \"primary_conninfo = 'host=127.0.0.1 port=5432 user=postgres application_name=engram_test_replica'\" >> '$REPLICA_DIR/postgresql.auto.conf'"
  local maxconn
  maxconn=$(psql -h 127.0.0.1 -U postgres -d postgres -Atc 'show max_connections')
  "${run[@]}" tee "$REPLICA_DIR/postgresql.conf" >/dev/null <<CONF
port = $REPLICA_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$REPLICA_DIR'
max_connections = $maxconn
shared_buffers = 64MB
hot_standby = on
hot_standby_feedback = on
max_standby_streaming_delay = 5s
fsync = off
CONF
  "${run[@]}" tee "$REPLICA_DIR/pg_hba.conf" >/dev/null <<CONF
local all all trust
host all all 127.0.0.1/32 trust
CONF
  start_replica || { log "the postgresql replica did not come up (see $REPLICA_DIR/server.log)"; exit 1; }
}

ensure_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing redis-server"
    apt_install redis-server
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting redis-server"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
  for _ in $(seq 1 40); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.25; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { log "redis did not come up"; exit 1; }
}

# A three-master Redis/Valkey Cluster on loopback for the valkeystore
# contract suites against a cluster (issue 20): redis-server
# --cluster-enabled on ports 7101-7103 (ENGRAM_TEST_VALKEY_CLUSTER_PORTS),
# each with its own data directory under ENGRAM_TEST_VALKEY_CLUSTER_DIR, no
# persistence, joined by redis-cli --cluster create when the slots are not
# yet assigned. Idempotent: nodes already answering are left alone, a
# cluster already in state ok is not touched. Bounded: about 30 s at most.
ensure_redis_cluster() {
  local ports=${ENGRAM_TEST_VALKEY_CLUSTER_PORTS:-7101 7102 7103}
  local base=${ENGRAM_TEST_VALKEY_CLUSTER_DIR:-/tmp/engram-valkey-cluster}
  local p addrs=()
  for p in $ports; do
    addrs+=("127.0.0.1:$p")
    if redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1; then continue; fi
    mkdir -p "$base/$p"
    log "starting redis-server cluster node on 127.0.0.1:$p"
    # nodes.conf (kept) is the node's cluster identity: a node restarted
    # alone rejoins its cluster with its slots (empty: no persistence).
    redis-server --daemonize yes --bind 127.0.0.1 --port "$p" --cluster-enabled yes \
      --cluster-config-file nodes.conf --cluster-node-timeout 2000 --save "" --appendonly no \
      --dir "$base/$p" --logfile "$base/$p/redis.log" --pidfile "$base/$p/redis.pid"
  done
  for p in $ports; do
    for _ in $(seq 1 40); do redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1 && break; sleep 0.25; done
    redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null || { log "cluster node $p did not come up (see $base/$p/redis.log)"; exit 1; }
  done
  local first=${addrs[0]#*:}
  if ! redis-cli -h 127.0.0.1 -p "$first" cluster info | grep -q '^cluster_state:ok'; then
    if redis-cli -h 127.0.0.1 -p "$first" cluster info | grep -q '^cluster_slots_assigned:0'; then
      log "creating the cluster ${addrs[*]}"
      redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
    fi
    for _ in $(seq 1 60); do
      redis-cli -h 127.0.0.1 -p "$first" cluster info | grep -q '^cluster_state:ok' && break
      sleep 0.25
    done
  fi
  for p in $ports; do
    redis-cli -h 127.0.0.1 -p "$p" cluster info | grep -q '^cluster_state:ok' ||
      { log "cluster node $p is not in cluster_state:ok (see $base/$p/redis.log; to start afresh, shut the nodes down and delete $base)"; exit 1; }
  done
}

# mem0's JavaScript SDKs (pinned in testdata/mem0sdk/package-lock.json) for
# cmd/engramd's TestMem0SDKs. npm ci runs only when the lockfile changed
# since the last install (a stamp records its hash). Node.js and npm come
# from Debian's packages when the machine has none (the test task requires
# this test, so a missing node must not turn into a skip).
ensure_mem0_sdks() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/testdata/mem0sdk"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    log "installing nodejs and npm"
    apt_install nodejs npm
  fi
  local want stamp="$dir/node_modules/.engram-lock-sha"
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  log "installing mem0's SDKs (npm ci in testdata/mem0sdk)"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --legacy-peer-deps --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
}

# The official MCP TypeScript SDK, playwright-core and axe-core (pinned in
# testdata/oauthsdk/package-lock.json) and Debian's chromium, for
# cmd/engramd's TestMCPSDKSignsInThroughTheBrowser (a headless browser signs
# in on engramd's consent page) and TestDashboardInTheBrowser (the
# dashboard, axe on every page). Same stamp rule as the mem0 SDKs.
ensure_oauth_sdk() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/testdata/oauthsdk"
  if [ ! -x /usr/bin/chromium ]; then
    log "installing chromium"
    apt_install chromium
  fi
  local want stamp="$dir/node_modules/.engram-lock-sha"
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  log "installing the MCP SDK, playwright-core and axe-core (npm ci in testdata/oauthsdk)"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
}

# openapi-typescript, openapi-fetch, TypeScript and Redocly's CLI (pinned
# in testdata/openapiclient/package-lock.json) for adapters/httpapi's
# TestGeneratedClientsTypeCheck: types generated from the served OpenAPI
# document, two clients type-checked with tsc --strict, the document linted
# with Redocly's recommended-strict ruleset. Same stamp rule as above.
ensure_openapi_client() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/testdata/openapiclient"
  local want stamp="$dir/node_modules/.engram-lock-sha"
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  log "installing openapi-typescript, TypeScript and Redocly's CLI (npm ci in testdata/openapiclient)"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
}

if ! command -v psql >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1; then :; fi
ensure_postgres
ensure_postgres_replica
ensure_redis
ensure_redis_cluster
ensure_mem0_sdks
ensure_oauth_sdk
ensure_openapi_client
log "postgres (and its replica on 5433), redis, a redis cluster (7101-7103), the mem0 SDKs, the MCP SDK, chromium and the OpenAPI client tools are up"
