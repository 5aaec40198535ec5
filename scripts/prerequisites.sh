# Installs what a fresh machine lacks (it has the .NET SDK, PostgreSQL 15 and Debian's apt).
# Sourced by demo.sh, test.sh and bench scripts.

# ensure_apt PACKAGE... : installs the Debian packages that are not installed yet.
ensure_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: the Debian packages ${missing[*]} are missing and this user cannot install them; run: apt-get install ${missing[*]}" >&2
      return 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    $sudo apt-get update >/dev/null 2>&1
    $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  }
}

# ensure_dotnet : the .NET SDK must be there (it is on a fresh machine).
ensure_dotnet() {
  command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET 10 SDK is not installed (https://dot.net)" >&2; return 1; }
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

# ensure_npm_peers : the npm peers the tests start on loopback (s3rver for S3, Azurite for Azure Blob, standardwebhooks
# for the webhook receiver),
# installed under tests/peers from its package-lock.json. Quiet and quick when they are installed already.
ensure_npm_peers() {
  local dir="${1:-tests/peers}"
  if ! command -v npm >/dev/null 2>&1; then
    echo "warning: npm is missing: the S3, Azure and webhook tests will skip (and fail when CI is set)" >&2
    return 0
  fi
  # npm keeps a copy of the lock file in node_modules after an install: newer than the lock file = up to date.
  if [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  echo "installing test peers (npm ci --prefix $dir)..." >&2
  if [ -f "$dir/package-lock.json" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  else
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  fi
}

# The PostgreSQL 15 server binaries (initdb, pg_ctl, postgres) live outside PATH on Debian.
export LIFEBOAT_PG_BINDIR="${LIFEBOAT_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
