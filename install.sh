#!/usr/bin/env bash
# cielo installer. Two modes:
#
#   ./install.sh --local [--dev] [--venv DIR] [--camera URL] [--latitude N --longitude N]   (the default when not root)
#       A virtualenv in ./.venv (or DIR) with cielo and its model; --dev adds the test tools. No root needed,
#       nothing outside the checkout is touched. Writes ./cielo.local.toml (git-ignored, never overwritten; the
#       config a run in the checkout uses before any other), with --camera/--latitude/--longitude in it.
#       Run it with: .venv/bin/cielo run
#
#   sudo ./install.sh [--camera URL|FOLDER] [--latitude N --longitude N] [--no-start] [--root DIR]   (as root)
#       The appliance (Raspberry Pi OS Bookworm 64-bit, Debian, Ubuntu): OS packages, a `cielo` system user,
#       /opt/cielo/.venv (the runtime pinned by constraints.txt), /etc/cielo/config.toml (0640 root:cielo, with
#       absolute state paths under /var/lib/cielo; never overwritten), /etc/cielo/cielo.env (0600, for
#       secrets), /var/lib/cielo, the systemd unit, and the operator command /usr/local/bin/cielo (the CLI as
#       user cielo with the installed config); then enables and starts the service.
#       --camera URL sets [skycam] base_url; --camera FOLDER (allsky's ~/allsky/images, indi-allsky's
#       /var/www/html/allsky/images) sets [skycam] folder and the layout found there. --latitude/--longitude
#       set [device] (also in an existing config).
#       Without --camera a new install watches the seed's public camera (Rio Grande), politely.
#       --root DIR installs into DIR as if it were / (no user, no OS packages, no systemctl): for tests and
#       images. Idempotent: a second run changes nothing but the package.
#   sudo ./install.sh --uninstall     removes the service, /opt/cielo and the operator command; keeps config, data
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
camera=""
latitude=""
longitude=""
while [ $# -gt 0 ]; do
  case "$1" in
    --local) mode=local ;;
    --dev) mode=local; extras="[test]" ;;
    --venv) [ $# -ge 2 ] || die "--venv needs a directory" 2; venv="$2"; shift ;;
    --root) [ $# -ge 2 ] || die "--root needs a directory" 2; root="${2%/}"; shift ;;
    --no-start) start=0 ;;
    --camera) [ $# -ge 2 ] || die "--camera needs a URL" 2; camera="${2%/}"; shift ;;
    --latitude) [ $# -ge 2 ] || die "--latitude needs a number" 2; latitude="$2"; shift ;;
    --longitude) [ $# -ge 2 ] || die "--longitude needs a number" 2; longitude="$2"; shift ;;
    --uninstall) mode=uninstall ;;
    --purge) mode=purge ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" 2 ;;
  esac
  shift
done
if [ -z "$mode" ]; then  # root (or --root) means the appliance; anyone else gets the local venv
  if [ "$(id -u)" = 0 ] || [ -n "$root" ]; then mode=system; else mode=local; fi
fi

case "$camera" in
  ""|http://?*|https://?*|/?*) ;;
  *) die "--camera wants the camera's image URL (http:// or https://) or the absolute path of the folder a camera program writes (got: $camera)" 2 ;;
esac
for v in "$latitude" "$longitude"; do
  [ -z "$v" ] || [[ "$v" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || die "--latitude/--longitude want decimal degrees (got: $v)" 2
done
{ [ -z "$latitude" ] || awk "BEGIN{exit !($latitude >= -90 && $latitude <= 90)}"; } \
  || die "--latitude must be within -90..90 (got: $latitude)" 2
{ [ -z "$longitude" ] || awk "BEGIN{exit !($longitude >= -180 && $longitude <= 180)}"; } \
  || die "--longitude must be within -180..180 (got: $longitude)" 2

python=${PYTHON:-python3}
check_platform() {
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || die "cielo needs Python 3.11 or newer; $python is $("$python" -V 2>&1)"
  # The Python's own word size and machine, not `uname -m`: a 32-bit userland (armhf Raspberry Pi OS) on a
  # 64-bit kernel says aarch64 there, and its Python can still only load 32-bit wheels.
  local bits machine
  read -r bits machine < <("$python" -c 'import platform, struct; print(struct.calcsize("P") * 8, platform.machine())')
  if [ "$bits" != 64 ]; then
    die "this is a $bits-bit userland (Python on $machine): onnxruntime publishes no 32-bit wheel. Install the 64-bit Raspberry Pi OS (Bookworm) and run this again."
  fi
  case "$machine" in
    x86_64|amd64|aarch64|arm64) ;;
    *) die "$machine is not supported (cielo needs onnxruntime: x86_64 or aarch64)" ;;
  esac
}

