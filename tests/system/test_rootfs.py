"""The root filesystem cache of the system tests (rootfs.sh), with a stand-in debootstrap: quick, no root, so
it runs in the main suite. A complete root is reused; a half-built, unstamped or older-recipe one is rebuilt;
a failed build leaves the old cache (or nothing) in place and no temporary directory behind."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent



def amd64_debian() -> bool:
    if not (shutil.which("flock") and shutil.which("dpkg")):
        return False
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip() == "amd64"


pytestmark = pytest.mark.skipif(not amd64_debian(), reason="needs flock and an amd64 Debian host (dpkg)")

FAKE = """#!/bin/sh
# debootstrap stand-in: debootstrap [options] SUITE TARGET MIRROR
target=$(eval echo \\${$(($# - 1))})
echo run >> "$CALLS"
[ -n "$FAIL" ] && { mkdir -p "$target/usr"; echo "E: boom" >&2; exit 1; }
mkdir -p "$target/usr/bin" && : > "$target/usr/bin/python3" && chmod +x "$target/usr/bin/python3"
"""


def run(cache: Path, tmp: Path, fail: bool = False) -> subprocess.CompletedProcess[str]:
    bin_ = tmp / "bin"
    bin_.mkdir(exist_ok=True)
    (bin_ / "debootstrap").write_text(FAKE)
    (bin_ / "debootstrap").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}", "CIELO_ROOTFS_CACHE": str(cache),
           "CALLS": str(tmp / "calls"), "FAIL": "1" if fail else ""}
    return subprocess.run(["bash", str(HERE / "rootfs.sh"), "amd64"], capture_output=True, text=True, env=env,
                          timeout=60)


def calls(tmp: Path) -> int:
    f = tmp / "calls"
    return len(f.read_text().splitlines()) if f.exists() else 0


def test_built_once_then_reused_and_rebuilt_when_stale_or_broken(tmp_path: Path):
    cache = tmp_path / "cache"
    first = run(cache, tmp_path)
    assert first.returncode == 0, first.stderr
    dest = cache / "bookworm-amd64"
    assert first.stdout.strip() == str(dest) and (dest / ".cielo-rootfs").exists() and calls(tmp_path) == 1
    assert run(cache, tmp_path).stdout.strip() == str(dest) and calls(tmp_path) == 1  # cached
    # An older recipe's stamp, or none (a copy interrupted half-way), is rebuilt.
    (dest / ".cielo-rootfs").write_text("cielo-rootfs v0\n")
    assert run(cache, tmp_path).returncode == 0 and calls(tmp_path) == 2
    (dest / ".cielo-rootfs").unlink()
    assert run(cache, tmp_path).returncode == 0 and calls(tmp_path) == 3
    assert (dest / ".cielo-rootfs").exists()
    # A failed build: an error naming the log, the complete cache untouched, no temporary left behind.
    (dest / ".cielo-rootfs").write_text("cielo-rootfs v0\n")
    failed = run(cache, tmp_path, fail=True)
    assert failed.returncode == 1 and "E: boom" in failed.stderr and "debootstrap-amd64.log" in failed.stderr
    assert (dest / "usr/bin/python3").exists()
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == ["bookworm-amd64"]


def test_a_failed_first_build_leaves_nothing(tmp_path: Path):
    cache = tmp_path / "cache"
    assert run(cache, tmp_path, fail=True).returncode == 1
    assert not (cache / "bookworm-amd64").exists()
    assert [p.name for p in cache.iterdir() if p.is_dir()] == []
