"""The daemon with its Alpaca server on, against a loopback camera, at a fixed (fake) time of day."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import clean_env, write_config
from tests.support.alpaca import AlpacaClient
from tests.support.camserver import CameraServer

# Summer noon at the default site (Tierra del Fuego): frames are judged by day; daylight_safe makes it count.
NOON = "2026-11-20T15:02:05Z"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """`cielo run` in a child process; its output read by a thread, so tests can wait for a line."""

    def __init__(self, cfg: Path, now: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=clean_env(CIELO_FAKE_NOW=now))
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, pattern: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in {self.lines}")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the daemon did not stop:\n{self.output}") from None
        self._reader.join(timeout=5)
        return self.output

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def wait_for(check, timeout: float = 60, every: float = 0.1):
    """Poll `check()` until it returns something truthy (returned), or fail with the last answer."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s; last: {last!r}")


@pytest.fixture
def sky() -> Iterator[CameraServer]:
    with CameraServer(current_year=int(NOON[:4])) as server:
        server.set_sky(0.0)
        yield server


@pytest.fixture
def observatory(tmp_path: Path, sky: CameraServer):
    """make(**sections) -> config path: the loopback camera, Alpaca on free ports of 127.0.0.1."""
    ports = {"port": free_port(), "discovery_port": free_port(socket.SOCK_DGRAM)}

    def make(**sections: dict[str, Any]) -> Path:
        base: dict[str, dict[str, Any]] = {
            "device": {"id": "obs-1"},
            "storage": {"database": str(tmp_path / "cielo.db")},
            "skycam": {"base_url": sky.base_url, "timeout_s": 2, "retries": 0, "requests_per_minute": 0,
                       "delay_s": 0, "auto_calibrate": False},
            "backfill": {"on_startup": False},
            "sources.ree": {"enabled": False},
            "sources.openmeteo": {"enabled": False},
            "alpaca": {"enabled": True, "bind": "127.0.0.1", **ports},
            "safety": {"daylight_safe": True},
        }
        for name, keys in sections.items():
            base.setdefault(name, {}).update(keys)
        return write_config(tmp_path / "config.toml", base)

    make.ports = ports  # type: ignore[attr-defined]
    return make


def client_for(cfg_maker) -> AlpacaClient:
    return AlpacaClient(cfg_maker.ports["port"])
