#!/usr/bin/env bash
# Lifeboat's write pipeline against `zstd -3 -T2`, on the same files, in one run (docs/performance.md).
#
# 1. Generates the two data sets as files (deterministic: bench/Lifeboat.Benchmarks/DataSets.cs).
# 2. In ROUNDS rounds, so that both sides see the same background load on a shared machine, measures
#    - `zstd -q -3 -T2 -c FILE > /dev/null` (hyperfine when installed, else repeated `time`), RUNS times;
#    - `Lifeboat.Benchmarks pipeline FILE`: the file stored through RepositoryWriter (2 workers) into a fresh encrypted
#      local repository, with StreamChunker (FastCDC) and with 8 KiB blocks, RUNS times each after a warm-up.
# 3. Prints the medians and the ratio pipeline / zstd as a Markdown table, also written to bench/results/ (git-ignored).
#
# Environment: SIZE_MIB (default 256), ROUNDS (default 3), RUNS per round (default 3), WORKERS (default 2),
# KEEP_DATA=1 keeps the data files in bench/results/data.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
ensure_dotnet
ensure_apt libzstd1 zstd
ensure_apt hyperfine 2>/dev/null || echo "hyperfine is not available: timing zstd with repeated 'time'" >&2

SIZE_MIB="${SIZE_MIB:-256}"
ROUNDS="${ROUNDS:-3}"
RUNS="${RUNS:-3}"
WORKERS="${WORKERS:-2}"
OUT=bench/results
DATA="$OUT/data"
SCRATCH="$OUT/scratch"
mkdir -p "$DATA" "$SCRATCH"
BIN=bench/Lifeboat.Benchmarks/bin/Release/net10.0/Lifeboat.Benchmarks

echo "building bench/Lifeboat.Benchmarks (Release)..." >&2
dotnet build bench/Lifeboat.Benchmarks -c Release -v quiet -nologo -clp:ErrorsOnly >&2

# median: one number per line on stdin -> the median
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }

# zstd_runs FILE: RUNS timed runs after one warm-up; one line "seconds cpu_seconds" per run.
zstd_runs() {
  local file="$1"
  if command -v hyperfine >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$SCRATCH/hyperfine.json" \
      "zstd -q -3 -T$WORKERS -c '$file' > /dev/null" >&2
    # "times" holds every run; "user" and "system" are means in hyperfine 1.15 (per-run arrays in later versions).
    python3 - "$SCRATCH/hyperfine.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
user, system = r["user"], r["system"]
for i, t in enumerate(r["times"]):
    cpu = (user[i] + system[i]) if isinstance(user, list) else (user + system)
    print(f"{t:.4f} {cpu:.4f}")
EOF
  else
    zstd -q -3 -T"$WORKERS" -c "$file" > /dev/null
    for _ in $(seq "$RUNS"); do
      { TIMEFORMAT='%R %U %S'; time zstd -q -3 -T"$WORKERS" -c "$file" > /dev/null; } 2>&1 | awk '{ print $1, $2 + $3 }'
    done
  fi
}

# pipeline_runs FILE CHUNKING: RUNS runs after one warm-up; one line "mbps cpu_seconds" per run.
pipeline_runs() {
  local log
  log=$("$BIN" pipeline "$1" --chunking "$2" --runs "$RUNS" --workers "$WORKERS" --dir "$SCRATCH")
  echo "$log" >&2
  echo "$log" | sed -n 's/^result mbps=\([0-9.]*\) cpu_s=\([0-9.]*\)$/\1 \2/p'
}

