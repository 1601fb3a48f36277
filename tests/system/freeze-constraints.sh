#!/usr/bin/env bash
# Regenerates the pins of constraints.txt's runtime stack from a scratch virtualenv: the newest versions pip
# resolves for pyproject's dependencies, or those you name (e.g. onnxruntime==1.24.4). Prints the new pins;
# paste them into constraints.txt, then prove them with `bash .ci/run` as root (the arm64 and systemd tests).
#   tests/system/freeze-constraints.sh [onnxruntime==X numpy==Y ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
deps=$(python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))')
mapfile -t deps <<<"$deps"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check "${deps[@]}" "$@"
"$tmp/venv/bin/pip" freeze --all | grep -v -i -E '^(pip|setuptools|wheel)=='
