#!/usr/bin/env bash
# wal-fetch prefetch on and off, same data, same restore + PITR, alternating (issue 20, RTO; docs/performance.md,
# "WAL prefetch"). A ratio measurement, not the side-by-side judge (bench/compare.sh --prefetch on|off is).
#
#   bench/prefetch.sh [--reps N] [--segments N]     [REPS, default 3; SEGMENTS: WAL segments to replay, default 64]
#
# Uses the build already there (src/Lifeboat.Cli/bin/Release/net10.0: `dotnet build -c Release` first; JIT, so
# every wal-fetch pays .NET start-up, with prefetch as without). Creates a PostgreSQL 15 cluster (as the postgres OS
# user when root) archiving with `lifeboat wal-push` into an encrypted local repository, takes a full backup, writes
# SEGMENTS segments of real WAL (about 16 MiB of inserted rows each, a pg_switch_wal after each), picks a target time
# before the last 4, then alternates restore --target-time + start + first query with WalFetch:Prefetch off and on,
# REPS times each. Prints wall times (restore files, recovery to first query, total), medians and the ratio on/off.
# Everything it starts is stopped and its work directory removed on exit.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
ROOT=$PWD
REPS="${REPS:-3}"
SEGMENTS="${SEGMENTS:-64}"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS="$2"; shift ;;
    --segments) SEGMENTS="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "prefetch.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { echo "prefetch.sh: $*" >&2; exit 1; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

PGBIN="${LIFEBOAT_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
export PATH="$PGBIN:$PATH"
LB_BIN="$ROOT/src/Lifeboat.Cli/bin/Release/net10.0/lifeboat"
[ -x "$LB_BIN" ] || die "$LB_BIN is missing: run dotnet build Lifeboat.slnx -c Release first"
AS_PG=()
[ "$(id -u)" = 0 ] && AS_PG=(runuser -u postgres -- env "PATH=$PATH")
as_pg() { "${AS_PG[@]}" "$@"; }

WORK=$(mktemp -d "${PREFETCH_TMPDIR:-/var/tmp}/lifeboat-prefetch.XXXXXX")
chmod 755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK"
PGDATA="$WORK/pgdata" RDATA="$WORK/restored" SOCK="$WORK" CFG="$WORK/lifeboat.json"
PORT=$((20000 + RANDOM % 10000)) RPORT=$((PORT + 1))
cleanup() {
  set +e
  for d in "$RDATA" "$PGDATA"; do [ -f "$d/postmaster.pid" ] && as_pg pg_ctl -D "$d" -m immediate stop > /dev/null 2>&1; done
  # A prefetcher still running for the restored copy (it exits on its own; this run removes its directory).
  pkill_list=$(grep -l "wal-prefetch" /proc/[0-9]*/cmdline 2>/dev/null | xargs -r grep -l "$WORK" 2>/dev/null | cut -d/ -f3)
  for pid in $pkill_list; do kill "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

say "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
as_pg initdb -D "$PGDATA" -k -U postgres > "$WORK/initdb.log" 2>&1 || die "initdb failed"
as_pg "$LB_BIN" --config "$CFG" repo init --repo "file://$WORK/repo" --key-file "$WORK/repo.key" > /dev/null
cat >> "$PGDATA/postgresql.conf" <<EOF
port = $PORT
unix_socket_directories = '$SOCK'
listen_addresses = ''
archive_mode = on
archive_command = '$LB_BIN --config $CFG wal-push --source bench %p'
max_wal_size = 4GB
checkpoint_timeout = 30min
EOF
as_pg "$LB_BIN" --config "$CFG" source add-cluster bench --pgdata "$PGDATA" --conn "Host=$SOCK;Port=$PORT;Username=postgres" > /dev/null 2>&1
as_pg pg_ctl -D "$PGDATA" -l "$WORK/server.log" -w start > /dev/null
sql() { psql -h "$SOCK" -p "${2:-$PORT}" -U postgres -qAtX -d postgres -c "$1"; }
sql "create table t (id bigint, v text)"
as_pg "$LB_BIN" --config "$CFG" backup --source bench > "$WORK/backup.log" 2>&1 || die "backup failed: $(tail -3 "$WORK/backup.log")"

say "writing $SEGMENTS WAL segments..."
TARGET=""
for i in $(seq 1 "$SEGMENTS"); do
  sql "insert into t select g, md5(g::text) || repeat('x', 60) from generate_series($((i * 100000)), $((i * 100000 + 99999))) g"
  if [ "$i" = $((SEGMENTS - 4)) ]; then
    sleep 1.1; TARGET=$(sql "select to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SSOF')"); EXPECT=$(sql "select count(*) from t"); sleep 1.1
  fi
  sql "select pg_switch_wal()" > /dev/null
done
LAST=$(sql "select pg_walfile_name(pg_switch_wal())")
until [ "$(sql "select last_archived_wal from pg_stat_archiver")" \> "$LAST" ] || [ "$(sql "select last_archived_wal from pg_stat_archiver")" = "$LAST" ]; do sleep 0.2; done
as_pg pg_ctl -D "$PGDATA" -m fast stop > /dev/null
say "archived up to $LAST; target $TARGET ($EXPECT rows)"

set_prefetch() { # in place: the file keeps its owner
  python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); c["Sources"]["bench"]["WalFetch"]={"Prefetch": sys.argv[2]=="on"}; s=json.dumps(c, indent=2); open(p,"w").write(s)' "$CFG" "$1"
}

round() { # MODE REP
  set_prefetch "$1"
  rm -rf "$RDATA"
  local t0=$EPOCHREALTIME
  as_pg "$LB_BIN" --config "$CFG" restore --source bench --to "$RDATA" --target-time "$TARGET" --archive-mode off > "$WORK/restore.log" 2>&1 \
    || die "restore failed: $(tail -3 "$WORK/restore.log")"
  local files; files=$(since "$t0")
  local t1=$EPOCHREALTIME
  as_pg pg_ctl -D "$RDATA" -o "-p $RPORT" -l "$WORK/restored-$1-$2.log" start > /dev/null
  until [ "$(sql "select pg_is_in_recovery()" "$RPORT" 2>/dev/null)" = f ]; do sleep 0.05; done
  local count; count=$(sql "select count(*) from t" "$RPORT")
  local recovery total
  recovery=$(since "$t1")
  total=$(since "$t0")
  [ "$count" = "$EXPECT" ] || die "prefetch $1: $count rows, expected $EXPECT"
  local segs; segs=$(grep -c 'restored log file' "$WORK/restored-$1-$2.log" || true)
  local spooled; spooled=$(grep -c 'restored from the prefetch spool' "$WORK/restored-$1-$2.log" || true)
  as_pg pg_ctl -D "$RDATA" -m fast stop > /dev/null
  printf '%s %s files %s recovery %s total %s segments %s spooled %s\n' "$1" "$2" "$files" "$recovery" "$total" "$segs" "$spooled"
}

RESULTS="$WORK/results"
for rep in $(seq 1 "$REPS"); do
  for mode in off on; do
    say "round $rep/$REPS, prefetch $mode"
    round "$mode" "$rep" | tee -a "$RESULTS"
  done
done
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for field in files recovery total; do
  col=$(awk -v f="$field" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == f) c = i + 1 } END { print c }' "$RESULTS")
  off=$(awk -v c="$col" '$1 == "off" { print $c }' "$RESULTS" | median)
  on=$(awk -v c="$col" '$1 == "on" { print $c }' "$RESULTS" | median)
  printf '%-9s median off %7.3f s  on %7.3f s  on/off %.2f\n' "$field" "$off" "$on" "$(awk -v a="$on" -v b="$off" 'BEGIN { print a / b }')"
done
