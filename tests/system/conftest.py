"""The real-system tests: cielo installed with install.sh on a Debian 12 booted with systemd as PID 1
(systemd-nspawn), and on 64-bit ARM (an arm64 Debian 12 under qemu-user). They need root and take minutes, so
the README's test command leaves them out; `.ci/run` runs them as its own step:

    CIELO_SYSTEM_TESTS=1 .venv/bin/python -m pytest -q -n 0 tests/system

Root filesystems are cached in $CIELO_ROOTFS_CACHE (default /var/cache/cielo-ci; tests/system/rootfs.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ENABLED = os.environ.get("CIELO_SYSTEM_TESTS") == "1"

SLOW = ["test_systemd.py", "test_arm64.py"]
if not ENABLED:  # the main suite: not collected at all (they are slow and need root); test_rootfs.py is quick
    collect_ignore = SLOW

TIMINGS: dict[str, float] = {}

# Debian packages each tool comes from; installed on demand when running as root (CI is a fresh machine).
PACKAGES = {"debootstrap": "debootstrap", "systemd-nspawn": "systemd-container", "nsenter": "util-linux",
            "qemu-aarch64-static": "qemu-user-static", "update-binfmts": "binfmt-support",
            "mosquitto": "mosquitto"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == HERE and Path(str(item.fspath)).name in SLOW:
            item.add_marker(pytest.mark.system)


def need(*tools: str) -> None:
    """Skips (with the reason) unless root and every tool is there or can be installed now."""
    if os.geteuid() != 0:
        pytest.skip("the system tests need root (debootstrap, systemd-nspawn, mounts)")
    missing = [t for t in tools if not (shutil.which(t) or Path("/usr/sbin", t).exists())]
    if missing and shutil.which("apt-get"):
        pkgs = sorted({PACKAGES[t] for t in missing})
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *pkgs], capture_output=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        missing = [t for t in tools if not (shutil.which(t) or Path("/usr/sbin", t).exists())]
    if missing:
        pytest.skip(f"cannot install {', '.join(missing)} (Debian packages {', '.join(PACKAGES[t] for t in missing)})")


def rootfs(arch: str) -> Path:
    """The cached Debian 12 root of `arch`, built by rootfs.sh when missing or stale (a few minutes)."""
    result = subprocess.run(["bash", str(HERE / "rootfs.sh"), arch], capture_output=True, text=True, timeout=1800)
    if result.returncode == 3:
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("system test timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")
