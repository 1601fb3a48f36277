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


class Output:
    """A child's stdout read line by line on a thread, so a test can wait for a line (deadline-bounded)
    instead of sleeping a fixed time; `text()` is everything it printed once it has exited."""

    def __init__(self, proc: subprocess.Popen[str]):
        import threading

        self.proc = proc
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, text: str | tuple[str, ...], count: int = 1, timeout: float = 30) -> bool:
        """True once `text` (or one of several) appeared in `count` lines; False at the deadline or when the
        child exited first."""
        import time

        texts = (text,) if isinstance(text, str) else text
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(any(t in line for t in texts) for line in self.lines) >= count:
                return True
            if self.proc.poll() is not None and not self._reader.is_alive():
                return False
            time.sleep(0.05)
        return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 45) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the daemon did not stop within {timeout:g} s:\n{self.text()}") from None
        self._reader.join(timeout=5)
        return self.text()

    def text(self) -> str:
        return "".join(self.lines)
