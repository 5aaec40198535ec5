#!/usr/bin/env bash
# The server under load (issue 13; figures in docs/performance.md, "The REST API"): a catalog with BACKUPS backups
# of SOURCES sources, `lifeboat serve` on a free loopback port, and wrk (Debian) with 32 connections against
#   GET /api/v1/backups?limit=100    (a page of the catalog's backups, filtered and paged in SQL)
#   GET /api/v1/status               (every source's health: catalog, repository free space, drills)
# printing wrk's latency percentiles, and the server's RSS idle (after start-up and one request) and after the load.
#
#   bench/api.sh [--no-build] [SOURCES] [BACKUPS]      defaults: 50 sources, 10000 backups, 15 s per endpoint
#
# Run it on a quiet machine (no test suite or other benchmark at the same time): it prints the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
ensure_dotnet
ensure_apt wrk sqlite3 procps curl
NO_BUILD=0
[ "${1:-}" = "--no-build" ] && { NO_BUILD=1; shift; }
SOURCES=${1:-50}
BACKUPS=${2:-10000}
SECONDS_PER=${SECONDS_PER:-15}
[ "$NO_BUILD" = 1 ] || dotnet build src/Lifeboat.Cli -c Release -v quiet -nologo -clp:ErrorsOnly
LB="dotnet $PWD/src/Lifeboat.Cli/bin/Release/net10.0/lifeboat.dll"
work=$(mktemp -d /tmp/lifeboat-api-bench.XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
export LIFEBOAT_PASSPHRASE=bench-passphrase-not-secret
$LB repo init --repo "file://$work/repo" >/dev/null
# No rate limit: the benchmark is one client on purpose (the default 600/min would answer 429 to most requests).
sed -i '0,/{/s//{ "Server": { "RequestsPerMinute": 0 },/' lifeboat.json
mkdir -p data
for i in $(seq 1 "$SOURCES"); do
  mkdir -p "data/s$i"
  $LB source add-files "s$i" --path "$work/data/s$i" >/dev/null
done
$LB status --json >/dev/null || true   # creates and migrates the catalog
python_free_sql() {
  # BACKUPS rows spread over SOURCES sources, one every 10 minutes back from now, as the catalog's cache holds them.
  echo "BEGIN;"
  for i in $(seq 1 "$BACKUPS"); do
    s=$(( (i % SOURCES) + 1 ))
    t=$(date -u -d "@$(( $(date +%s) - i * 600 ))" +%Y-%m-%dT%H:%M:%S.0000000Z)
    printf "INSERT INTO backups VALUES ('b%06d','s%d','files','full','%s','%s',1048576,524288,100,NULL,NULL,NULL,NULL,NULL,NULL,0);\n" "$i" "$s" "$t" "$t"
  done
  echo "COMMIT;"
}
python_free_sql | sqlite3 lifeboat.db
token=$($LB token create --name bench --role viewer --json | sed -n 's/.*"token": "\([^"]*\)".*/\1/p')
port=$(( 20000 + RANDOM % 20000 ))
$LB serve --urls "http://127.0.0.1:$port" 2> serve.log &
server_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/backups?limit=100" >/dev/null
sleep 2
rss() { ps -o rss= -p "$server_pid" | awk '{printf "%.0f MiB", $1/1024}'; }
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $SOURCES sources, $BACKUPS backups in the catalog"
echo "idle RSS after start-up and one request: $(rss)"
for path in "/api/v1/backups?limit=100" "/api/v1/status"; do
  echo "== GET $path, 32 connections, 2 threads, ${SECONDS_PER}s"
  wrk -t2 -c32 -d"${SECONDS_PER}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | grep -E "Latency|50%|75%|90%|99%|requests in|Requests/sec|Non-2xx"
done
echo "RSS after the load: $(rss)"
