#!/usr/bin/env bash
# Publishes the `lifeboat` program as one Native AOT executable (no .NET runtime needed where it runs).
#
#   scripts/publish.sh [OUTPUT_DIR]        # default: dist/ (git-ignored); about 5–6 minutes on 2 idle cores
#
# Why: PostgreSQL runs archive_command once per 16 MiB WAL segment and restore_command once per segment replayed.
# Started as `dotnet lifeboat.dll`, each run pays .NET start-up and JIT compilation (about 0.1–0.2 s of CPU); the
# native executable starts in a few milliseconds (docs/performance.md, "WAL archiving"). Install the result where
# PostgreSQL's OS user can run it, e.g. /usr/local/bin/lifeboat; `lifeboat archiving setup` writes the path of the
# program it is run as into archive_command (or set LIFEBOAT_SELF to choose another).
#
# The executable works copied alone (scripts/install.sh puts it in /usr/local/bin): SQLite is linked into it from
# Debian's static libsqlite3.a (libsqlite3-dev), so no libe_sqlite3.so sits beside it. At run time it needs glibc and
# the system's libzstd.so.1 (Debian: libzstd1, which dpkg itself depends on), as the JIT build does.
#
# Needs the .NET SDK, a C toolchain for the native link and the static libraries (Debian: gcc, zlib1g-dev,
# libsqlite3-dev; installed when missing).
#
# Time: the Native AOT compiler (ILC) compiles everything the program can reach — ASP.NET Core (the server), the AWS,
# Azure and SSH.NET SDKs, Npgsql — into one executable; that is most of the time, and it does not get much faster
# with options (docs/operations/install.md, "Publishing time"). The managed build before it is a full Release build with the AOT
# analysers, separate from `dotnet build`'s.
# Trimming and AOT warnings are shown one by one (TrimmerSingleWarn=false) and fail the publish, as warnings do in
# every build of this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
ensure_dotnet
ensure_apt gcc zlib1g-dev libzstd1 libsqlite3-dev

out="${1:-dist}"
rid="linux-$(case "$(uname -m)" in x86_64) echo x64 ;; aarch64) echo arm64 ;; *) uname -m ;; esac)"
echo "publishing lifeboat (Native AOT, $rid) to $out/ ..." >&2
dotnet publish src/Lifeboat.Cli/Lifeboat.Cli.csproj -c Release -r "$rid" -nologo -v minimal \
  -p:PublishAot=true -p:TrimmerSingleWarn=false -o "$out" >&2
# Only the executable is needed at run time; the .dbg file holds its symbols (for perf and debuggers).
rm -f "$out"/*.pdb "$out"/*.xml "$out"/*.so
"$out/lifeboat" --version >/dev/null
echo "$out/lifeboat" 
