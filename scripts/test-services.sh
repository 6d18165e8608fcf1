#!/usr/bin/env bash
# Makes sure the backends the test suite needs are installed and running on
# loopback: PostgreSQL (database "test", trust auth for 127.0.0.1) and
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
ensure_redis
ensure_redis_cluster
ensure_mem0_sdks
ensure_oauth_sdk
ensure_openapi_client
log "postgres, redis, a redis cluster (7101-7103), the mem0 SDKs, the MCP SDK, chromium and the OpenAPI client tools are up"
