#!/usr/bin/env bash
# Backup throughput to an S3 target (s3rver on loopback) against a local target, same data, same build (docs/performance.md).
#
# 1. Writes a data set of SIZE_MIB MiB. DATASET=realistic (default) or pgbench: the deterministic data sets of
#    bench/Lifeboat.Benchmarks (docs/performance.md, Data sets); DATASET=random: incompressible random bytes, every
#    byte stored and uploaded (the worst case for a remote target).
# 2. In ROUNDS rounds, alternating so that both sides see the same background load, runs a full
#    `lifeboat backup` of it into a fresh encrypted repository on a local directory and on s3rver
#    (`node tests/peers/node_modules/s3rver/bin/s3rver.js`, its data directory on the same disk).
# 3. Prints MiB/s per run, the medians and the ratio s3 / local.
#
# Environment: DATASET (realistic), SIZE_MIB (default 256), ROUNDS (default 3), CONFIGURATION (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
DATASET="${DATASET:-realistic}"
SIZE_MIB="${SIZE_MIB:-256}"
ROUNDS="${ROUNDS:-3}"
CONFIGURATION="${CONFIGURATION:-Release}"
OUT=bench/results/s3-vs-local
rm -rf "$OUT" && mkdir -p "$OUT/data" "$OUT/s3rver"
OUT="$(cd "$OUT" && pwd)"
BIN="$PWD/src/Lifeboat.Cli/bin/$CONFIGURATION/net10.0/lifeboat"
S3RVER=tests/peers/node_modules/s3rver/bin/s3rver.js
[ -x "$BIN" ] || dotnet build src/Lifeboat.Cli -c "$CONFIGURATION" -v quiet -nologo -clp:ErrorsOnly >&2
[ -f "$S3RVER" ] || npm ci --prefix tests/peers >&2

if [ "$DATASET" = random ]; then
  head -c "$((SIZE_MIB * 1048576))" /dev/urandom > "$OUT/data/random.bin"
else
  GEN=bench/Lifeboat.Benchmarks/bin/Release/net10.0/Lifeboat.Benchmarks
  [ -x "$GEN" ] || dotnet build bench/Lifeboat.Benchmarks -c Release -v quiet -nologo -clp:ErrorsOnly >&2
  "$GEN" gen "$DATASET" "$OUT/data/$DATASET.bin" "$SIZE_MIB"
fi

PORT=$((20000 + RANDOM % 12000))
node "$S3RVER" --directory "$OUT/s3rver" --address 127.0.0.1 --port "$PORT" --configure-bucket bench --silent > "$OUT/s3rver.log" 2>&1 &
S3PID=$!
trap 'kill $S3PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

export LIFEBOAT_PASSPHRASE=bench-passphrase-not-secret AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run KIND ROUND: one full backup into a fresh repository; prints MiB/s
run() {
  local kind="$1" round="$2" dir="$OUT/run-$1-$2" url
  mkdir -p "$dir"
  if [ "$kind" = local ]; then url="file://$dir/repo"; else url="s3://bench/run-$round?endpoint=http://127.0.0.1:$PORT&region=us-east-1&path-style=true"; fi
  "$BIN" --config "$dir/lifeboat.json" repo init --repo "$url" > /dev/null
  "$BIN" --config "$dir/lifeboat.json" source add-files data --path "$OUT/data" > /dev/null
  local start end
  start=$(date +%s.%N)
  "$BIN" --config "$dir/lifeboat.json" backup --source data --type full > "$dir/backup.log"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v m="$SIZE_MIB" 'BEGIN { printf "%.1f\n", m / (e - s) }'
  rm -rf "$dir/repo" "$OUT/s3rver/bench/run-$round"
}

: > "$OUT/local.txt"; : > "$OUT/s3.txt"
for round in $(seq "$ROUNDS"); do
  l=$(run local "$round"); s=$(run s3 "$round")
  echo "$l" >> "$OUT/local.txt"; echo "$s" >> "$OUT/s3.txt"
  echo "round $round: local $l MiB/s, s3rver $s MiB/s (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
L=$(median < "$OUT/local.txt"); S=$(median < "$OUT/s3.txt")
echo "| target | runs (MiB/s) | median MiB/s |"
echo "|---|---|---|"
echo "| local (file://) | $(paste -sd' ' "$OUT/local.txt") | $L |"
echo "| S3 (s3rver, loopback) | $(paste -sd' ' "$OUT/s3.txt") | $S |"
awk -v l="$L" -v s="$S" 'BEGIN { printf "\ns3rver / local = %.0f %%\n", 100 * s / l }'
