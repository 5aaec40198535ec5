#!/usr/bin/env bash
# README command two: install what is missing, build, and run every test.
# Real peers are started by the tests themselves; a missing peer skips locally and fails when CI is set.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh
ensure_dotnet
ensure_apt libzstd1 zstd time openssh-server
ensure_npm_peers tests/peers

echo "building (Release)..." >&2
dotnet build Lifeboat.slnx -c Release -v quiet -nologo -clp:ErrorsOnly

echo "running tests..." >&2
set +e
dotnet test Lifeboat.slnx -c Release --no-build -nologo \
  --logger "console;verbosity=normal" \
  --blame-hang-timeout 10m \
  -- RunConfiguration.TestSessionTimeout=3000000
status=$?
set -e
if [ $status -ne 0 ]; then
  echo "TESTS FAILED (exit $status)" >&2
fi
exit $status
