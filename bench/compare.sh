#!/usr/bin/env bash
# Lifeboat side by side with pgBackRest and PostgreSQL's own tools: same machine, same cluster, same data, one run
# (issue 7; the method and the latest figures are in docs/performance.md, "Cluster backups side by side").
#
#   bench/compare.sh [options] [SCALE]       SCALE: pgbench scale (default 100, about 1.5 GB)
#
# Options (environment variables in brackets):
#   --realistic            load data that compresses like application data (~3:1: text, JSON, numeric, a bytea column
#                          of already-compressed bytes) instead of pgbench tables (~22:1) [DATASET=realistic]
#   --reps N               repetitions of every measurement (median, min, max) [REPS, default 3]
#   --pgbench-seconds S    the write load between the full and the incremental backup [PGBENCH_SECONDS, default 60]
#   --archive-seconds S    the write load of each archive_command backlog run [ARCHIVE_SECONDS, default 30]
#   --segments N           WAL segments pushed one by one per tool and repetition [SEGMENTS, default 16]
#   --jit                  run Lifeboat as `dotnet lifeboat.dll` instead of the Native AOT executable (quicker to
#                          build; archive_command and restore_command then pay .NET start-up per segment) [JIT=1]
#   --smoke                tiny durations, one repetition: checks the script works, measures nothing [SMOKE=1]
#   --no-build             use the build already there (src/Lifeboat.Cli/bin/Release/net10.0, and dist/lifeboat
#                          unless --jit) instead of building and publishing again [NO_BUILD=1]
#   --profile              also profile one Lifeboat full backup and one restore of it (perf, JIT build with
#                          DOTNET_PerfMapEnabled=1, W^X off) and write the top functions next to the table [PROFILE=1]
#   --keep                 keep the work directory (clusters stopped) [KEEP=1]
#   --prefetch on|off      Lifeboat's wal-fetch prefetch during the restore + PITR row (Sources:NAME:WalFetch:Prefetch;
#                          docs/cli.md, "WAL prefetch") [PREFETCH, default on]
#
# What it does, unattended: builds Lifeboat (Release; Native AOT with scripts/publish.sh unless --jit), creates a
# sandbox PostgreSQL 15 cluster with data checksums on a free loopback port (as the postgres OS user when root),
# loads the data, and measures wall time, MB/s of source data, bytes stored, CPU and peak RSS (/usr/bin/time -v) of
#   1. full backup: Lifeboat, pgBackRest (zst level 3, process-max 2), pg_basebackup -Ft (plain, and | zstd -3 -T2);
#   2. incremental backup after `pgbench -T PGBENCH_SECONDS -c 4`: Lifeboat, pgBackRest incr (time, bytes added);
#   3. restore with point-in-time recovery to a moment inside that pgbench run, up to the first query (RTO);
#   4. WAL archiving: per-segment cost of wal-push and archive-push on the same segments, and the archive_status
#      backlog under pgbench load and under a bulk load (pgbench -i), one tool at a time;
#   5. logical: Lifeboat's database source (backup, restore --into a new database) vs pg_dump -Fd -j 2 and
#      pg_restore -j 2;
#   6. the machine: sequential disk read and write, page-cache read, zstd -3 -T2 and SHA-256 on a tar of PGDATA.
# Prints one table with the ratios Lifeboat / pgBackRest and writes it as Markdown and JSON under bench/results/
# (git-ignored). Every cluster and process it starts is stopped on exit, and its work directory removed.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/prerequisites.sh

SCALE=100
DATASET="${DATASET:-pgbench}"
REPS="${REPS:-3}"
PGBENCH_SECONDS="${PGBENCH_SECONDS:-60}"
ARCHIVE_SECONDS="${ARCHIVE_SECONDS:-30}"
SEGMENTS="${SEGMENTS:-16}"
JIT="${JIT:-0}"
SMOKE="${SMOKE:-0}"
KEEP="${KEEP:-0}"
NO_BUILD="${NO_BUILD:-0}"
PROFILE="${PROFILE:-0}"
PREFETCH="${PREFETCH:-on}"
CLIENTS=4
while [ $# -gt 0 ]; do
  case "$1" in
    --realistic) DATASET=realistic ;;
    --reps) REPS="$2"; shift ;;
    --pgbench-seconds) PGBENCH_SECONDS="$2"; shift ;;
    --archive-seconds) ARCHIVE_SECONDS="$2"; shift ;;
    --segments) SEGMENTS="$2"; shift ;;
    --jit) JIT=1 ;;
    --smoke) SMOKE=1 ;;
    --keep) KEEP=1 ;;
    --no-build) NO_BUILD=1 ;;
    --profile) PROFILE=1 ;;
    --prefetch) PREFETCH="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) SCALE="$1" ;;
    *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$SMOKE" = 1 ]; then
  REPS=1 PGBENCH_SECONDS=3 ARCHIVE_SECONDS=2 SEGMENTS=2
