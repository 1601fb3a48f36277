"""Helpers of the field tests (issue 13): a real Mosquitto, the daemon as a subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_env
from tests.support.broker import MOSQUITTO, Broker

DEV = "pi-01"
BASE = f"cielo/{DEV}"

needs_mosquitto = pytest.mark.skipif(not (shutil.which("mosquitto") or os.path.exists(MOSQUITTO)),
                                     reason="mosquitto is not installed (bash .ci/run installs it)")


@pytest.fixture
def broker(tmp_path: Path):
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture
def mqtt_config(config, broker: Broker):
    def make(**sections):
        mqtt = {"enabled": True, "port": broker.port, "host": "127.0.0.1", "state_interval_s": 1}
        mqtt.update(sections.pop("mqtt", {}))
        return config(device={"id": DEV}, mqtt=mqtt, **sections)

    return make


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
