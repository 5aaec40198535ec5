#!/usr/bin/env bash
# Event ingest and delivery latency (issue 14; how to run it in docs/performance.md, "Events"). A fresh workspace
# with the SQLite catalog, `lifeboat serve` delivering to one webhook (events test.*) on a local receiver that
# answers 200 at once (a small Python HTTP server), then two phases:
#   1. ingest: `lifeboat events generate --count N` as fast as the catalog takes them (each event in its own
#      transaction, as every event is published), while the server fans out and delivers: events/minute sustained;
#   2. latency: `lifeboat events generate --count M --per-minute RATE` (paced, default 10,000 a minute): for every
#      event, the time from the event (its time in the log) to its delivery's first attempt (the attempt's time in
#      the delivery log): p50, p90, p99, max; also given for phase 1 (the server under the burst).
# It waits until every event of a phase is delivered, prints the server's RSS (VmRSS, VmHWM) and the load average.
#
#   bench/events.sh [--no-build] [N] [M] [RATE]     default 100000 20000 10000
#   bench/events.sh --no-build 200 100 6000         a smoke run of a few seconds
#
# Events of another process (the CLI) reach the server at its next poll (Events:PollInterval, default 250 ms), which
# is part of the latency measured, as it is for a backup run from cron. Run it on a quiet machine (no test suite or
# other benchmark at the same time).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
ensure_dotnet
ensure_apt procps curl python3
NO_BUILD=0
[ "${1:-}" = "--no-build" ] && { NO_BUILD=1; shift; }
N=${1:-100000}
M=${2:-20000}
RATE=${3:-10000}
[ "$NO_BUILD" = 1 ] || dotnet build src/Lifeboat.Cli -c Release -v quiet -nologo -clp:ErrorsOnly
LB="dotnet $PWD/src/Lifeboat.Cli/bin/Release/net10.0/lifeboat.dll"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
work=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-events-bench.XXXXXX")
server_pid=""
receiver_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export LIFEBOAT_PASSPHRASE=bench-passphrase-not-secret

# The receiver: answers 200 to every POST, counts them (GET /count), on a free loopback port.
cat > receiver.py <<'EOF'
import http.server, sys, threading
count = 0
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            count += 1
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def do_GET(self):
        body = str(count).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *args):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
$PY receiver.py > receiver.port &
receiver_pid=$!
for _ in $(seq 100); do [ -s receiver.port ] && break; sleep 0.05; done
rport=$(cat receiver.port)

$LB repo init --repo "file://$work/repo" >/dev/null
sport=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$LB serve --urls "http://127.0.0.1:$sport" > serve.log 2>&1 &
server_pid=$!
for _ in $(seq 300); do curl -fs "http://127.0.0.1:$sport/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$sport/healthz" >/dev/null || { echo "lifeboat serve did not start:" >&2; cat serve.log >&2; exit 1; }
$LB webhook add "http://127.0.0.1:$rport/hook" --events 'test.*' >/dev/null 2>&1

# Delivery figures of one batch from the catalog: delivered count, and the event -> first attempt latencies.
cat > figures.py <<'EOF'
import re, sqlite3, sys
from datetime import datetime
db, batch, mode = sys.argv[1], sys.argv[2], sys.argv[3]
c = sqlite3.connect(db, timeout=30)
like = '%"batch":"' + batch + '"%'
if mode == "delivered":
    print(c.execute("SELECT count(*) FROM deliveries d JOIN events e ON e.id = d.event_id WHERE e.data LIKE ? AND d.state = 'delivered'", (like,)).fetchone()[0])
    sys.exit(0)
def t(s):
    s = re.sub(r"(\.\d{6})\d*", r"\1", s.replace("Z", "+00:00"))
    return datetime.fromisoformat(s)
rows = c.execute("""SELECT e.time, a.time FROM events e JOIN deliveries d ON d.event_id = e.id
                    JOIN delivery_attempts a ON a.delivery_id = d.id AND a.attempt = 1 WHERE e.data LIKE ?""", (like,)).fetchall()
ms = sorted((t(a) - t(e)).total_seconds() * 1000 for e, a in rows)
if not ms:
    print("no attempts"); sys.exit(0)
p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
print("%d attempts: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms" % (len(ms), p(0.5), p(0.9), p(0.99), ms[-1]))
EOF

wait_delivered() { # batch count
  local deadline=$(( $(date +%s) + 600 ))
  while [ "$($PY figures.py lifeboat.db "$1" delivered)" -lt "$2" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "batch $1: not every event was delivered within 10 minutes" >&2; exit 1; }
    sleep 0.2
  done
}
batch_of() { sed -n 's/^  "batch": "\([^"]*\)".*/\1/p' | head -1; }
seconds_of() { sed -n 's/^  "seconds": \([0-9.]*\).*/\1/p' | head -1; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
echo "phase 1: $N events as fast as the catalog takes them, delivered meanwhile"
out=$($LB events generate --count "$N" --json)
b1=$(echo "$out" | batch_of); s1=$(echo "$out" | seconds_of)
[ -n "$b1" ] || { echo "events generate printed no batch: $out" >&2; exit 1; }
t0=$(date +%s.%N); wait_delivered "$b1" "$N"; t1=$(date +%s.%N)
awk -v n="$N" -v s="$s1" -v d="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
  'BEGIN { printf "  ingest: %d events in %.1f s = %.0f events/minute; every one delivered %.1f s after the last was written\n", n, s, n / s * 60, d }'
echo "  event -> first attempt: $($PY figures.py lifeboat.db "$b1" latency)"

echo "phase 2: $M events at $RATE a minute"
out=$($LB events generate --count "$M" --per-minute "$RATE" --json)
b2=$(echo "$out" | batch_of); s2=$(echo "$out" | seconds_of)
wait_delivered "$b2" "$M"
awk -v n="$M" -v s="$s2" 'BEGIN { printf "  ingest: %d events in %.1f s = %.0f events/minute\n", n, s, n / s * 60 }'
echo "  event -> first attempt: $($PY figures.py lifeboat.db "$b2" latency)"
echo "  receiver got $(curl -fs "http://127.0.0.1:$rport/count") request(s) in all"
# dotnet runs lifeboat.dll in the process started above.
echo "server memory: $(grep -E 'VmRSS|VmHWM' /proc/$server_pid/status | tr -s ' \t' ' ' | tr '\n' ' ')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