fi
for v in SCALE REPS PGBENCH_SECONDS ARCHIVE_SECONDS SEGMENTS; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: $v must be a positive integer, not '${!v}'" >&2; exit 2; }
done
[ "$DATASET" = pgbench ] || [ "$DATASET" = realistic ] || { echo "compare.sh: DATASET must be pgbench or realistic" >&2; exit 2; }
[ "$PREFETCH" = on ] || [ "$PREFETCH" = off ] || { echo "compare.sh: --prefetch takes on or off, not '$PREFETCH'" >&2; exit 2; }

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { echo "compare.sh: $*" >&2; exit 1; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

# ---------------------------------------------------------------------------------------------------------------
# Prerequisites: fail clearly when a tool is missing; install the Debian packages when we can.
# ---------------------------------------------------------------------------------------------------------------
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
PGBIN="${LIFEBOAT_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
ensure_dotnet
ensure_apt zstd time pgbackrest jq libzstd1 || die "install the missing Debian packages (zstd time pgbackrest jq libzstd1) and run again"
for tool in initdb pg_ctl postgres psql pgbench pg_basebackup pg_dump pg_restore createdb dropdb; do
  [ -x "$PGBIN/$tool" ] || die "$PGBIN/$tool is missing: install PostgreSQL 15 (apt-get install postgresql-15 postgresql-client-15) or set LIFEBOAT_PG_BINDIR"
done
for tool in pgbackrest zstd jq sha256sum dd tar; do
  command -v "$tool" >/dev/null || die "'$tool' is missing: install it (Debian: apt-get install ${tool/sha256sum/coreutils})"
done
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is missing: apt-get install time"
if [ "$PROFILE" = 1 ] && ! command -v perf > /dev/null; then
  ensure_apt linux-perf || die "--profile needs 'perf' (Debian: apt-get install linux-perf)"
fi
export PATH="$PGBIN:$PATH"

if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' OS user (it comes with the postgresql-15 package)"
  PGUSER_OS=postgres
else
  PGUSER_OS=$(id -un)
fi
# as_pg CMD...: runs CMD as the PostgreSQL OS user (which runs archive_command and owns the repositories);
# "${AS_PG[@]}" CMD... does the same where a program, not a function, is needed (under /usr/bin/time).
AS_PG=()
[ "$(id -u)" = 0 ] && AS_PG=(runuser -u postgres -- env "PATH=$PATH")
as_pg() { "${AS_PG[@]}" "$@"; }

# ---------------------------------------------------------------------------------------------------------------
# Work directory, clean-up of everything this run starts.
# ---------------------------------------------------------------------------------------------------------------
WORK=$(mktemp -d "${COMPARE_TMPDIR:-/var/tmp}/lifeboat-compare.XXXXXX")
chmod 755 "$WORK"
LOGS="$WORK/logs"
mkdir -p "$LOGS" "$WORK/bin"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK" "$LOGS"
CLUSTERS=()     # data directories of servers this run started
BACKGROUND=()   # pids of background loops this run started
cleanup() {
  local status=$?
  set +e
  for pid in "${BACKGROUND[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for dir in "${CLUSTERS[@]}"; do
    [ -f "$dir/postmaster.pid" ] && as_pg pg_ctl -D "$dir" -m immediate -w stop >/dev/null 2>&1
  done
  if [ "$KEEP" = 1 ]; then
    echo "compare.sh: kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  [ $status -ne 0 ] && echo "compare.sh: FAILED (exit $status)" >&2
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fail_with LOG MESSAGE: the last lines of a log, then exit 1.
fail_with() {
  echo "compare.sh: $2" >&2
  [ -f "$1" ] && { echo "--- last lines of $1:" >&2; tail -n 25 "$1" >&2; }
  exit 1
}

# ---------------------------------------------------------------------------------------------------------------
# Results: one line per measurement in raw.tsv (phase, tool, metric, value); statistics at the end.
# ---------------------------------------------------------------------------------------------------------------
RAW="$WORK/raw.tsv"
: > "$RAW"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RAW"; }

# run_timed NAME CMD...: runs CMD under /usr/bin/time -v, stdout in logs/NAME.out, stderr in logs/NAME.log;
# sets T_WALL (s), T_RSS (MiB), T_CPU (s).
run_timed() {
  local name="$1"; shift
  local log="$LOGS/$name.log" tv="$LOGS/$name.time" t0
  t0=$(now)
  /usr/bin/time -v -o "$tv" "$@" > "$LOGS/$name.out" 2> "$log" || { cat "$LOGS/$name.out" >> "$log"; fail_with "$log" "$name failed: $*"; }
  T_WALL=$(since "$t0")
  T_RSS=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$tv")
  T_CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$tv")
}

# record_timed PHASE TOOL [BYTES]: records the last run_timed, and MB/s of BYTES (default: the source data).
record_timed() {
  record "$1" "$2" wall_s "$T_WALL"
  record "$1" "$2" rss_mib "$T_RSS"
  record "$1" "$2" cpu_s "$T_CPU"
  record "$1" "$2" mbps "$(awk -v b="${3:-$SOURCE_BYTES}" -v t="$T_WALL" 'BEGIN { printf "%.1f", b / t / 1e6 }')"
}

bytes_of() { du -sb "$@" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

# ---------------------------------------------------------------------------------------------------------------
# 1. Build Lifeboat.
# ---------------------------------------------------------------------------------------------------------------
if [ "$NO_BUILD" = 1 ]; then
  [ -f src/Lifeboat.Cli/bin/Release/net10.0/lifeboat.dll ] || die "--no-build: src/Lifeboat.Cli/bin/Release/net10.0 has no lifeboat.dll (build first)"
  [ "$JIT" = 1 ] || [ -x dist/lifeboat ] || die "--no-build: dist/lifeboat is missing (scripts/publish.sh, or use --jit)"
else
  say "building Lifeboat (Release)..."
  dotnet build src/Lifeboat.Cli/Lifeboat.Cli.csproj -c Release -v quiet -nologo -clp:ErrorsOnly > "$LOGS/build.log" 2>&1 \
    || fail_with "$LOGS/build.log" "dotnet build failed"
fi
cp -r src/Lifeboat.Cli/bin/Release/net10.0 "$WORK/bin/jit"
DOTNET=$(command -v dotnet)
LB_JIT="$DOTNET $WORK/bin/jit/lifeboat.dll"
if [ "$JIT" = 1 ]; then
  LB="$LB_JIT"
  LB_BUILD="JIT (dotnet lifeboat.dll)"
else
  if [ "$NO_BUILD" != 1 ]; then
    say "publishing the Native AOT executable (scripts/publish.sh, a few minutes)..."
    scripts/publish.sh "$ROOT/dist" > "$LOGS/publish.log" 2>&1 || fail_with "$LOGS/publish.log" "scripts/publish.sh failed"
  fi
  cp dist/lifeboat "$WORK/bin/lifeboat"
  cp dist/*.so "$WORK/bin/" 2>/dev/null || true   # native libraries the executable loads from its own directory (SQLite)
  LB="$WORK/bin/lifeboat"
  LB_BUILD="Native AOT (scripts/publish.sh)"
fi
chmod -R a+rX "$WORK/bin"
as_pg $LB --version > /dev/null 2>&1 || die "$LB does not run as $PGUSER_OS"
LB_VERSION=$(as_pg $LB --version 2>/dev/null | head -1)

# ---------------------------------------------------------------------------------------------------------------
# 2. The sandbox cluster.
# ---------------------------------------------------------------------------------------------------------------
# Below the kernel's ephemeral range (32768-60999 by default): a port chosen here is bound minutes later (the restored
# servers), and one in the ephemeral range may by then be the local end of some outgoing connection (a smoke run in
# ./test.sh saw "could not bind ... Address already in use" that way).
free_port() {
  local p
  for _ in $(seq 500); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && [ ! -e "$WORK/sock/.s.PGSQL.$p" ]; then echo "$p"; return 0; fi
  done
  die "no free loopback port found"
}
PGDATA="$WORK/pgdata"
SOCK="$WORK/sock"
PORT=$(free_port)
mkdir -p "$SOCK"
[ "$(id -u)" = 0 ] && chown postgres: "$SOCK"
PSQL=(psql -X -q -h "$SOCK" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
sql() { PGOPTIONS="-c client_min_messages=warning" "${PSQL[@]}" -Atc "$1"; }
start_server() { # DATADIR PORT LOG
  as_pg pg_ctl -D "$1" -o "-p $2" -l "$3" -w -t 300 start > /dev/null || fail_with "$3" "PostgreSQL did not start in $1"
}

say "creating a PostgreSQL 15 cluster with data checksums on 127.0.0.1:$PORT ($WORK)..."
CLUSTERS+=("$PGDATA")
as_pg initdb -D "$PGDATA" -U postgres -A trust --data-checksums > "$LOGS/initdb.log" 2>&1 || fail_with "$LOGS/initdb.log" "initdb failed"

# archive_command: one wrapper for both tools, so that the cost of the wrapper is the same for both. It pushes with
# the tools named in archive.mode ("lifeboat", "pgbackrest", both joined by "+", or "none": accept and discard) and
# logs "end start file tool" per push (EPOCHREALTIME, no extra process). pgBackRest refuses to back up unless
# archive_command contains "pgbackrest": the wrapper's name does.
LB_CFG="$WORK/lifeboat.json"
LB_KEY="$WORK/lifeboat.key"
LB_REPO="$WORK/lb-repo"
PGBR_CONF="$WORK/pgbackrest.conf"
PGBR_REPO="$WORK/pgbr-repo"
ARCHIVE_SH="$WORK/archive-with-lifeboat-or-pgbackrest.sh"
echo none > "$WORK/archive.mode"
cat > "$ARCHIVE_SH" <<EOF
#!/bin/bash
# archive_command of the benchmark cluster (bench/compare.sh): \$1 = %p, \$2 = %f.
read -r mode < "$WORK/archive.mode"
for tool in \${mode//+/ }; do
  t0=\$EPOCHREALTIME
  case \$tool in
    lifeboat) $LB --config "$LB_CFG" wal-push --source bench "\$1" 2>> "$LOGS/archive.err" || exit 1 ;;
    pgbackrest) pgbackrest --config="$PGBR_CONF" --stanza=bench archive-push "\$1" 2>> "$LOGS/archive.err" || exit 1 ;;
  esac
  echo "\$EPOCHREALTIME \$t0 \$2 \$tool" >> "$LOGS/archive.log"
done
EOF
chmod 755 "$ARCHIVE_SH"
touch "$LOGS/archive.log" "$LOGS/archive.err"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK/archive.mode" "$LOGS/archive.log" "$LOGS/archive.err"
cat >> "$PGDATA/postgresql.conf" <<EOF

# bench/compare.sh
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK'
wal_level = replica
archive_mode = on
archive_command = '$ARCHIVE_SH "%p" "%f"'
archive_timeout = 60s
log_checkpoints = on
EOF
start_server "$PGDATA" "$PORT" "$LOGS/postgres.log"

# ---------------------------------------------------------------------------------------------------------------
# 3. The data.
# ---------------------------------------------------------------------------------------------------------------
LOAD_ARGS=()
CHECK_QUERY="select count(*) from pgbench_history"
if [ "$DATASET" = pgbench ]; then
  say "loading pgbench, scale $SCALE..."
  t0=$(now)
  pgbench -h "$SOCK" -p "$PORT" -U postgres -i -s "$SCALE" -q postgres > "$LOGS/load.log" 2>&1 || fail_with "$LOGS/load.log" "pgbench -i failed"
else
  # About 15 MB of table data per unit of SCALE, like pgbench. Compresses about 3:1 (zstd -3) as a whole: words from
  # a vocabulary, e-mail addresses, JSON documents with prices and addresses, numeric amounts, timestamps, and in 6 %
  # of the rows a 2–8 KiB bytea of random bytes (an already-compressed attachment: JPEG, PDF, zip).
  ROWS=$((SCALE * 10000))
  say "loading the realistic data set ($ROWS orders)..."
  t0=$(now)
  sql "create extension pgcrypto" > /dev/null
  sql "create table orders (id bigint primary key, created_at timestamptz not null, customer_email text not null,
         status text not null, amount numeric(12,2) not null, currency text not null, doc jsonb not null, note text,
         attachment bytea);
       create table order_events (id bigserial primary key, order_id bigint not null, at timestamptz not null,
         kind text not null, payload jsonb not null)" > "$LOGS/load.log" 2>&1 || fail_with "$LOGS/load.log" "creating the tables failed"
  batch=50000
  for ((first = 1; first <= ROWS; first += batch)); do
    last=$((first + batch - 1)); [ $last -gt $ROWS ] && last=$ROWS
    sql "with v as (select string_to_array('account address amount april article balance basket billing blue box
           brown card cart change city client code color comment company contact country coupon credit customer date
           day debit delivery discount door east email express fast fee first gift green gross home house invoice item
           june label large last light lime line local mail march market medium method mobile month name net new north
           note number office online open order paid parcel payment phone place plan point post price product quick
           rate red refund region reply return road sale second service ship shipping shop size small south standard
           state status stock store street tax thank total track transfer unit update user value west white year yellow
           zone', ' ') as w)
         insert into orders
         select g,
           timestamptz '2024-01-01' + random() * interval '700 days',
           w[1 + floor(random() * 120)::int] || '.' || w[1 + floor(random() * 120)::int] || (g % 997) || '@'
             || (array['example.com','mail.test','corp.example','shop.test'])[1 + g % 4],
           (array['new','paid','shipped','delivered','returned','cancelled'])[1 + floor(random() * 6)::int],
           round((exp(random() * 7) + random())::numeric, 2),
           (array['EUR','USD','GBP','CHF'])[1 + floor(random() * 4)::int],
           jsonb_build_object(
             'items', (select jsonb_agg(jsonb_build_object('line', i, 'sku', 'SKU-' || (1000 + floor(random() * 90000)::int),
                        'name', w[1 + floor(random() * 120)::int] || ' ' || w[1 + floor(random() * 120)::int],
                        'qty', 1 + floor(random() * 5)::int, 'price', round((random() * 300)::numeric, 2)))
                       from generate_series(1, 1 + (g * 7 + floor(random() * 4)::int) % 4) i),
             'ship_to', jsonb_build_object('street', (1 + floor(random() * 300)::int) || ' '
                          || w[1 + floor(random() * 120)::int] || ' street', 'city', initcap(w[1 + floor(random() * 120)::int]),
                          'zip', lpad(floor(random() * 99999)::int::text, 5, '0')),
             'token', encode(gen_random_bytes(12), 'hex'),
             'tags', to_jsonb(array[w[1 + floor(random() * 120)::int], w[1 + floor(random() * 120)::int]])),
           case when g % 2 = 0 then (select string_agg(w[1 + floor(random() * 120)::int + 0 * i], ' ')
                                      from generate_series(1, 4 + (g * 13 + floor(random() * 30)::int) % 30) i) end,
           case when random() < 0.06 then (select string_agg(gen_random_bytes(1024 + 0 * i), ''::bytea)
                                             from generate_series(1, 2 + (g + floor(random() * 7)::int) % 7) i) end
         from v, generate_series($first, $last) g" >> "$LOGS/load.log" 2>&1 || fail_with "$LOGS/load.log" "loading orders failed"
  done
  sql "insert into order_events (order_id, at, kind, payload)
       select 1 + floor(random() * $ROWS)::bigint, now() - random() * interval '300 days', 'created',
              jsonb_build_object('by', md5(g::text), 'amount', round((random() * 500)::numeric, 2))
       from generate_series(1, $ROWS / 4) g" >> "$LOGS/load.log" 2>&1 || fail_with "$LOGS/load.log" "loading order_events failed"
  sql "vacuum analyze" >> "$LOGS/load.log" 2>&1 || fail_with "$LOGS/load.log" "vacuum analyze failed"
  cat > "$WORK/realistic.sql" <<'EOF'
\set id random(1, :rows)
\set amt random(1, 100000)
BEGIN;
UPDATE orders SET status = (array['paid','shipped','delivered','returned'])[1 + :id % 4], amount = amount + :amt / 100.0,
  doc = jsonb_set(doc, '{updated}', to_jsonb(now())) WHERE id = :id;
INSERT INTO order_events (order_id, at, kind, payload)
  VALUES (:id, now(), 'status', jsonb_build_object('amount', :amt, 'by', md5(:id::text)));
END;
EOF
  chmod 644 "$WORK/realistic.sql"
  LOAD_ARGS=(-f "$WORK/realistic.sql" -D "rows=$ROWS")
  CHECK_QUERY="select count(*) from order_events"
fi
record load "$DATASET" wall_s "$(since "$t0")"
sql "checkpoint" > /dev/null
SOURCE_BYTES=$(du -sb --exclude=pg_wal "$PGDATA" | cut -f1)
DB_BYTES=$(sql "select sum(pg_database_size(datname)) from pg_database")
say "source data: $((SOURCE_BYTES / 1048576)) MiB in PGDATA without pg_wal ($((DB_BYTES / 1048576)) MiB in databases)"

# pgbench_load SECONDS [extra args]: the write load (TPC-B-like, or the realistic script), 4 clients, 2 threads.
pgbench_load() {
  local seconds="$1"; shift
  pgbench -h "$SOCK" -p "$PORT" -U postgres -n -T "$seconds" -c "$CLIENTS" -j 2 "${LOAD_ARGS[@]}" "$@" postgres
}

# ---------------------------------------------------------------------------------------------------------------
# 4. Lifeboat and pgBackRest set-up. Fresh repositories for every full backup (a second full into the same Lifeboat
#    repository would store almost nothing, which is the point of deduplication but not of this measurement).
# ---------------------------------------------------------------------------------------------------------------
as_pg $LB --config "$LB_CFG" repo init --repo "file://$LB_REPO" --key-file "$LB_KEY" > "$LOGS/lb-init.log" 2>&1 \
  || fail_with "$LOGS/lb-init.log" "lifeboat repo init failed"
as_pg $LB --config "$LB_CFG" source add-cluster bench --pgdata "$PGDATA" --conn "Host=$SOCK;Port=$PORT;Username=postgres" \
  > "$LOGS/lb-source.log" 2>&1 || fail_with "$LOGS/lb-source.log" "lifeboat source add-cluster failed"
# In place (the file keeps its owner): restore_command reads it as the postgres OS user.
jq --argjson on "$([ "$PREFETCH" = on ] && echo true || echo false)" '.Sources.bench.WalFetch = { Prefetch: $on }' "$LB_CFG" > "$WORK/lb-cfg.tmp" \
  && cat "$WORK/lb-cfg.tmp" > "$LB_CFG" && rm -f "$WORK/lb-cfg.tmp"

# pgbackrest_conf FILE REPO: the pgBackRest configuration of the issue: zst level 3, 2 processes, its own repository.
pgbackrest_conf() {
  mkdir -p "$WORK/pgbr-log" "$WORK/pgbr-lock" "$WORK/pgbr-spool"
  [ "$(id -u)" = 0 ] && chown postgres: "$WORK/pgbr-log" "$WORK/pgbr-lock" "$WORK/pgbr-spool"
  cat > "$1" <<EOF
[global]
repo1-path=$2
repo1-retention-full=9999
compress-type=zst
compress-level=3
process-max=2
start-fast=y
log-level-console=warn
log-level-file=info
log-path=$WORK/pgbr-log
lock-path=$WORK/pgbr-lock
spool-path=$WORK/pgbr-spool

[bench]
pg1-path=$PGDATA
pg1-port=$PORT
pg1-socket-path=$SOCK
pg1-user=postgres
EOF
  chmod 644 "$1"
}
pgbackrest_conf "$PGBR_CONF" "$PGBR_REPO"
PGBR=(pgbackrest --config="$PGBR_CONF" --stanza=bench)

# fresh_lifeboat / fresh_pgbackrest: an empty repository at the usual place (archive_command pushes into it).
fresh_lifeboat() {
  rm -rf "$LB_REPO"
  as_pg $LB --config "$LB_CFG" repo init --repo "file://$LB_REPO" --key-file "$LB_KEY" >> "$LOGS/lb-init.log" 2>&1 \
    || fail_with "$LOGS/lb-init.log" "lifeboat repo init failed"
}
fresh_pgbackrest() {
  rm -rf "$PGBR_REPO"
  as_pg "${PGBR[@]}" stanza-create >> "$LOGS/pgbr-stanza.log" 2>&1 || fail_with "$LOGS/pgbr-stanza.log" "pgbackrest stanza-create failed"
}
fresh_lifeboat
fresh_pgbackrest
archive_mode() { echo "$1" > "$WORK/archive.mode"; }
lb_backup_bytes() { bytes_of --exclude=wal --exclude=locks --exclude=tmp "$LB_REPO"; }
pgbr_backup_bytes() { bytes_of "$PGBR_REPO/backup"; }

# wait_archived: until nothing is waiting in archive_status (after a load), at most 15 minutes.
ready_count() { find "$PGDATA/pg_wal/archive_status" -name '*.ready' 2>/dev/null | wc -l; }
wait_archived() {
  local deadline=$((SECONDS + 900))
  sql "select pg_switch_wal()" > /dev/null
  while [ "$(ready_count)" -gt 0 ]; do
    [ $SECONDS -lt $deadline ] || fail_with "$LOGS/archive.err" "WAL archiving did not catch up within 15 minutes"
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------------------------
# 5. Full backups, REPS rounds; the order of the tools rotates round by round so that no tool always goes first.
# ---------------------------------------------------------------------------------------------------------------
full_lifeboat() {
  archive_mode lifeboat
  fresh_lifeboat
  run_timed "full-lifeboat-$1" "${AS_PG[@]}" $LB --config "$LB_CFG" backup --source bench --type full --json
  record_timed full lifeboat
  record full lifeboat stored_bytes "$(lb_backup_bytes)"
}
full_pgbackrest() {
  archive_mode pgbackrest
  fresh_pgbackrest
  run_timed "full-pgbackrest-$1" "${AS_PG[@]}" "${PGBR[@]}" --type=full backup
  record_timed full pgbackrest
  record full pgbackrest stored_bytes "$(pgbr_backup_bytes)"
}
full_basebackup() {
  archive_mode none
  rm -rf "$WORK/basebackup"
  run_timed "full-basebackup-$1" pg_basebackup -h "$SOCK" -p "$PORT" -U postgres -Ft -X fetch -c fast -D "$WORK/basebackup"
  record_timed full basebackup
  record full basebackup stored_bytes "$(bytes_of "$WORK/basebackup")"
  rm -rf "$WORK/basebackup"
}
full_basebackup_zstd() {
  archive_mode none
  rm -f "$WORK/basebackup.tar.zst"
  run_timed "full-basebackup_zstd-$1" bash -c "set -o pipefail; pg_basebackup -h '$SOCK' -p $PORT -U postgres -Ft -X fetch -c fast -D - \
    | zstd -q -3 -T2 -o '$WORK/basebackup.tar.zst'"
  record_timed full basebackup_zstd
  record full basebackup_zstd stored_bytes "$(bytes_of "$WORK/basebackup.tar.zst")"
  rm -f "$WORK/basebackup.tar.zst"
}
FULL_TOOLS=(lifeboat pgbackrest basebackup basebackup_zstd)
for ((rep = 1; rep <= REPS; rep++)); do
  for ((k = 0; k < ${#FULL_TOOLS[@]}; k++)); do
    tool=${FULL_TOOLS[$(((k + rep - 1) % ${#FULL_TOOLS[@]}))]}
    sql "checkpoint" > /dev/null
    sync
    say "full backup, round $rep/$REPS: $tool (load $(cut -d' ' -f1 /proc/loadavg))"
    "full_$tool" "$rep"
    record full "$tool" load "$(cut -d' ' -f1 /proc/loadavg)"
  done
done

# ---------------------------------------------------------------------------------------------------------------
# 6. The base for incremental and point-in-time restore: a full backup by each tool with archiving into both, then
#    pgbench for PGBENCH_SECONDS; the recovery target T is noted at two thirds of the run.
# ---------------------------------------------------------------------------------------------------------------
say "base backups for the incremental and PITR rounds (archiving into both repositories)..."
fresh_lifeboat
fresh_pgbackrest
archive_mode lifeboat+pgbackrest
as_pg $LB --config "$LB_CFG" backup --source bench --type full > "$LOGS/base-lifeboat.log" 2>&1 || fail_with "$LOGS/base-lifeboat.log" "lifeboat full backup failed"
as_pg "${PGBR[@]}" --type=full backup > "$LOGS/base-pgbackrest.log" 2>&1 || fail_with "$LOGS/base-pgbackrest.log" "pgbackrest full backup failed"
wait_archived

# sample_ready FILE: every 0.5 s, "seconds-since-start ready-count" (the archive_status backlog).
sample_ready() {
  local t0=$EPOCHREALTIME
  while :; do
    echo "$(since "$t0") $(ready_count)" >> "$1"
    sleep 0.5
  done
}
# load_run NAME SECONDS CMD...: runs a write load with the backlog sampled, then waits until archiving caught up;
# records WAL MB/s, max and final backlog, drain time, and the per-file archive cost of each tool during the load.
load_run() {
  local phase="$1" seconds="$2"; shift 2
  local samples="$LOGS/$phase.ready" lsn0 lsn1 t0 t_load t_drain start_line pid
  : > "$samples"
  start_line=$(wc -l < "$LOGS/archive.log")
  lsn0=$(sql "select pg_current_wal_lsn()")
  t0=$(now)
  sample_ready "$samples" & pid=$!
  BACKGROUND+=("$pid")
  "$@" > "$LOGS/$phase.log" 2>&1 || fail_with "$LOGS/$phase.log" "the write load of $phase failed"
  t_load=$(since "$t0")
  lsn1=$(sql "select pg_current_wal_lsn()")
  local t1; t1=$(now)
  wait_archived
  t_drain=$(since "$t1")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local wal_bytes; wal_bytes=$(sql "select pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint")
  record "$phase" all wal_mbps "$(awk -v b="$wal_bytes" -v t="$t_load" 'BEGIN { printf "%.1f", b / t / 1e6 }')"
  record "$phase" all wal_mb "$(awk -v b="$wal_bytes" 'BEGIN { printf "%.0f", b / 1e6 }')"
  record "$phase" all load_s "$t_load"
  record "$phase" all max_ready "$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$samples")"
  record "$phase" all drain_s "$t_drain"
  local tps; tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$LOGS/$phase.log" | head -1)
  [ -n "$tps" ] && record "$phase" all tps "$(printf '%.0f' "$tps")"
  tail -n +"$((start_line + 1))" "$LOGS/archive.log" | awk -v ph="$phase" 'length($3) == 24 && $3 !~ /[^0-9A-F]/ {
      printf "%s\t%s\tseg_ms\t%.1f\n", ph, $4, ($1 - $2) * 1000 }' >> "$RAW"
}

ACCOUNTS_BEFORE=""
[ "$DATASET" = pgbench ] && ACCOUNTS_BEFORE=$(sql "select count(*) from pgbench_accounts")
say "pgbench -T $PGBENCH_SECONDS -c $CLIENTS (archiving into both repositories); T at two thirds of the run..."
T_FILE="$WORK/target-time"
( sleep "$(awk -v s="$PGBENCH_SECONDS" 'BEGIN { printf "%.1f", s * 2 / 3 }')"
  sql "select clock_timestamp()" > "$T_FILE" ) & pid=$!
BACKGROUND+=("$pid")
seg_line=$(wc -l < "$LOGS/archive.log")
load_run incr_load "$PGBENCH_SECONDS" pgbench_load "$PGBENCH_SECONDS"
wait "$pid" 2>/dev/null || true
# The segments the load filled (the last one, padded by pg_switch_wal, left out): measured again in section 9.
tail -n +"$((seg_line + 1))" "$LOGS/archive.log" | awk 'length($3) == 24 && $3 !~ /[^0-9A-F]/ && $4 == "lifeboat" { print $3 }' \
  | awk '{ s[NR] = $0 } END { for (i = 1; i < NR || i == 1 && NR == 1; i++) print s[i] }' > "$WORK/load-segments"
TARGET_TIME=$(cat "$T_FILE")
[ -n "$TARGET_TIME" ] || die "the recovery target time was not recorded"
say "recovery target T = $TARGET_TIME"
sql "checkpoint" > /dev/null
rm -rf "$LB_REPO.base" "$PGBR_REPO.base"
cp -a "$LB_REPO" "$LB_REPO.base"
cp -a "$PGBR_REPO" "$PGBR_REPO.base"

# ---------------------------------------------------------------------------------------------------------------
# 7. Incremental backups: each round starts from copies of the repositories as they were after the load.
# ---------------------------------------------------------------------------------------------------------------
incr_lifeboat() {
  rm -rf "$LB_REPO"; cp -a "$LB_REPO.base" "$LB_REPO"
  archive_mode lifeboat
  local before; before=$(lb_backup_bytes)
  run_timed "incr-lifeboat-$1" "${AS_PG[@]}" $LB --config "$LB_CFG" backup --source bench --type incr --json
  record_timed incr lifeboat
  record incr lifeboat added_bytes "$(($(lb_backup_bytes) - before))"
  # The changed 8 KiB blocks, uncompressed: what an incremental cannot avoid storing.
  record incr lifeboat new_bytes "$(jq '.stats.newBytes' "$LOGS/incr-lifeboat-$1.out")"
}
incr_pgbackrest() {
  rm -rf "$PGBR_REPO"; cp -a "$PGBR_REPO.base" "$PGBR_REPO"
  archive_mode pgbackrest
  local before; before=$(pgbr_backup_bytes)
  run_timed "incr-pgbackrest-$1" "${AS_PG[@]}" "${PGBR[@]}" --type=incr backup
  record_timed incr pgbackrest
  record incr pgbackrest added_bytes "$(($(pgbr_backup_bytes) - before))"
  # The bytes of the files it copied, uncompressed (whole files: every 1 GiB segment with a changed page).
  record incr pgbackrest new_bytes "$(as_pg "${PGBR[@]}" --output=json info | jq '.[0].backup[-1].info.delta')"
}
for ((rep = 1; rep <= REPS; rep++)); do
  order=(lifeboat pgbackrest); [ $((rep % 2)) = 0 ] && order=(pgbackrest lifeboat)
  for tool in "${order[@]}"; do
    sql "checkpoint" > /dev/null
    sync
    say "incremental backup, round $rep/$REPS: $tool"
    "incr_$tool" "$rep"
  done
done
rm -rf "$LB_REPO" "$PGBR_REPO"
cp -a "$LB_REPO.base" "$LB_REPO"
cp -a "$PGBR_REPO.base" "$PGBR_REPO"

# ---------------------------------------------------------------------------------------------------------------
# 8. Restore with point-in-time recovery to T, up to the first successful query on the promoted server (the RTO).
#    Both restore the full backup taken before the load and replay the archived WAL up to T with their own
#    restore_command; both turn archiving off in the copy.
# ---------------------------------------------------------------------------------------------------------------
RPORT=$(free_port)
RDATA="$WORK/restored"
CLUSTERS+=("$RDATA")
# first_query LOG: starts the restored server and polls until it is out of recovery and answers CHECK_QUERY.
first_query() {
  as_pg pg_ctl -D "$RDATA" -o "-p $RPORT" -l "$1" start > /dev/null || fail_with "$1" "the restored server did not start"
  local deadline=$((SECONDS + 1800)) out
  while :; do
    out=$(psql -X -h "$SOCK" -p "$RPORT" -U postgres -d postgres -Atc "select pg_is_in_recovery()" 2>/dev/null || true)
    if [ "$out" = f ]; then
      out=$(psql -X -h "$SOCK" -p "$RPORT" -U postgres -d postgres -Atc "$CHECK_QUERY" 2>/dev/null) && break
    fi
    [ $SECONDS -lt $deadline ] || fail_with "$1" "the restored server did not finish recovery within 30 minutes"
    sleep 0.05
  done
  FIRST_QUERY_RESULT=$out
}
stop_restored() {
  as_pg pg_ctl -D "$RDATA" -m immediate -w stop > /dev/null 2>&1 || true
  rm -rf "$RDATA"
}
restore_round() { # TOOL REP
  local tool="$1" rep="$2" t0 files_s
  stop_restored
  sync
  t0=$(now)
  if [ "$tool" = lifeboat ]; then
    run_timed "restore-lifeboat-$rep" "${AS_PG[@]}" env "LIFEBOAT_SELF=$LB" $LB --config "$LB_CFG" restore --source bench \
      --to "$RDATA" --target-time "$TARGET_TIME" --archive-mode off
  else
    as_pg mkdir -m 700 "$RDATA"
    run_timed "restore-pgbackrest-$rep" "${AS_PG[@]}" "${PGBR[@]}" --pg1-path="$RDATA" --type=time "--target=$TARGET_TIME" \
      --target-action=promote --archive-mode=off restore
  fi
  files_s=$T_WALL
  record restore "$tool" rss_mib "$T_RSS"
  record restore "$tool" cpu_s "$T_CPU"
  record restore "$tool" files_s "$files_s"
  record restore "$tool" mbps "$(awk -v b="$SOURCE_BYTES" -v t="$files_s" 'BEGIN { printf "%.1f", b / t / 1e6 }')"
  local t1; t1=$(now)
  first_query "$LOGS/restored-$tool-$rep.log"
  record restore "$tool" recovery_s "$(since "$t1")"
  record restore "$tool" rto_s "$(since "$t0")"
  record restore "$tool" segments "$(grep -c 'restored log file' "$LOGS/restored-$tool-$rep.log" || true)"
  record restore "$tool" check_value "$FIRST_QUERY_RESULT"
  grep -m1 'restore_command' "$RDATA/postgresql.auto.conf" > "$LOGS/restore_command-$tool" || true
  stop_restored
}
for ((rep = 1; rep <= REPS; rep++)); do
  order=(lifeboat pgbackrest); [ $((rep % 2)) = 0 ] && order=(pgbackrest lifeboat)
  for tool in "${order[@]}"; do
    say "restore + PITR to T + first query, round $rep/$REPS: $tool"
    restore_round "$tool" "$rep"
  done
done

# ---------------------------------------------------------------------------------------------------------------
# 9. WAL archiving.
#    a) The same SEGMENTS segments (taken from the load above) pushed one by one into fresh repositories, per tool,
#       on an otherwise idle cluster: the cost of one archive_command.
#    b) The backlog in pg_wal/archive_status under pgbench load, and under a bulk load (pgbench -i), one tool at a time.
# ---------------------------------------------------------------------------------------------------------------
SEGDIR="$WORK/segments"
mkdir -p "$SEGDIR"
[ "$(id -u)" = 0 ] && chown postgres: "$SEGDIR"
mapfile -t SEGS < <(head -n "$SEGMENTS" "$WORK/load-segments")
[ ${#SEGS[@]} -gt 0 ] || die "no archived WAL segment to measure wal-push with"
for s in "${SEGS[@]}"; do
  as_pg $LB --config "$LB_CFG" wal-fetch --source bench "$s" "$SEGDIR/$s" 2>> "$LOGS/segments.log" || fail_with "$LOGS/segments.log" "wal-fetch $s failed"
done
LB_SEG_CFG="$WORK/lifeboat-seg.json"
PGBR_SEG_CONF="$WORK/pgbackrest-seg.conf"
pgbackrest_conf "$PGBR_SEG_CONF" "$WORK/pgbr-seg-repo"
cat > "$WORK/push-segments.sh" <<EOF
#!/bin/bash
# Pushes every segment of $SEGDIR with one tool; prints "milliseconds rss_kib" per segment.
tool=\$1
for f in $SEGDIR/*; do
  [ -f "\$f" ] || continue
  t0=\$EPOCHREALTIME
  case \$tool in
    lifeboat) /usr/bin/time -f %M -o "$WORK/push.rss" $LB --config "$LB_SEG_CFG" wal-push --source bench "\$f" ;;
    lifeboat_jit) /usr/bin/time -f %M -o "$WORK/push.rss" $LB_JIT --config "$LB_SEG_CFG" wal-push --source bench "\$f" ;;
    pgbackrest) /usr/bin/time -f %M -o "$WORK/push.rss" pgbackrest --config="$PGBR_SEG_CONF" --stanza=bench archive-push "\$f" ;;
  esac || exit 1
  echo "\$EPOCHREALTIME \$t0 \$(tail -1 "$WORK/push.rss")"
done
EOF
chmod 755 "$WORK/push-segments.sh"
PUSH_TOOLS=(lifeboat pgbackrest)
[ "$JIT" = 1 ] || PUSH_TOOLS+=(lifeboat_jit)
for ((rep = 1; rep <= REPS; rep++)); do
  for ((k = 0; k < ${#PUSH_TOOLS[@]}; k++)); do
    tool=${PUSH_TOOLS[$(((k + rep - 1) % ${#PUSH_TOOLS[@]}))]}
    say "wal-push of ${#SEGS[@]} segments one by one, round $rep/$REPS: $tool"
    if [ "$tool" = pgbackrest ]; then
      rm -rf "$WORK/pgbr-seg-repo"
      as_pg pgbackrest --config="$PGBR_SEG_CONF" --stanza=bench stanza-create >> "$LOGS/pgbr-stanza.log" 2>&1 || fail_with "$LOGS/pgbr-stanza.log" "stanza-create failed"
    else
      rm -rf "$WORK/lb-seg-repo" "$LB_SEG_CFG"
      { as_pg $LB --config "$LB_SEG_CFG" repo init --repo "file://$WORK/lb-seg-repo" --key-file "$LB_KEY" \
        && as_pg $LB --config "$LB_SEG_CFG" source add-cluster bench --pgdata "$PGDATA" --conn "Host=$SOCK;Port=$PORT;Username=postgres"; } \
        >> "$LOGS/lb-init.log" 2>&1 || fail_with "$LOGS/lb-init.log" "lifeboat repo init (segments) failed"
    fi
    as_pg "$WORK/push-segments.sh" "$tool" > "$LOGS/push-$tool-$rep.log" 2>&1 || fail_with "$LOGS/push-$tool-$rep.log" "pushing segments with $tool failed"
    awk -v t="$tool" '{ printf "walpush\t%s\tseg_ms\t%.1f\nwalpush\t%s\trss_mib\t%.1f\n", t, ($1 - $2) * 1000, t, $3 / 1024 }' "$LOGS/push-$tool-$rep.log" >> "$RAW"
  done
done

BURST_SCALE=$(( SCALE / 5 > 0 ? SCALE / 5 : 1 ))
for tool in lifeboat pgbackrest; do
  archive_mode "$tool"
  sql "checkpoint" > /dev/null
  say "archive_command backlog under pgbench -T $ARCHIVE_SECONDS -c $CLIENTS: $tool"
  load_run "archive_load_$tool" "$ARCHIVE_SECONDS" pgbench_load "$ARCHIVE_SECONDS"
  say "archive_command backlog under a bulk load (pgbench -i -s $BURST_SCALE): $tool"
  sql "drop database if exists burst" > /dev/null
  sql "create database burst" > /dev/null
  sql "checkpoint" > /dev/null
  load_run "archive_bulk_$tool" 0 pgbench -h "$SOCK" -p "$PORT" -U postgres -i -s "$BURST_SCALE" -q burst
  sql "drop database burst" > /dev/null
done

# ---------------------------------------------------------------------------------------------------------------
# 10. Logical: Lifeboat's database source (pg_dump -Fd -j 2 read while it is written, chunked, deduplicated,
#     compressed, encrypted) vs plain pg_dump -Fd -j 2 into a directory; restore into a new database, Lifeboat's
#     `restore --database --into` (pg_restore -j 2 underneath) vs plain pg_restore -j 2. Every Lifeboat round starts
#     from an empty repository, like the full backups.
# ---------------------------------------------------------------------------------------------------------------
archive_mode none
as_pg $LB --config "$LB_CFG" source add-database benchdb --conn "Host=$SOCK;Port=$PORT;Username=postgres" \
  --database postgres --jobs 2 >> "$LOGS/lb-source.log" 2>&1 || fail_with "$LOGS/lb-source.log" "lifeboat source add-database failed"
LOGICAL_BYTES=$(sql "select pg_database_size('postgres')")
record logical all db_bytes "$LOGICAL_BYTES"
mkdir -p "$WORK/scratch"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK/scratch"
logical_lifeboat() {
  fresh_lifeboat
  run_timed "logical-lifeboat-$1" "${AS_PG[@]}" $LB --config "$LB_CFG" backup --source benchdb --json
  record_timed logical lifeboat_dump "$LOGICAL_BYTES"
  record logical lifeboat_dump stored_bytes "$(lb_backup_bytes)"
  sql "drop database if exists restored" > /dev/null
  run_timed "logical-restore-lifeboat-$1" "${AS_PG[@]}" $LB --config "$LB_CFG" restore --source benchdb --database postgres \
    --into restored --scratch "$WORK/scratch"
  record_timed logical lifeboat_restore "$LOGICAL_BYTES"
  record logical lifeboat_restore check_value "$("${PSQL[@]}" -d restored -Atc "$CHECK_QUERY")"
  sql "drop database restored" > /dev/null
}
logical_pg_dump() {
  rm -rf "$WORK/dump"
  run_timed "pg_dump-$1" pg_dump -h "$SOCK" -p "$PORT" -U postgres -Fd -j 2 -f "$WORK/dump" postgres
  record_timed logical pg_dump "$LOGICAL_BYTES"
  record logical pg_dump stored_bytes "$(bytes_of "$WORK/dump")"
  sql "drop database if exists restored" > /dev/null
  sql "create database restored" > /dev/null
  run_timed "pg_restore-$1" pg_restore -h "$SOCK" -p "$PORT" -U postgres -j 2 -d restored "$WORK/dump"
  record_timed logical pg_restore "$LOGICAL_BYTES"
  record logical pg_restore check_value "$("${PSQL[@]}" -d restored -Atc "$CHECK_QUERY")"
  sql "drop database restored" > /dev/null
  rm -rf "$WORK/dump"
}
for ((rep = 1; rep <= REPS; rep++)); do
  order=(lifeboat pg_dump); [ $((rep % 2)) = 0 ] && order=(pg_dump lifeboat)
  for tool in "${order[@]}"; do
    sql "checkpoint" > /dev/null
    sync
    say "logical backup and restore, round $rep/$REPS: $tool"
    "logical_$tool" "$rep"
  done
done

# ---------------------------------------------------------------------------------------------------------------
# 11. The machine's limits on the same data: a tar of PGDATA (without pg_wal).
# ---------------------------------------------------------------------------------------------------------------
say "physical limits on a tar of PGDATA..."
sql "checkpoint" > /dev/null
TAR="$WORK/pgdata.tar"
tar -cf "$TAR" --exclude=./pg_wal -C "$PGDATA" . 2> "$LOGS/tar.log" || true
TAR_BYTES=$(stat -c %s "$TAR")
limit() { # METRIC CMD...: MB/s of TAR_BYTES
  local metric="$1" t0; shift
  t0=$(now)
  "$@" > /dev/null 2>> "$LOGS/limits.log" || fail_with "$LOGS/limits.log" "$* failed"
  record limits machine "$metric" "$(awk -v b="$TAR_BYTES" -v t="$(since "$t0")" 'BEGIN { printf "%.1f", b / t / 1e6 }')"
}
# SHA-256 as fast as this machine does it: OpenSSL (SHA-NI where the CPU has it, as .NET uses), else coreutils.
SHA256=(sha256sum)
command -v openssl > /dev/null && SHA256=(openssl dgst -sha256)
cat "$TAR" > /dev/null
ZSTD_BYTES=$(zstd -q -3 -T2 -c "$TAR" | wc -c)
record limits machine zstd_ratio "$(awk -v a="$TAR_BYTES" -v b="$ZSTD_BYTES" 'BEGIN { printf "%.2f", a / b }')"
for ((rep = 1; rep <= REPS; rep++)); do
  limit disk_read_mbps dd if="$TAR" of=/dev/null bs=4M iflag=direct
  limit disk_write_mbps dd if="$TAR" of="$WORK/write.tmp" bs=4M oflag=direct conv=fsync
  rm -f "$WORK/write.tmp"
  limit cache_read_mbps cat "$TAR"
  limit zstd_mbps zstd -q -3 -T2 -c "$TAR"
  limit sha256_mbps "${SHA256[@]}" "$TAR"
done
rm -f "$TAR"

# ---------------------------------------------------------------------------------------------------------------
# 11b. --profile: where a full backup and a restore spend their CPU. The JIT build (perf resolves JIT-compiled
#      methods through /tmp/perf-PID.map), user-space samples only (cpu-clock:u; the system time is in cpu_s), one
#      full backup into an empty repository and one restore of it (files only: the server is not started).
# ---------------------------------------------------------------------------------------------------------------
PROFILE_FILES=()
if [ "$PROFILE" = 1 ]; then
  touch "$WORK/profile.start"
  archive_mode lifeboat
  sql "checkpoint" > /dev/null
  for what in backup restore; do
    say "profiling one Lifeboat $what (perf, JIT)..."
    data="$WORK/perf-$what.data"
    if [ "$what" = backup ]; then
      fresh_lifeboat
      cmd=(backup --source bench --type full)
    else
      rm -rf "$WORK/profile-restored"
      cmd=(restore --source bench --to "$WORK/profile-restored" --archive-mode off)
    fi
    t0=$(now)
    "${AS_PG[@]}" env DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -q -e cpu-clock:u -F 999 -o "$data" -- \
      /usr/bin/time -v -o "$LOGS/profile-$what.time" $LB_JIT --config "$LB_CFG" "${cmd[@]}" > "$LOGS/profile-$what.log" 2>&1 \
      || fail_with "$LOGS/profile-$what.log" "profiling lifeboat $what failed"
    record profile "$what" wall_s "$(since "$t0")"
    record profile "$what" cpu_s "$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$LOGS/profile-$what.time")"
    record profile "$what" sys_s "$(awk -F': ' '/System time/ { printf "%.2f", $2 }' "$LOGS/profile-$what.time")"
    {
      echo "# perf: lifeboat $what (JIT), self time by library"
      as_pg perf report -i "$data" --stdio --no-children --sort dso 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/[[:space:]]*$//' | head -15
      echo
      echo "# perf: lifeboat $what (JIT), self time by function (>= 0.5 %)"
      as_pg perf report -i "$data" --stdio --no-children --sort dso,symbol --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$' \
        | sed 's/[[:space:]]*-[[:space:]]*-[[:space:]]*$//; s/[[:space:]]*$//' | head -60
    } > "$LOGS/profile-$what.txt"
    PROFILE_FILES+=("$LOGS/profile-$what.txt")
  done
  rm -rf "$WORK/profile-restored" "$WORK"/perf-*.data
  # the perf maps the JIT runs wrote (one per process, named by its pid)
  as_pg find /tmp -maxdepth 1 -user "$PGUSER_OS" \( -name 'perf-*.map' -o -name 'perfinfo-*.map' \) -newer "$WORK/profile.start" -delete 2>/dev/null || true
fi

# ---------------------------------------------------------------------------------------------------------------
# 12. Report.
# ---------------------------------------------------------------------------------------------------------------
# stats PHASE TOOL METRIC -> "median min max n" (empty when not measured)
STATS="$WORK/stats.tsv"
sort -t "$(printf '\t')" -k1,1 -k2,2 -k3,3 -k4,4g "$RAW" | awk -F'\t' '
  BEGIN { OFMT = "%.4f"; CONVFMT = "%.4f" }
  function flush() { if (n) { m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2; print k "\t" m "\t" a[1] "\t" a[n] "\t" n } }
  { key = $1 "\t" $2 "\t" $3; if (key != k) { flush(); k = key; n = 0 } a[++n] = $4 }
  END { flush() }' > "$STATS"
stat_of() { awk -F'\t' -v p="$1" -v t="$2" -v m="$3" '$1 == p && $2 == t && $3 == m { print $4, $5, $6, $7 }' "$STATS"; }
med() { stat_of "$@" | cut -d' ' -f1; }
# cell PHASE TOOL METRIC [SCALE] [DECIMALS]: "median (min–max)" divided by SCALE
cell() {
  local s; s=$(stat_of "$1" "$2" "$3")
  [ -n "$s" ] || { echo "–"; return; }
  echo "$s" | awk -v d="${4:-1}" -v p="${5:-2}" '{ f = "%." p "f"; if ($4 > 1 && $2 != $3) printf f " (" f "–" f ")", $1 / d, $2 / d, $3 / d; else printf f, $1 / d }'
}
ratio() { # A B -> A / B with 2 decimals, or –
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "–"; else printf "%.2f", a / b }'
}
verdict() { # VALUE OP LIMIT -> met / MISSED
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { if (v == "–" || v == "") { print "–"; exit }
    ok = (op == "<=") ? (v + 0 <= l + 0) : (v + 0 < l + 0); print ok ? "**met**" : "**missed**" }'
}
MB=1000000
MIB=1048576
r_full=$(ratio "$(med full lifeboat wall_s)" "$(med full pgbackrest wall_s)")
r_size=$(ratio "$(med full lifeboat stored_bytes)" "$(med full pgbackrest stored_bytes)")
r_incr=$(ratio "$(med incr lifeboat added_bytes)" "$(med incr pgbackrest added_bytes)")
r_incr_t=$(ratio "$(med incr lifeboat wall_s)" "$(med incr pgbackrest wall_s)")
r_rto=$(ratio "$(med restore lifeboat rto_s)" "$(med restore pgbackrest rto_s)")
r_seg=$(ratio "$(med walpush lifeboat seg_ms)" "$(med walpush pgbackrest seg_ms)")
r_dump=$(ratio "$(med logical lifeboat_dump wall_s)" "$(med logical pg_dump wall_s)")
r_lrestore=$(ratio "$(med logical lifeboat_restore wall_s)" "$(med logical pg_restore wall_s)")
r_bb=$(ratio "$(med full lifeboat wall_s)" "$(med full basebackup_zstd wall_s)")
r_seg_load=$(ratio "$(med archive_load_lifeboat lifeboat seg_ms)" "$(med archive_load_pgbackrest pgbackrest seg_ms)")
lb_peak=$(awk -F'\t' '$2 == "lifeboat" && $3 == "rss_mib" { if ($4 > m) m = $4 } END { printf "%.0f", m }' "$RAW")
max_ready_lb=$(awk -F'\t' '$1 ~ /^archive_(load|bulk)_lifeboat$/ && $3 == "max_ready" { if ($4 > m) m = $4 } END { print m + 0 }' "$RAW")
max_ready_pgbr=$(awk -F'\t' '$1 ~ /^archive_(load|bulk)_pgbackrest$/ && $3 == "max_ready" { if ($4 > m) m = $4 } END { print m + 0 }' "$RAW")
check_lb=$(med restore lifeboat check_value)
check_pgbr=$(med restore pgbackrest check_value)

STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT="$ROOT/bench/results"
mkdir -p "$OUT"
NAME="compare-$DATASET-s$SCALE-$STAMP"
[ "$SMOKE" = 1 ] && NAME="compare-smoke-$DATASET-$STAMP"
MD="$OUT/$NAME.md"
CPU_MODEL=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
{
  echo "# Lifeboat vs pgBackRest and PostgreSQL's tools — $DATASET, scale $SCALE"
  echo
  echo "- $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs ($CPU_MODEL), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM; load average (1, 5, 15 min) at the start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- PostgreSQL $(postgres --version | awk '{ print $3 }'), $(pgbackrest version), $(zstd --version | sed 's/^\*\*\* //; s/,.*//'), Lifeboat $LB_VERSION, $LB_BUILD"
  echo "- source: $((SOURCE_BYTES / MIB)) MiB (PGDATA without pg_wal; zstd -3 ratio $(med limits machine zstd_ratio):1); $REPS rounds, each cell: median (min–max)"
  echo "- pgbench load: -T $PGBENCH_SECONDS -c $CLIENTS -j 2 ($(med incr_load all tps) tps, $(med incr_load all wal_mb) MB of WAL); PITR target T = $TARGET_TIME"
  [ "$SMOKE" = 1 ] && echo "- **smoke run: durations too short to mean anything**"
  echo
  echo "| measurement | Lifeboat | pgBackRest | PostgreSQL's tools / the machine | Lifeboat / pgBackRest (or the peer named) | goal (issue 3) |"
  echo "|---|---:|---:|---:|---:|---|"
  echo "| full backup, s | $(cell full lifeboat wall_s) | $(cell full pgbackrest wall_s) | -Ft: $(cell full basebackup wall_s); -Ft \\| zstd: $(cell full basebackup_zstd wall_s) | **$r_full** ($r_bb vs -Ft \\| zstd) | ≤ 0.60: $(verdict "$r_full" "<=" 0.6) |"
  echo "| full backup, MB/s of source | $(cell full lifeboat mbps 1 0) | $(cell full pgbackrest mbps 1 0) | -Ft: $(cell full basebackup mbps 1 0); -Ft \\| zstd: $(cell full basebackup_zstd mbps 1 0) | | |"
  echo "| full backup, stored MiB (without WAL) | $(cell full lifeboat stored_bytes $MIB 1) | $(cell full pgbackrest stored_bytes $MIB 1) | -Ft: $(cell full basebackup stored_bytes $MIB 0); -Ft \\| zstd: $(cell full basebackup_zstd stored_bytes $MIB 1) | **$r_size** | ≤ 1.00: $(verdict "$r_size" "<=" 1) |"
  echo "| full backup, CPU s | $(cell full lifeboat cpu_s) | $(cell full pgbackrest cpu_s) | -Ft: $(cell full basebackup cpu_s); -Ft \\| zstd: $(cell full basebackup_zstd cpu_s) | $(ratio "$(med full lifeboat cpu_s)" "$(med full pgbackrest cpu_s)") | |"
  echo "| full backup, peak RSS MiB | $(cell full lifeboat rss_mib 1 0) | $(cell full pgbackrest rss_mib 1 0) | -Ft: $(cell full basebackup rss_mib 1 0); -Ft \\| zstd: $(cell full basebackup_zstd rss_mib 1 0) | | |"
  echo "| incremental after the load, s | $(cell incr lifeboat wall_s) | $(cell incr pgbackrest wall_s) | | $r_incr_t | |"
  echo "| incremental, MiB added | $(cell incr lifeboat added_bytes $MIB 1) | $(cell incr pgbackrest added_bytes $MIB 1) | | **$r_incr** | ≤ 0.60: $(verdict "$r_incr" "<=" 0.6) |"
  echo "| — uncompressed MiB it had to store: changed blocks / copied files | $(cell incr lifeboat new_bytes $MIB 0) | $(cell incr pgbackrest new_bytes $MIB 0) | | $(ratio "$(med incr lifeboat new_bytes)" "$(med incr pgbackrest new_bytes)") | |"
  echo "| incremental, peak RSS MiB | $(cell incr lifeboat rss_mib 1 0) | $(cell incr pgbackrest rss_mib 1 0) | | | |"
  echo "| restore + PITR to T, to first query (RTO), s | $(cell restore lifeboat rto_s) | $(cell restore pgbackrest rto_s) | | **$r_rto** | ≤ 0.80: $(verdict "$r_rto" "<=" 0.8) |"
  echo "| — of which restoring files, s | $(cell restore lifeboat files_s) | $(cell restore pgbackrest files_s) | | $(ratio "$(med restore lifeboat files_s)" "$(med restore pgbackrest files_s)") | |"
  echo "| — of which recovery (restore_command, replay) to first query, s | $(cell restore lifeboat recovery_s) | $(cell restore pgbackrest recovery_s) | | $(ratio "$(med restore lifeboat recovery_s)" "$(med restore pgbackrest recovery_s)") | |"
  echo "| — WAL segments fetched by restore_command | $(cell restore lifeboat segments 1 0) | $(cell restore pgbackrest segments 1 0) | | | |"
  echo "| restore of files, MB/s of source; peak RSS MiB | $(cell restore lifeboat mbps 1 0); $(cell restore lifeboat rss_mib 1 0) | $(cell restore pgbackrest mbps 1 0); $(cell restore pgbackrest rss_mib 1 0) | | | |"
  echo "| wal-push / archive-push, ms per segment (idle, same segments) | $(cell walpush lifeboat seg_ms) | $(cell walpush pgbackrest seg_ms) | JIT \`dotnet lifeboat.dll\`: $(cell walpush lifeboat_jit seg_ms) | **$r_seg** | ≤ 1.00: $(verdict "$r_seg" "<=" 1) |"
  echo "| — peak RSS MiB per push | $(cell walpush lifeboat rss_mib 1 0) | $(cell walpush pgbackrest rss_mib 1 0) | JIT: $(cell walpush lifeboat_jit rss_mib 1 0) | | |"
  echo "| archive_command under pgbench, ms per segment | $(cell archive_load_lifeboat lifeboat seg_ms) | $(cell archive_load_pgbackrest pgbackrest seg_ms) | | $r_seg_load | |"
  echo "| — WAL MB/s produced; max .ready backlog; drain after the load, s | $(med archive_load_lifeboat all wal_mbps); $(med archive_load_lifeboat all max_ready); $(med archive_load_lifeboat all drain_s) | $(med archive_load_pgbackrest all wal_mbps); $(med archive_load_pgbackrest all max_ready); $(med archive_load_pgbackrest all drain_s) | | | |"
  echo "| archive_command under bulk load (pgbench -i -s $BURST_SCALE), ms per segment | $(cell archive_bulk_lifeboat lifeboat seg_ms) | $(cell archive_bulk_pgbackrest pgbackrest seg_ms) | | $(ratio "$(med archive_bulk_lifeboat lifeboat seg_ms)" "$(med archive_bulk_pgbackrest pgbackrest seg_ms)") | |"
  echo "| — WAL MB/s produced; max .ready backlog; drain after the load, s | $(med archive_bulk_lifeboat all wal_mbps); $(med archive_bulk_lifeboat all max_ready); $(med archive_bulk_lifeboat all drain_s) | $(med archive_bulk_pgbackrest all wal_mbps); $(med archive_bulk_pgbackrest all max_ready); $(med archive_bulk_pgbackrest all drain_s) | | | no backlog (at most 1 .ready, the segment being archived): $( [ "$max_ready_lb" -le 1 ] && echo "**met**" || echo "**missed**: up to $max_ready_lb .ready (pgBackRest: $max_ready_pgbr)") |"
  echo "| logical backup (database \`postgres\`, $((LOGICAL_BYTES / MIB)) MiB), s | $(cell logical lifeboat_dump wall_s) | – | \`pg_dump -Fd -j 2\`: $(cell logical pg_dump wall_s) | **$r_dump** (vs pg_dump) | |"
  echo "| — stored MiB; peak RSS MiB | $(cell logical lifeboat_dump stored_bytes $MIB 1); $(cell logical lifeboat_dump rss_mib 1 0) | – | $(cell logical pg_dump stored_bytes $MIB 1) (gzip -6 per table); $(cell logical pg_dump rss_mib 1 0) | $(ratio "$(med logical lifeboat_dump stored_bytes)" "$(med logical pg_dump stored_bytes)") (vs pg_dump) | |"
  echo "| logical restore into a new database, s | $(cell logical lifeboat_restore wall_s) | – | \`pg_restore -j 2\`: $(cell logical pg_restore wall_s) | **$r_lrestore** (vs pg_restore) | |"
  echo "| peak RSS of any Lifeboat command, MiB | $lb_peak | | | | < 300: $(verdict "$lb_peak" "<" 300) |"
  echo "| machine: disk read (O_DIRECT) / write (O_DIRECT + fsync), MB/s | | | $(cell limits machine disk_read_mbps 1 0) / $(cell limits machine disk_write_mbps 1 0) | | |"
  echo "| machine: page-cache read; zstd -3 -T2; SHA-256, MB/s | | | $(cell limits machine cache_read_mbps 1 0); $(cell limits machine zstd_mbps 1 0); $(cell limits machine sha256_mbps 1 0) | | |"
  echo
  echo "Both PITR restores answered \`$CHECK_QUERY\` with: Lifeboat $check_lb, pgBackRest $check_pgbr$( [ "$check_lb" = "$check_pgbr" ] && echo " (identical)" || echo " (**different**)")."
  echo "pgBackRest's peak RSS is that of its largest process (GNU time reports the largest descendant; process-max 2 runs 3 processes)."
  echo
  echo "restore_command: Lifeboat \`$(sed 's/^restore_command = //' "$LOGS/restore_command-lifeboat" 2>/dev/null)\`; pgBackRest \`$(sed 's/^restore_command = //' "$LOGS/restore_command-pgbackrest" 2>/dev/null)\`"
  if [ ${#PROFILE_FILES[@]} -gt 0 ]; then
    echo
    echo "## Profile (--profile): one full backup and one restore, JIT build, perf cpu-clock:u at 999 Hz"
    echo
    echo "Full backup: $(med profile backup wall_s) s wall, $(med profile backup cpu_s) s CPU of which $(med profile backup sys_s) s in the kernel (not sampled). Restore: $(med profile restore wall_s) s wall, $(med profile restore cpu_s) s CPU of which $(med profile restore sys_s) s in the kernel."
    for f in "${PROFILE_FILES[@]}"; do echo; echo '```'; cat "$f"; echo '```'; done
  fi
} > "$MD"

JSON="$OUT/$NAME.json"
jq -n --rawfile raw "$RAW" --rawfile stats "$STATS" \
  --arg date "$(date -u +%FT%TZ)" --arg dataset "$DATASET" --argjson scale "$SCALE" --argjson reps "$REPS" \
  --argjson pgbench_seconds "$PGBENCH_SECONDS" --argjson source_bytes "$SOURCE_BYTES" --arg target_time "$TARGET_TIME" \
  --arg cpu "$CPU_MODEL" --argjson cpus "$(nproc)" --arg lifeboat "$LB_VERSION" --arg build "$LB_BUILD" \
  --arg pgbackrest "$(pgbackrest version)" --arg postgres "$(postgres --version)" --argjson smoke "$SMOKE" \
  --arg r_full "$r_full" --arg r_size "$r_size" --arg r_incr "$r_incr" --arg r_rto "$r_rto" --arg r_seg "$r_seg" --arg r_bb "$r_bb" --arg r_dump "$r_dump" --arg r_lrestore "$r_lrestore" --arg lb_peak "$lb_peak" '
  def num: if test("^-?[0-9.]+$") then tonumber else . end;
  { date: $date, dataset: $dataset, scale: $scale, reps: $reps, pgbench_seconds: $pgbench_seconds, smoke: ($smoke == 1),
    source_bytes: $source_bytes, target_time: $target_time,
    machine: { cpu: $cpu, cpus: $cpus }, versions: { lifeboat: $lifeboat, build: $build, pgbackrest: $pgbackrest, postgres: $postgres },
    ratios: { full_time: ($r_full | num), full_size: ($r_size | num), incr_bytes: ($r_incr | num), rto: ($r_rto | num),
              wal_push_per_segment: ($r_seg | num), full_time_vs_basebackup_zstd: ($r_bb | num),
              logical_backup_vs_pg_dump: ($r_dump | num), logical_restore_vs_pg_restore: ($r_lrestore | num) },
    lifeboat_peak_rss_mib: ($lb_peak | num),
    results: [ $stats | split("\n")[] | select(length > 0) | split("\t")
               | { phase: .[0], tool: .[1], metric: .[2], median: (.[3] | num), min: (.[4] | num), max: (.[5] | num), n: (.[6] | num) } ],
    raw: [ $raw | split("\n")[] | select(length > 0) | split("\t") | { phase: .[0], tool: .[1], metric: .[2], value: (.[3] | num) } ] }' > "$JSON"

cat "$MD"
echo >&2
say "written to $MD and $JSON"
