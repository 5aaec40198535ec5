#!/usr/bin/env bash
# Installs Lifeboat on this host (Debian/Ubuntu), as root:
#
#   scripts/install.sh [--binary FILE] [--user postgres] [--enable]
#
#   - /usr/local/bin/lifeboat      the Native AOT executable (built with scripts/publish.sh when --binary is not given
#                                  and dist/lifeboat is missing); it needs nothing beside it (SQLite is linked in) but
#                                  glibc and libzstd1
#   - /etc/lifeboat/               owned by the PostgreSQL OS user, mode 0700: the configuration and key files Lifeboat
#                                  writes there (even as root) belong to that user, who runs archive_command and
#                                  restore_command and must read them; nobody else can
#   - /etc/systemd/system/lifeboat.service
#                                  `lifeboat serve` (schedules, REST API on 127.0.0.1:8080) as that user; not enabled
#                                  unless --enable (then `systemctl enable --now lifeboat`)
#
# DESTDIR=DIR installs below DIR instead of / (packaging, tests) and never calls systemctl; neither does a host that
# was not booted with systemd. Running it again upgrades the executable and rewrites the unit; /etc/lifeboat and what
# it holds are kept (its owner and mode are put right).
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
user="postgres"
enable=false
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    --enable) enable=true; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

root="${DESTDIR:-}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (it installs into /usr/local/bin and /etc and sets owners)" >&2
  exit 2
fi
if ! id -u "$user" >/dev/null 2>&1; then
  echo "install.sh: there is no OS user '$user': install PostgreSQL first (Debian: apt-get install postgresql), or name the user that runs it with --user" >&2
  exit 2
fi
group="$(id -gn "$user")"

if [ -z "$binary" ]; then
  binary="dist/lifeboat"
  [ -x "$binary" ] || scripts/publish.sh dist >/dev/null
fi
if [ ! -f "$binary" ]; then
  echo "install.sh: $binary does not exist (build it with scripts/publish.sh)" >&2
  exit 2
fi

install -d -m 0755 "$root/usr/local/bin"
install -m 0755 -o root -g root "$binary" "$root/usr/local/bin/lifeboat.new"
mv -f "$root/usr/local/bin/lifeboat.new" "$root/usr/local/bin/lifeboat"

install -d -m 0755 "$root/etc"
install -d -m 0700 -o "$user" -g "$group" "$root/etc/lifeboat"
chown "$user:$group" "$root/etc/lifeboat"
chmod 0700 "$root/etc/lifeboat"

install -d -m 0755 "$root/etc/systemd/system"
cat > "$root/etc/systemd/system/lifeboat.service.new" <<EOF
# Installed by Lifeboat's scripts/install.sh; rewritten when it runs again.
[Unit]
Description=Lifeboat: scheduled backups, drills and the REST API (lifeboat serve)
After=network-online.target postgresql.service
Wants=network-online.target

[Service]
Type=exec
User=$user
Group=$group
Environment=LIFEBOAT_CONFIG=/etc/lifeboat/lifeboat.json
ExecStart=/usr/local/bin/lifeboat serve
# SIGTERM stops it cleanly: running jobs are cancelled, a drill stops its scratch server and removes its directory.
KillSignal=SIGTERM
TimeoutStopSec=120
Restart=on-failure
RestartSec=10
NoNewPrivileges=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
EOF
chmod 0644 "$root/etc/systemd/system/lifeboat.service.new"
mv -f "$root/etc/systemd/system/lifeboat.service.new" "$root/etc/systemd/system/lifeboat.service"

echo "installed $root/usr/local/bin/lifeboat ($("$root/usr/local/bin/lifeboat" --version 2>/dev/null || echo "version unknown"))"
echo "configuration directory $root/etc/lifeboat (owner $user, mode 0700)"
echo "systemd unit $root/etc/systemd/system/lifeboat.service (lifeboat serve as $user)"

if [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  if $enable; then
    systemctl enable --now lifeboat.service
    echo "lifeboat.service is enabled and started"
  else
    echo "start it with: systemctl enable --now lifeboat"
  fi
elif $enable; then
  echo "install.sh: --enable needs systemd running on this host (and no DESTDIR); the unit is installed, not enabled" >&2
fi

cat <<EOF
next, as root or $user (files Lifeboat writes in /etc/lifeboat belong to $user):
  export LIFEBOAT_CONFIG=/etc/lifeboat/lifeboat.json
  install -d -o $user -g $group -m 0700 /var/backups/lifeboat     # archive_command writes here as $user
  lifeboat repo init --repo file:///var/backups/lifeboat --key-file /etc/lifeboat/repo.key
  lifeboat source add-cluster app-db --pgdata /var/lib/postgresql/15/main --conn "host=/var/run/postgresql user=postgres"
  lifeboat archiving setup --source app-db --apply
  lifeboat check        # also runs the archive path as $user
EOF
