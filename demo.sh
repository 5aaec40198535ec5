#!/usr/bin/env bash
# README command one: install what is missing, build, and run the main job on an embedded default.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh
ensure_dotnet
ensure_apt libzstd1 zstd
echo "building Lifeboat (Release)..." >&2
dotnet build src/Lifeboat.Cli/Lifeboat.Cli.csproj -c Release -v quiet -nologo -clp:ErrorsOnly >&2
exec dotnet src/Lifeboat.Cli/bin/Release/net10.0/lifeboat.dll demo "$@"
