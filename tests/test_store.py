from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cielo.errors import DatabaseDamaged
from cielo.store import MIGRATIONS, Missing, Reading, Store, StoreError
from tests.conftest import clean_env, rows

T0 = datetime(2025, 1, 1, 0, 2, tzinfo=UTC)


def reading(i: int, value: float | None = 3.0, **attrs) -> Reading:
    return Reading("skycam.octas", T0 + timedelta(minutes=10 * i), value, "octas", "skycam", attrs)


def test_schema_wal_and_version(tmp_path: Path):
    db = tmp_path / "c.db"
    with Store(db) as store:
        assert store.schema_version == len(MIGRATIONS)
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    with Store(db) as store:  # reopening applies nothing twice
        assert store.schema_version == len(MIGRATIONS)
    assert rows(db, "SELECT count(*) FROM schema_version") == [(len(MIGRATIONS),)]
    pk = [r[1] for r in rows(db, "PRAGMA table_info(readings)") if r[5]]
    assert pk == ["series", "ts"]


def test_newer_schema_is_refused(tmp_path: Path):
    db = tmp_path / "c.db"
    Store(db).close()
    import sqlite3

    con = sqlite3.connect(db)
    con.execute("INSERT INTO schema_version VALUES (99, 'x')")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer than this cielo knows"):
        Store(db)


def test_not_a_database(tmp_path: Path):
    bad = tmp_path / "c.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseDamaged, match=r"the database is damaged .file is not a database.; stop cielo"):
        Store(bad)


def test_writes_are_idempotent_and_count_new(tmp_path: Path):
    with Store(tmp_path / "c.db") as store:
        assert store.add_readings([reading(i) for i in range(10)]) == 10
        assert store.add_readings([reading(i, value=5.0) for i in range(5, 15)]) == 5
        assert store.query("SELECT count(*), sum(value) FROM readings") == [(15, 10 * 3.0 + 5 * 5.0)]


def test_octas_view_reads_attrs(tmp_path: Path):
    db = tmp_path / "c.db"
    with Store(db) as store:
        store.add_readings([reading(0, 4.0, confidence=0.8, flag=None, url="http://x/a.jpg"),
                            reading(1, None, flag="night", sun_elevation=-20.5)])
    assert rows(db, "SELECT ts, octas, confidence, flag, sun_elevation, image_url FROM octas ORDER BY ts") == [
        ("2025-01-01T00:02:00Z", 4.0, 0.8, None, None, "http://x/a.jpg"),
        ("2025-01-01T00:12:00Z", None, None, "night", -20.5, None),
    ]


def test_missing_counts_attempts_and_is_cleared_by_a_reading(tmp_path: Path):
    now = datetime(2025, 2, 1, tzinfo=UTC)
    with Store(tmp_path / "c.db") as store:
        m = Missing("skycam.octas", T0, "skycam", "404", timedelta(days=1))
        store.add_missing([m], now)
        store.add_missing([m], now)
        assert store.missing_attempts("skycam.octas", T0) == 2
        window = (T0 - timedelta(hours=1), T0 + timedelta(hours=1))
        assert store.missing_not_due("skycam.octas", *window, now) == {"2025-01-01T00:02:00Z"}
        assert store.missing_not_due("skycam.octas", *window, now + timedelta(days=2)) == set()
        store.add_readings([reading(0)])
        assert store.missing_attempts("skycam.octas", T0) == 0


WRITER = """
import sys
from datetime import UTC, datetime, timedelta
from cielo.store import Reading, Store
store = Store(sys.argv[1])
t0 = datetime(2020, 1, 1, tzinfo=UTC)
i = 0
while True:
    store.add_readings([Reading("skycam.octas", t0 + timedelta(minutes=10 * (i * 50 + k)), 1.0, "octas", "skycam",
                                {"pad": "x" * 500}) for k in range(50)])
    i += 1
    if i == 3:
        print("writing", flush=True)
"""


def test_kill_9_mid_write_keeps_whole_batches(tmp_path: Path):
    """A batch is one transaction: after SIGKILL the file is sound and holds only whole batches."""
    db = tmp_path / "c.db"
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True,
                                env=clean_env())
        assert proc.stdout.readline().strip() == "writing"
        time.sleep(0.05 * (round_ + 1))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert rows(db, "PRAGMA integrity_check") == [("ok",)]
        (count,) = rows(db, "SELECT count(*) FROM readings")[0]
        assert count >= 150 and count % 50 == 0, count
