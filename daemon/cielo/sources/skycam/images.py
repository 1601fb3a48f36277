"""Saved camera images: optional, under a quota, and never at the cost of the readings.

Saving stops while the disk holding them has less than `min_free_mb` free (the readings go on); the
oldest files go first when the folder passes `images_max_mb` or a file passes `images_max_days`."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path


def free_mb(path: Path) -> float:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free / 1e6


def save(folder: Path, name: str, body: bytes) -> Path:
    """Write atomically (temporary file, then rename): a crash leaves no half image under the real name."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.part"
    tmp.write_bytes(body)
    final = folder / name
    tmp.replace(final)
    return final


def prune(root: Path, max_mb: float, max_days: float, now: float | None = None) -> int:
    """Remove the oldest images until the folder is under both limits (0 disables a limit); returns how many."""
    if not root.exists():
        return 0
    now = now or time.time()
    files = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            if name.endswith(".jpg"):
                p = Path(dirpath) / name
                st = p.stat()
                files.append((st.st_mtime, st.st_size, p))
    files.sort()
    total = sum(size for _, size, _ in files)
    removed = 0
    for mtime, size, path in files:
        too_old = max_days and now - mtime > max_days * 86400
        too_big = max_mb and total > max_mb * 1e6
        if not (too_old or too_big):
            break
        path.unlink(missing_ok=True)
        total -= size
        removed += 1
    return removed
