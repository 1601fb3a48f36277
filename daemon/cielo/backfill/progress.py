"""A manual backfill's progress on a terminal: one line per source on stderr, redrawn at most 10 times a
second."""

from __future__ import annotations

import sys
import time
from datetime import datetime

from cielo.backfill.ranges import count_slots


class Progress:
    """A one-line progress bar per source on a terminal (stderr), redrawn at most 10 times a second."""

    def __init__(self, sources: dict, start: datetime, end: datetime):
        self.totals = {name: count_slots(source, start, end) for name, source in sources.items()}
        self.tasks: dict[int, object] = {}
        self.t0, self.last, self.current = time.monotonic(), 0.0, ""

    def update(self, task, s) -> None:
        self.tasks[task.id] = (task.source, s)
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        self.draw(task.source)

    def draw(self, name: str) -> None:
        parts = [s for src, s in self.tasks.values() if src == name]
        done = sum(s.done for s in parts)
        new, dup, failed = (sum(getattr(s, k) for s in parts) for k in ("new", "duplicates", "failed"))
        total = self.totals.get(name, done) or 1
        rate = (new + failed) / max(time.monotonic() - self.t0, 1e-6)
        bar = "#" * int(min(done / total, 1.0) * 30)
        if self.current and self.current != name:
            sys.stderr.write("\n")
        self.current = name
        sys.stderr.write(f"\r{name} [{bar:<30}] {done}/{total} new={new} dup={dup} failed={failed} {rate:.0f}/s ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.current:
            self.draw(self.current)
        sys.stderr.write("\n")
