#!/usr/bin/env bash
# Re-backup of an unchanged file tree: N small files (default 100000) in nested directories, backed up once, then
# again unchanged (REPEAT times; median and spread), side by side with restic when it is installed (or installable).
# Usage: bench/files-tree.sh [FILES] ; REPEAT=5 by default. Writes bench/results/files-tree-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-100000}
REPEAT=${REPEAT:-5}
ROOT=$(mktemp -d /var/tmp/lifeboat-files-bench.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT

if ! command -v restic >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq restic >/dev/null 2>&1 || true
fi

dotnet build src/Lifeboat.Cli -c Release -v q -nologo >/dev/null
LIFEBOAT=(dotnet "$PWD/src/Lifeboat.Cli/bin/Release/net10.0/lifeboat.dll")

echo "making $FILES files in $ROOT/tree"
python3 - "$ROOT/tree" "$FILES" <<'EOF'
import os, sys, random
root, n = sys.argv[1], int(sys.argv[2])
random.seed(7)
for i in range(n):
    d = os.path.join(root, f"d{i // 1000:03d}", f"e{(i // 100) % 10}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:06d}.txt"), "wb") as f:
        f.write(random.randbytes(random.randint(100, 4000)))
EOF

export LIFEBOAT_PASSPHRASE=bench-passphrase-not-secret
CONFIG="$ROOT/lifeboat.json"
"${LIFEBOAT[@]}" --config "$CONFIG" repo init --repo "file://$ROOT/repo" >/dev/null
"${LIFEBOAT[@]}" --config "$CONFIG" source add-files tree --path "$ROOT/tree" >/dev/null

seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
spread() { sort -n | awk 'NR==1{min=$1} {max=$1} END {printf "%.2f–%.2f", min, max}'; }

first=$(seconds "${LIFEBOAT[@]}" --config "$CONFIG" backup --source tree)
lb=()
for _ in $(seq "$REPEAT"); do lb+=("$(seconds "${LIFEBOAT[@]}" --config "$CONFIG" backup --source tree)"); done

rs=()
rfirst=""
if command -v restic >/dev/null 2>&1; then
  export RESTIC_PASSWORD=bench-passphrase-not-secret RESTIC_REPOSITORY="$ROOT/restic"
  restic init -q >/dev/null
  rfirst=$(seconds restic backup -q "$ROOT/tree")
  for _ in $(seq "$REPEAT"); do rs+=("$(seconds restic backup -q "$ROOT/tree")"); done
fi

mkdir -p bench/results
out="bench/results/files-tree-$(date -u +%Y%m%d-%H%M%S).md"
{
  echo "# Unchanged file tree re-backup ($FILES files, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores)"
  echo
  echo "| tool | first backup (s) | unchanged re-backup, median of $REPEAT (s) | spread (s) |"
  echo "|---|---|---|---|"
  printf '| lifeboat | %.2f | %.2f | %s |\n' "$first" "$(printf '%s\n' "${lb[@]}" | median)" "$(printf '%s\n' "${lb[@]}" | spread)"
  if [ ${#rs[@]} -gt 0 ]; then
    printf '| restic %s | %.2f | %.2f | %s |\n' "$(restic version | awk '{print $2}')" "$rfirst" "$(printf '%s\n' "${rs[@]}" | median)" "$(printf '%s\n' "${rs[@]}" | spread)"
  fi
} | tee "$out"