make_venv() {  # $1: venv dir; the rest: what pip installs
  local dir="$1"
  shift
  if [ ! -x "$dir/bin/python" ]; then
    "$python" -m venv "$dir" || die "cannot create a virtualenv in $dir (on Debian: apt-get install python3-venv)"
  fi
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  # constraints.txt pins the runtime stack to versions proven on x86-64 and on ARMv8.0 (docs/appliance.md).
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -c "$src/constraints.txt" "$@"
}

set_key() {  # $1 config file, $2 section, $3 key, $4 value as TOML, $5 "always" or "absent" (only when not set)
  "$python" - "$@" <<'PY'
import re, sys, tomllib
path, section, key, value, when = sys.argv[1:6]
text = open(path, encoding="utf-8").read()
table = tomllib.loads(text)
for part in section.split("."):
    table = table.get(part, {})
if (when == "absent" and key in table) or table.get(key) == tomllib.loads(f"v = {value}")["v"]:
    sys.exit(3)  # nothing to change
lines = text.splitlines(keepends=True)
if lines and not lines[-1].endswith("\n"):
    lines[-1] += "\n"
line = f"{key} = {value}\n"
head = re.compile(r"\s*\[\s*" + re.escape(section) + r"\s*\]\s*(#.*)?$")
start = next((i for i, x in enumerate(lines) if head.match(x)), None)
if start is None:
    lines += ["\n", f"[{section}]\n", line]
else:
    end = next((j for j in range(start + 1, len(lines)) if re.match(r"\s*\[", lines[j])), len(lines))
    setting = next((j for j in range(start + 1, end) if re.match(r"\s*" + re.escape(key) + r"\s*=", lines[j])), None)
    default = next((j for j in range(start + 1, end) if re.match(r"\s*#\s*" + re.escape(key) + r"\s*=", lines[j])), None)
    if setting is not None:
        lines[setting] = line
    else:  # under the commented default, or at the end of the section
        at = default + 1 if default is not None else end
        while default is None and at > start + 1 and not lines[at - 1].strip():
            at -= 1
        lines.insert(at, line)
out = "".join(lines)
tomllib.loads(out)
with open(path, "w", encoding="utf-8") as f:  # in place: keeps the file's owner and mode
    f.write(out)
PY
}
unset_key() {  # $1 config file, $2 section, $3... keys: removed where set (another way to find frames)
  "$python" - "$@" <<'PY'
import re, sys, tomllib
path, section, *keys = sys.argv[1:]
lines = open(path, encoding="utf-8").read().splitlines(keepends=True)
head = re.compile(r"\s*\[\s*" + re.escape(section) + r"\s*\]\s*(#.*)?$")
start = next((i for i, x in enumerate(lines) if head.match(x)), None)
if start is not None:
    end = next((j for j in range(start + 1, len(lines)) if re.match(r"\s*\[", lines[j])), len(lines))
    gone = [j for j in range(start + 1, end) if any(re.match(r"\s*" + re.escape(k) + r"\s*=", lines[j]) for k in keys)]
    for j in reversed(gone):
        print(f"install.sh: removed [{section}] {lines[j].split('=')[0].strip()} from {path}")
        del lines[j]
    out = "".join(lines)
    tomllib.loads(out)
    with open(path, "w", encoding="utf-8") as f:
        f.write(out)
PY
}
camera_layout() {  # what a camera program's image folder holds: indi-allsky's ccd_<uuid> folders, or allsky's days
  if compgen -G "$1/ccd_*" >/dev/null || [ -d "$1/exposures" ] || [ "$(basename "$1")" = exposures ]; then
    echo indi-allsky
  else
    echo allsky
  fi
}
config_set() {  # like set_key; says what it changed, dies on a config it cannot read
  local rc=0
  set_key "$@" || rc=$?
  case $rc in
    0) say "set [$2] $3 = $(printf '%s' "$4" | sed -E 's#://[^/@]*@#://***@#') in ${1#"$root"}" ;;  # no login shown
    3) ;;
    *) die "could not set [$2] $3 in $1 (is it valid TOML?)" ;;
  esac
}
toml_str() { "$python" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }

if [ "$mode" = local ]; then
  check_platform
  make_venv "$venv" -e ".${extras}"
  # The checkout's own run gets its own config, which git ignores: config.toml stays the pristine template,
  # and an edit for this machine never travels into a commit or into /etc/cielo/config.toml.
  local_cfg=cielo.local.toml
  if [ ! -e "$local_cfg" ]; then
    install -m 0600 config.toml "$local_cfg"  # 0600: it may come to hold a camera's login
    say "wrote $local_cfg (this checkout's config, git-ignored)"
    [ -n "$camera" ] || say "no --camera: a run watches the seed's public camera (Rio Grande) and fills only its last day; yours: ./install.sh --local --camera URL"
  fi
  [ -z "$camera" ] || config_set "$local_cfg" skycam base_url "$(toml_str "$camera")" always
  [ -z "$latitude" ] || config_set "$local_cfg" device latitude "$latitude" always
  [ -z "$longitude" ] || config_set "$local_cfg" device longitude "$longitude" always
  say "cielo $("$venv/bin/cielo" --version | cut -d' ' -f2) is in $venv (run: $venv/bin/cielo run)"
  exit 0
fi

[ "$(id -u)" = 0 ] || [ -n "$root" ] || die "--uninstall and --purge need root: sudo ./install.sh $*"
opt="$root/opt/cielo"
etc="$root/etc/cielo"
var="$root/var/lib/cielo"
unit="$root/etc/systemd/system/cielo.service"
bin="$root/usr/local/bin/cielo"
have_systemd() { [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

if [ "$mode" = uninstall ] || [ "$mode" = purge ]; then
  if have_systemd; then systemctl disable --now cielo.service 2>/dev/null || true; fi
  rm -f "$unit"
  if have_systemd; then systemctl daemon-reload; fi
  rm -rf "$opt"
  if [ -f "$bin" ] && grep -q 'cielo operator command' "$bin"; then rm -f "$bin"; fi
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
fresh=0
if [ ! -e "$etc/config.toml" ]; then
  install -m 0640 -g "$group" config.toml "$etc/config.toml"
  say "wrote $etc/config.toml"
  fresh=1
fi
# Absolute state paths, so that the CLI acts on the daemon's files from any directory. For a config that an
# older install wrote without them these are the files the service already used (WorkingDirectory=/var/lib/cielo).
config_set "$etc/config.toml" storage database '"/var/lib/cielo/cielo.db"' absent
# The camera's images are [skycam]'s; a config that still has [storage] images_dir (an older install) keeps it.
"$python" -c 'import sys, tomllib; sys.exit("images_dir" in tomllib.load(open(sys.argv[1], "rb")).get("storage", {}))' \
  "$etc/config.toml" && config_set "$etc/config.toml" skycam images_dir '"/var/lib/cielo/images"' absent
config_set "$etc/config.toml" skycam calibration '"/var/lib/cielo/calibration.json"' absent
case "$camera" in
  "") ;;
  /*)  # a folder on this board: read where it is, never copied
    [ -d "$root$camera" ] || [ -d "$camera" ] || say "warning: $camera does not exist (yet); cielo doctor will say when it does"
    unset_key "$etc/config.toml" skycam url_template latest_url pattern
    config_set "$etc/config.toml" skycam folder "$(toml_str "$camera")" always
    config_set "$etc/config.toml" skycam layout "\"$(camera_layout "$camera")\"" always
    say "the service (user cielo) needs read access to $camera: cielo doctor checks it" ;;
  *)
    unset_key "$etc/config.toml" skycam url_template latest_url folder layout pattern
    config_set "$etc/config.toml" skycam base_url "$(toml_str "$camera")" always ;;
esac
[ -z "$latitude" ] || config_set "$etc/config.toml" device latitude "$latitude" always
[ -z "$longitude" ] || config_set "$etc/config.toml" device longitude "$longitude" always
if [ "$fresh" = 1 ] && [ -z "$camera" ]; then
  say "no --camera: cielo watches the seed's public camera (Rio Grande, Tierra del Fuego) and fills only its last day, politely; yours: sudo ./install.sh --camera URL --latitude N --longitude N"
fi
if [ ! -e "$etc/cielo.env" ]; then
  install -m 0600 /dev/null "$etc/cielo.env"
  printf '# Secrets for cielo (systemd EnvironmentFile):\n# CIELO_MQTT_PASSWORD=\n# CIELO_AEMET_API_KEY=\n# CIELO_OPENWEATHER_API_KEY=\n# CIELO_SKYCAM_PASSWORD=\n' > "$etc/cielo.env"
  say "wrote $etc/cielo.env"
fi
if ! cmp -s systemd/cielo.service "$unit"; then
  install -m 0644 systemd/cielo.service "$unit"
  say "installed $unit"
fi

install -d -m 0755 "$root/usr/local/bin"
if ! cmp -s systemd/cielo "$bin"; then
  install -m 0755 systemd/cielo "$bin"
  say "installed $bin (the CLI as user cielo with /etc/cielo/config.toml: cielo status, sudo cielo doctor)"
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