stamp=$(date -u +%Y%m%d-%H%M%S)
report="$OUT/pipeline-vs-zstd-$stamp.md"
{
  echo "# Lifeboat pipeline vs zstd -3 -T$WORKERS"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM"
  echo "- $(zstd --version | sed 's/^\*\*\* //; s/ \*\*\*$//'); .NET $(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ { v = $2 } END { print v }'); $SIZE_MIB MiB per data set"
  echo "- each figure: median of $ROUNDS rounds × $RUNS runs; zstd and the pipeline alternate round by round"
  echo "- zstd: \`zstd -q -3 -T$WORKERS -c FILE > /dev/null\` (compression only, output discarded)"
  echo "- pipeline: \`Lifeboat.Benchmarks pipeline FILE --workers $WORKERS\`: FastCDC (or 8 KiB blocks), HMAC-SHA256 ids, zstd 3 per frame, AES-256-GCM, packs written, fsynced and renamed into a fresh local repository"
  echo "- MB/s = 10^6 input bytes per second of wall time; CPU = user + system seconds of the process, median"
  echo
} > "$report"

table="$SCRATCH/table.md"
{
  echo "| data set | zstd -3 ratio | zstd -3 -T$WORKERS MB/s | zstd CPU s | pipeline CDC MB/s | CDC CPU s | **CDC / zstd** | pipeline 8 KiB blocks MB/s | blocks CPU s | **blocks / zstd** | load avg (start → end) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
} > "$table"

for set in pgbench realistic; do
  file="$DATA/$set-${SIZE_MIB}M.bin"
  echo "generating $file..." >&2
  "$BIN" gen "$set" "$file" "$SIZE_MIB"
  bytes=$(stat -c %s "$file")
  echo "$set: sha256 $(sha256sum "$file" | cut -c1-16)… (deterministic)" >&2
  ratio=$(awk -v a="$bytes" -v b="$(zstd -q -3 -T"$WORKERS" -c "$file" | wc -c)" 'BEGIN { printf "%.2f", a / b }')
  load_start=$(loadavg)
  : > "$SCRATCH/zstd.txt"; : > "$SCRATCH/cdc.txt"; : > "$SCRATCH/blocks.txt"
  for round in $(seq "$ROUNDS"); do
    echo "== $set, round $round of $ROUNDS (load $(loadavg))" >&2
    zstd_runs "$file" | tee -a "$SCRATCH/zstd.txt" >&2
    pipeline_runs "$file" cdc >> "$SCRATCH/cdc.txt"
    pipeline_runs "$file" blocks >> "$SCRATCH/blocks.txt"
  done
  load_end=$(loadavg)
  zsec=$(awk '{ print $1 }' "$SCRATCH/zstd.txt" | median)
  zcpu=$(awk '{ print $2 }' "$SCRATCH/zstd.txt" | median)
  cdc=$(awk '{ print $1 }' "$SCRATCH/cdc.txt" | median)
  cdccpu=$(awk '{ print $2 }' "$SCRATCH/cdc.txt" | median)
  blk=$(awk '{ print $1 }' "$SCRATCH/blocks.txt" | median)
  blkcpu=$(awk '{ print $2 }' "$SCRATCH/blocks.txt" | median)
  awk -v set="$set" -v ratio="$ratio" -v bytes="$bytes" -v zs="$zsec" -v zc="$zcpu" -v c="$cdc" -v cc="$cdccpu" -v k="$blk" -v kc="$blkcpu" -v l1="$load_start" -v l2="$load_end" \
    'BEGIN { z = bytes / zs / 1e6; printf "| %s | %s:1 | %.0f | %.2f | %.0f | %.2f | **%.0f %%** | %.0f | %.2f | **%.0f %%** | %s → %s |\n", set, ratio, z, zc, c, cc, 100 * c / z, k, kc, 100 * k / z, l1, l2 }' >> "$table"
done

{
  cat "$table"
  echo
  echo "Goal: the pipeline reaches at least 70 % of \`zstd -3 -T$WORKERS\` throughput. A load average above $(nproc) means other"
  echo "processes competed for the CPUs during the measurement; the CPU columns are less affected by that than MB/s."
} >> "$report"

rm -rf "$SCRATCH"
[ "${KEEP_DATA:-0}" = 1 ] || rm -f "$DATA"/*.bin
cat "$report"
echo >&2
echo "written to $report" >&2
