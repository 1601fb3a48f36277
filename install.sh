#!/usr/bin/env bash
# cielo installer. Two modes:
#
#   ./install.sh --local [--dev] [--venv DIR]       (the default when not root)
#       A virtualenv in ./.venv (or DIR) with cielo and its model; --dev adds the test tools. No root needed,
#       nothing outside the checkout is touched. Run it with: .venv/bin/cielo run
#
#   sudo ./install.sh [--no-start] [--root DIR]      (the default as root)
#       The appliance (Raspberry Pi OS Bookworm 64-bit, Debian, Ubuntu): OS packages, a `cielo` system user,
#       /opt/cielo/.venv, /etc/cielo/config.toml (0640 root:cielo, never overwritten), /etc/cielo/cielo.env
#       (0600, for secrets), /var/lib/cielo, the systemd unit; then enables and starts the service.
#       --root DIR installs into DIR as if it were / (no user, no OS packages, no systemctl): for tests and
#       images. Idempotent: a second run changes nothing but the package.
#   sudo ./install.sh --uninstall     removes the service and /opt/cielo, keeps config and data
#   sudo ./install.sh --purge         removes config and data too
set -euo pipefail
cd "$(dirname "$0")"
src=$(pwd)

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit "${2:-1}"; }

mode=""
extras=""
venv=".venv"
root=""
start=1
while [ $# -gt 0 ]; do
  case "$1" in
    --local) mode=local ;;
    --dev) mode=local; extras="[test]" ;;
    --venv) [ $# -ge 2 ] || die "--venv needs a directory" 2; venv="$2"; shift ;;
    --root) [ $# -ge 2 ] || die "--root needs a directory" 2; root="${2%/}"; shift ;;
    --no-start) start=0 ;;
    --uninstall) mode=uninstall ;;
    --purge) mode=purge ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" 2 ;;
  esac
  shift
done
if [ -z "$mode" ]; then  # root (or --root) means the appliance; anyone else gets the local venv
  if [ "$(id -u)" = 0 ] || [ -n "$root" ]; then mode=system; else mode=local; fi
fi

python=${PYTHON:-python3}
check_platform() {
  case "$(uname -m)" in
    x86_64|aarch64|arm64) ;;
    armv6l|armv7l|armhf|i386|i686)
      die "$(uname -m) is a 32-bit platform: onnxruntime publishes no wheel for it. Install the 64-bit Raspberry Pi OS (Bookworm) and run this again." ;;
    *) die "$(uname -m) is not supported (cielo needs onnxruntime: x86_64 or aarch64)" ;;
  esac
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || die "cielo needs Python 3.11 or newer; $python is $("$python" -V 2>&1)"
}

make_venv() {  # $1: venv dir; the rest: what pip installs
  local dir="$1"
  shift
  if [ ! -x "$dir/bin/python" ]; then
    "$python" -m venv "$dir" || die "cannot create a virtualenv in $dir (on Debian: apt-get install python3-venv)"
  fi
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}

if [ "$mode" = local ]; then
  check_platform
  make_venv "$venv" -e ".${extras}"
  say "cielo $("$venv/bin/cielo" --version | cut -d' ' -f2) is in $venv (run: $venv/bin/cielo run)"
  exit 0
fi

[ "$(id -u)" = 0 ] || [ -n "$root" ] || die "--uninstall and --purge need root: sudo ./install.sh $*"
opt="$root/opt/cielo"
etc="$root/etc/cielo"
var="$root/var/lib/cielo"
unit="$root/etc/systemd/system/cielo.service"
have_systemd() { [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

if [ "$mode" = uninstall ] || [ "$mode" = purge ]; then
  if have_systemd; then systemctl disable --now cielo.service 2>/dev/null || true; fi
  rm -f "$unit"
  if have_systemd; then systemctl daemon-reload; fi
  rm -rf "$opt"
  if [ "$mode" = purge ]; then
    rm -rf "$etc" "$var"
    if [ -z "$root" ] && id cielo >/dev/null 2>&1; then userdel cielo 2>/dev/null || true; fi
    say "removed cielo, its configuration and its data"
  else
    say "removed the service and $opt; kept $etc and $var (--purge removes them)"
  fi
  exit 0
fi

check_platform
if [ -z "$root" ]; then
  if ! "$python" -c 'import venv, ensurepip' 2>/dev/null && command -v apt-get >/dev/null; then
    say "installing python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  if ! id cielo >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/cielo --no-create-home --shell /usr/sbin/nologin cielo
    say "created the system user cielo"
  fi
fi
group=$( [ -z "$root" ] && echo cielo || id -gn )

install -d -m 0755 "$opt" "$root/etc/systemd/system"
install -d -m 0750 "$etc" "$var"
if [ -z "$root" ]; then
  chown root:cielo "$etc"
  chown cielo:cielo "$var"
fi
make_venv "$opt/.venv" "$src"
install -m 0644 README.md "$opt/README.md"
if [ ! -e "$etc/config.toml" ]; then
  install -m 0640 -g "$group" config.toml "$etc/config.toml"
  say "wrote $etc/config.toml"
fi
if [ ! -e "$etc/cielo.env" ]; then
  install -m 0600 /dev/null "$etc/cielo.env"
  printf '# Secrets for cielo (systemd EnvironmentFile):\n# CIELO_MQTT_PASSWORD=\n# CIELO_AEMET_API_KEY=\n# CIELO_OPENWEATHER_API_KEY=\n' > "$etc/cielo.env"
  say "wrote $etc/cielo.env"
fi
if ! cmp -s systemd/cielo.service "$unit"; then
  install -m 0644 systemd/cielo.service "$unit"
  say "installed $unit"
fi

if have_systemd; then
  systemctl daemon-reload
  systemctl enable cielo.service >/dev/null
  if [ "$start" = 1 ]; then
    systemctl restart cielo.service
    say "cielo is running: systemctl status cielo; journalctl -u cielo -f"
  else
    say "cielo is enabled, not started (--no-start): systemctl start cielo"
  fi
else
  say "installed in ${root:-/}; systemd is not running here, so the service was not enabled or started"
fi
