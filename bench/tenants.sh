#!/usr/bin/env bash
# Many tenants in one catalog (issue 16; figures in docs/performance.md, "Tenants"): TENANTS tenants made through the
# API by a superadmin (each with its own directory, configuration, key and repository), SOURCES files sources each
# (added through the API with the tenant's own admin token), BACKUPS backup rows per source in the shared catalog; then
# wrk with 32 connections against tenant-scoped list calls, each request with the token of the next tenant in turn
# (so every request resolves a tenant, opens its workspace and reads only its rows):
#   GET /api/v1/backups?limit=100     GET /api/v1/sources     GET /api/v1/status
# against the server issue's goals (backups p99 < 50 ms, status p99 < 100 ms). It prints the load average.
#
#   bench/tenants.sh [--no-build] [--smoke] [TENANTS] [SOURCES] [BACKUPS]   defaults: 100 tenants, 10 sources, 10 backups
#
# --smoke: 3 tenants × 2 sources, 2 s per endpoint (checks the script works, not a figure).
# Run it on a quiet machine (no test suite or other benchmark at the same time).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
ensure_dotnet
ensure_apt wrk sqlite3 procps curl
NO_BUILD=0
SMOKE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) NO_BUILD=1; shift ;;
    --smoke) SMOKE=1; shift ;;
    *) break ;;
  esac
done
if [ "$SMOKE" = 1 ]; then TENANTS=3 SOURCES=2 BACKUPS=5 SECONDS_PER=2; else
  TENANTS=${1:-100} SOURCES=${2:-10} BACKUPS=${3:-10} SECONDS_PER=${SECONDS_PER:-15}
fi
[ "$NO_BUILD" = 1 ] || dotnet build src/Lifeboat.Cli -c Release -v quiet -nologo -clp:ErrorsOnly
LB="dotnet $PWD/src/Lifeboat.Cli/bin/Release/net10.0/lifeboat.dll"
work=$(mktemp -d /tmp/lifeboat-tenants-bench.XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
export LIFEBOAT_PASSPHRASE=bench-passphrase-not-secret
$LB repo init --repo "file://$work/repo" >/dev/null
# No rate limit: wrk is one client on purpose.
sed -i '0,/{/s//{ "Server": { "RequestsPerMinute": 0 },/' lifeboat.json
$LB status --json >/dev/null || true   # creates and migrates the catalog
super=$($LB token create --name bench-super --role superadmin --json | sed -n 's/.*"token": "\([^"]*\)".*/\1/p')
port=$(( 20000 + RANDOM % 12000 ))
$LB serve --urls "http://127.0.0.1:$port" 2> serve.log &
server_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
api() { # METHOD PATH TOKEN [BODY]
  curl -fsS -X "$1" -H "Authorization: Bearer $3" -H "Content-Type: application/json" ${4:+--data "$4"} "http://127.0.0.1:$port$2"
}
started=$(date +%s)
: > tokens.txt
for t in $(seq 1 "$TENANTS"); do
  name="t$t"
  api POST /api/v1/tenants "$super" "{\"name\":\"$name\"}" >/dev/null
  token=$(api POST "/api/v1/tenants/$name/tokens" "$super" "{\"name\":\"$name-admin\",\"role\":\"admin\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  echo "$token" >> tokens.txt
  for s in $(seq 1 "$SOURCES"); do
    mkdir -p "data/$name/s$s"
    api POST /api/v1/sources/files "$token" "{\"name\":\"s$s\",\"path\":\"$work/data/$name/s$s\"}" >/dev/null
  done
done
setup=$(( $(date +%s) - started ))
# BACKUPS rows per source of every tenant, one every 10 minutes back from now, as the catalog's cache holds them.
sqlite3 lifeboat.db <<SQL
WITH RECURSIVE t(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM t WHERE i < $TENANTS),
               s(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM s WHERE j < $SOURCES),
               b(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM b WHERE k < $BACKUPS)
INSERT INTO backups (tenant, id, source, kind, type, started, finished, bytes, stored_bytes, files, damaged)
SELECT 't' || i, printf('b%03d%03d%04d', i, j, k), 's' || j, 'files', 'full',
       strftime('%Y-%m-%dT%H:%M:%S.0000000Z', 'now', '-' || ((k * $SOURCES + j) * 600) || ' seconds'),
       strftime('%Y-%m-%dT%H:%M:%S.0000000Z', 'now', '-' || ((k * $SOURCES + j) * 600) || ' seconds'),
       1048576, 524288, 100, 0
FROM t, s, b;
SQL
rows=$(sqlite3 lifeboat.db "SELECT count(*) FROM backups")
# Steady state: one call of each endpoint per tenant first (the status cache, the tenant's workspace).
while read -r token; do
  for path in "/api/v1/backups?limit=100" "/api/v1/sources" "/api/v1/status"; do api GET "$path" "$token" >/dev/null; done
done < tokens.txt
# Each request carries the next tenant's token.
{
  echo 'local tokens = {}'
  while read -r token; do echo "tokens[#tokens + 1] = \"$token\""; done < tokens.txt
  cat <<'LUA'
local n = 0
request = function()
  n = n + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]
  return wrk.format("GET", wrk.path)
end
LUA
} > rotate.lua
# Every answer must be a 200 of the tenant's own rows: one check per tenant before the load.
while read -r token; do
  count=$(api GET "/api/v1/backups?limit=1000" "$token" | grep -o '"id":"b[0-9]*"' | wc -l)
  [ "$count" = $(( SOURCES * BACKUPS )) ] || { echo "a tenant lists $count backups, not $(( SOURCES * BACKUPS ))" >&2; exit 1; }
done < tokens.txt
rss() { ps -o rss= -p "$server_pid" | awk '{printf "%.0f MiB", $1/1024}'; }
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$TENANTS tenants × $SOURCES sources, $rows backup rows in the catalog; made through the API in ${setup}s"
echo "RSS after set-up: $(rss)"
for path in "/api/v1/backups?limit=100" "/api/v1/sources" "/api/v1/status"; do
  echo "== GET $path, 32 connections, 2 threads, ${SECONDS_PER}s, the $TENANTS tenants' tokens in turn"
  out=$(wrk -t2 -c32 -d"${SECONDS_PER}s" --latency -s rotate.lua "http://127.0.0.1:$port$path")
  echo "$out" | grep -E "Latency|50%|75%|90%|99%|requests in|Requests/sec|Non-2xx"
  if echo "$out" | grep -q "Non-2xx"; then echo "error: some answers were not 2xx (see $work/serve.log)" >&2; exit 1; fi
done
echo "RSS after the load: $(rss)"
