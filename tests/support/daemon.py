"""The real daemon (`cielo run`) in a child process, for tests that watch it through a real broker."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_env
from tests.support.broker import MOSQUITTO

DEV = "pi-01"
BASE = f"cielo/{DEV}"

needs_mosquitto = pytest.mark.skipif(not (shutil.which("mosquitto") or os.path.exists(MOSQUITTO)),
                                     reason="mosquitto is not installed (bash .ci/run installs it)")


def start_daemon(cfg: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=clean_env())


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=45)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"the daemon did not stop within 45 s:\n{out}") from None
    return out
