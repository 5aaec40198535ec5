#!/usr/bin/env bash
# Download against restore (issue 13; figures in docs/performance.md, "The REST API"): a files source of GIB GiB of
# incompressible data (random bytes, in files of at most 1 GiB), backed up once into a local repository, then
#   lifeboat restore --source data --to DIR                  (the local restore, written to disk)
#   curl GET /api/v1/backups/{id}/download -o /dev/null      (the same backup as one tar stream from `lifeboat serve`)
# printing a table of bytes, seconds and MiB/s, the download's throughput as a share of the restore's, and the
# server's RSS idle and its peak over the download (VmHWM from /proc/PID/status; the issue asks under 300 MiB).
#
#   bench/download.sh [--no-build] [GIB]        default 10 GiB; MIB=50 bench/download.sh --no-build  for a smoke run
#
# It needs about three times the size in free space below $TMPDIR (the data, the repository, the restored copy).
# The CLI timings include its start-up (about half a second), the download excludes the server's: negligible at GiB sizes.
# Run it on a quiet machine (no test suite or other benchmark at the same time): it prints the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
ensure_dotnet
ensure_apt procps curl
NO_BUILD=0
[ "${1:-}" = "--no-build" ] && { NO_BUILD=1; shift; }
GIB=${1:-10}
MIB=${MIB:-$(( GIB * 1024 ))}
[ "$NO_BUILD" = 1 ] || dotnet build src/Lifeboat.Cli -c Release -v quiet -nologo -clp:ErrorsOnly
LB="dotnet $PWD/src/Lifeboat.Cli/bin/Release/net10.0/lifeboat.dll"
work=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-download-bench.XXXXXX")
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
export LIFEBOAT_PASSPHRASE=bench-passphrase-not-secret
now() { date +%s.%N; }
mibps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / 1048576 / s : 0) }'; }

# The data: random bytes (incompressible: every chunk is stored whole), files of at most 1024 MiB.
mkdir -p data
left=$MIB; n=0
while [ "$left" -gt 0 ]; do
  part=$(( left > 1024 ? 1024 : left ))
  head -c "$(( part * 1048576 ))" /dev/urandom > "data/f$n.bin"
  left=$(( left - part )); n=$(( n + 1 ))
done
bytes=$(( MIB * 1048576 ))

$LB repo init --repo "file://$work/repo" >/dev/null
# One client on purpose: no rate limit.
sed -i '0,/{/s//{ "Server": { "RequestsPerMinute": 0 },/' lifeboat.json
$LB source add-files data --path "$work/data" >/dev/null
t0=$(now)
backup=$($LB backup --source data --json | sed -n 's/^  "id": "\([^"]*\)".*/\1/p' | head -1)
t1=$(now)
[ -n "$backup" ] || { echo "the backup printed no id" >&2; exit 1; }
backup_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

# The local restore, to disk (then removed, so that the download does not compete with its files for the cache).
t0=$(now)
$LB restore --source data --backup "$backup" --to "$work/restored" >/dev/null
t1=$(now)
restore_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
rm -rf "$work/restored"

token=$($LB token create --name bench --role operator --json 2>/dev/null | sed -n 's/.*"token": "\([^"]*\)".*/\1/p')
port=$(( 20000 + RANDOM % 12000 ))
$LB serve --urls "http://127.0.0.1:$port" 2> serve.log &
server_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/backups?limit=1" >/dev/null
sleep 2
status_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$server_pid/status"; }
idle_kib=$(status_kib VmRSS)
read -r dl_bytes dl_s < <(curl -fsS -H "Authorization: Bearer $token" -o /dev/null -w '%{size_download} %{time_total}\n' \
  "http://127.0.0.1:$port/api/v1/backups/$backup/download")
peak_kib=$(status_kib VmHWM)

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); a files source of $MIB MiB of random data in $n file(s), backup $backup"
printf '%-34s %14s %10s %10s\n' "operation" "bytes" "seconds" "MiB/s"
printf '%-34s %14s %10.2f %10s\n' "lifeboat backup" "$bytes" "$backup_s" "$(mibps "$bytes" "$backup_s")"
printf '%-34s %14s %10.2f %10s\n' "lifeboat restore --to DIR" "$bytes" "$restore_s" "$(mibps "$bytes" "$restore_s")"
printf '%-34s %14s %10.2f %10s\n' "curl GET .../download > /dev/null" "$dl_bytes" "$dl_s" "$(mibps "$dl_bytes" "$dl_s")"
awk -v d="$(mibps "$dl_bytes" "$dl_s")" -v r="$(mibps "$bytes" "$restore_s")" 'BEGIN { printf "download throughput / restore throughput: %.0f %% (the issue asks at least 80 %%)\n", (r > 0 ? 100 * d / r : 0) }'
awk -v i="$idle_kib" -v p="$peak_kib" 'BEGIN { printf "server RSS idle: %.0f MiB; peak (VmHWM) after the download: %.0f MiB (the issue asks under 300 MiB)\n", i / 1024, p / 1024 }'
