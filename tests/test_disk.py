"""A small SD card: images under a quota, image saving that stops (readings do not) when the disk is low,
and a database that hits 0 bytes free loses nothing and carries on once space returns."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import cielo, rows
from tests.support.camserver import CameraServer


@pytest.fixture
def small_disk(tmp_path: Path):
    """A size-limited tmpfs (needs root, as in CI); skipped where mounting is not allowed."""
    mnt = tmp_path / "sd"
    mnt.mkdir()

    def mount(size_kb: int) -> Path:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mnt)],
                                capture_output=True)
        if result.returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        return mnt

    yield mount
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_images_quota_keeps_the_newest(camera: CameraServer, config, tmp_path: Path):
    cfg = config(skycam={"keep_images": True, "images_dir": str(tmp_path / "img"), "images_max_mb": 0.1,
                         "min_free_mb": 0})
    cielo("backfill", "--from", "2024-06-01T12:00Z", "--to", "2024-06-01T12:59Z", config=cfg)
    kept = sorted(p.name for p in (tmp_path / "img").rglob("*.jpg"))
    assert 1 <= len(kept) < 6 and kept[-1] == "2024-06010952.jpg"  # camera-local names; the newest survive
    assert sum(p.stat().st_size for p in (tmp_path / "img").rglob("*.jpg")) <= 0.1e6
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings") == [(6,)]


def test_low_disk_stops_images_not_readings(camera: CameraServer, config, tmp_path: Path, small_disk):
    sd = small_disk(1024)
    cfg = config(skycam={"keep_images": True, "images_dir": str(sd / "img"), "min_free_mb": 0.7,
                         "images_max_mb": 0})
    result = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T05:59Z", config=cfg)
    assert result.stdout.strip().endswith("total=36 new=36 duplicates=0 failed=0")
    saved = list((sd / "img").rglob("*.jpg"))
    assert 3 <= len(saved) < 36
    db = tmp_path / "cielo.db"
    assert rows(db, "SELECT kind, level FROM events WHERE kind LIKE 'disk_%'") == [("disk_low", "warning")]
    for p in saved:  # space comes back
        p.unlink()
    cielo("backfill", "--from", "2024-06-01T06:00Z", "--to", "2024-06-01T06:59Z", config=cfg)
    assert len(list((sd / "img").rglob("*.jpg"))) == 6
    assert rows(db, "SELECT kind FROM events WHERE kind LIKE 'disk_%' ORDER BY id") == [("disk_low",), ("disk_ok",)]


@pytest.mark.slow  # long: run by `pytest -m slow` (CI runs it)
def test_full_disk_loses_nothing_and_recovers(camera: CameraServer, config, small_disk):
    # A week's backfill peaks at ~3.2 MB here (the database and its WAL before the checkpoint): 4 MB holds it,
    # and ~0.3 MB left beside the filler does not.
    sd = small_disk(4096)
    db = sd / "cielo.db"
    cfg = config(storage={"database": str(db)})
    filler = sd / "filler"
    filler.write_bytes(b"\0" * 3_900_000)
    week = ("--from", "2024-06-01T00:00Z", "--to", "2024-06-07T23:59Z")
    full = cielo("backfill", *week, config=cfg)
    assert full.returncode == 1
    assert full.stderr.strip().splitlines()[-1].startswith("cielo: error: ") and "full" in full.stderr
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    (kept,) = rows(db, "SELECT count(*) FROM readings")[0]
    assert 0 < kept < 1008
    filler.unlink()
    again = cielo("backfill", *week, config=cfg)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == f"skycam: total=1008 new={1008 - kept} duplicates={kept} failed=0"
    assert rows(db, "SELECT count(*), count(DISTINCT ts) FROM readings") == [(1008, 1008)]
