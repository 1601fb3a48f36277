#!/usr/bin/env bash
# Installs cielo into a virtualenv and writes a starter config (never overwriting one).
#   ./install.sh            venv in ./.venv, the package and its model; as root also /etc/cielo/config.toml
#   ./install.sh --dev      the same plus what the tests need (pytest, ruff, onnx)
#   ./install.sh --venv DIR another place for the virtualenv
# Idempotent: running it again only updates the package.
set -euo pipefail
cd "$(dirname "$0")"

venv=".venv"
extras=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) extras="[test]" ;;
    --venv) venv="$2"; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "install.sh: cielo needs Python 3.11 or newer ($python is $("$python" -V 2>&1))" >&2
  exit 1
fi
case "$(uname -m)" in
  x86_64|aarch64|arm64) ;;
  *) echo "install.sh: $(uname -m) is not supported: onnxruntime has no wheel for it; use a 64-bit OS" >&2; exit 1 ;;
esac

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".${extras}"

if [ "$(id -u)" = 0 ]; then
  install -d -m 0755 /etc/cielo
  if [ ! -e /etc/cielo/config.toml ]; then
    install -m 0644 config.toml /etc/cielo/config.toml
    echo "wrote /etc/cielo/config.toml"
  fi
fi
echo "cielo installed: $("$venv/bin/cielo" --version) in $venv (run: $venv/bin/cielo run)"
