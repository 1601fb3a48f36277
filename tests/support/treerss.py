"""The resident memory of a process and all its descendants, sampled from /proc while it runs."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path


def _tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += parents.get(pid, [])
    return out


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now (VmRSS), or the most it has held so far (VmHWM: peaks between samples)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakTree:
    """Samples the tree under `proc` every `every_s` until it exits: `peak_mb` is the largest sum seen,
    `largest_mb` the most any one of its processes held (the kernel's high-water mark, so a peak between two
    samples counts; unlike RUSAGE_CHILDREN it is this tree's alone, not every child the test process had)."""

    def __init__(self, proc: subprocess.Popen, every_s: float = 0.05):
        self.proc, self.every_s = proc, every_s
        self.peak_mb = 0.0
        self.largest_mb = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self.proc.poll() is None:
            pids = _tree(self.proc.pid)
            self.peak_mb = max(self.peak_mb, sum(rss_mb(p) for p in pids))
            self.largest_mb = max(self.largest_mb, *(rss_mb(p, "VmHWM") for p in pids))
            time.sleep(self.every_s)

    def join(self) -> float:
        self._thread.join(timeout=5)
        return self.peak_mb
