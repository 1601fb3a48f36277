"""what the daemon restores by itself reaches MQTT, with a real broker."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import rows
from tests.support.broker import Broker, Subscriber
from tests.support.camserver import CameraServer
from tests.support.daemon import BASE, needs_mosquitto, start_daemon, stop

pytestmark = needs_mosquitto


def test_daemon_catch_up_reaches_the_broker(camera: CameraServer, broker: Broker, mqtt_config, tmp_path: Path):
    """The daemon finds a missing day on start, restores it in its `jobs run` child, and a subscriber gets
    every restored reading on `<series>/backfill` and the job's `backfill_finished` event."""
    db = tmp_path / "cielo.db"
    cfg = mqtt_config(backfill={"on_startup": True, "lookback_days": 1})
    sub = Subscriber(broker.port, f"{BASE}/#")
    topic = f"{BASE}/skycam/octas/backfill"
    proc = start_daemon(cfg)
    try:
        def finished() -> list[dict]:
            return [e for e in sub.json_on(f"{BASE}/events") if e["kind"] == "backfill_finished"]

        assert sub.wait_for(lambda: finished(), timeout=120), (sub.messages[-5:], rows(db, "SELECT * FROM events"))
        job = finished()[0]
        (trigger,) = rows(db, "SELECT trigger FROM backfill_jobs WHERE id = ?", (job["job"],))[0]
        assert trigger == "on_boot"
        restored = {f"skycam.octas@{ts}" for (ts,) in rows(
            db, "SELECT ts FROM readings WHERE series = 'skycam.octas' AND json_extract(attrs, '$.url') IS NOT NULL"
                " AND ingested_at >= (SELECT created_at FROM backfill_jobs WHERE id = ?)", (job["job"],))}
        live = {json.loads(p)["id"] for p, _ in sub.on(f"{BASE}/skycam/octas")}
        assert job["new"] >= 140 and job["level"] == "success" and job["success_rate"] > 0.8
        assert job["total"] == job["new"] + job["duplicates"] + job["failed"]
        assert sub.wait_for(lambda: {json.loads(p)["id"] for p, _ in sub.on(topic)} >= restored - live, timeout=30)
        delivered = {json.loads(p)["id"] for p, _ in sub.on(topic)}
        assert len(delivered) >= job["new"], (len(delivered), job)
        started = [e for e in sub.json_on(f"{BASE}/events") if e["kind"] == "backfill_started"]
        assert started and started[0]["trigger"] == "on_boot"
        assert sub.wait_for(lambda: rows(db, "SELECT count(*) FROM outbox") == [(0,)])
        print(f"catch-up: {len(delivered)} messages delivered on {topic} / {job['new']} restored")
    finally:
        out = stop(proc)
    sub.close()
    assert "Traceback" not in out, out


def test_imported_csv_readings_reach_the_broker(camera: CameraServer, broker: Broker, mqtt_config,
                                                tmp_path: Path):
    """`cielo import-csv` stores history like any other path: each reading is queued in the same transaction
    and the running daemon delivers it on `<series>/backfill`."""
    from tests.conftest import SOURCES, cielo

    db = tmp_path / "cielo.db"
    cfg = mqtt_config()
    sub = Subscriber(broker.port, f"{BASE}/weather/#")
    proc = start_daemon(cfg)
    try:
        siar = SOURCES / "csv" / "fixtures" / "siar-hourly.csv"
        imported = cielo("import-csv", "--source", "siar", str(siar), config=cfg)
        assert imported.returncode == 0, imported.stderr
        stored = {f"{series}@{ts}" for series, ts in rows(db, "SELECT series, ts FROM readings WHERE source = 'csv'")}
        assert stored

        def delivered() -> set[str]:
            return {json.loads(p)["id"] for t, p, _ in list(sub.messages) if t.endswith("/backfill")}

        assert sub.wait_for(lambda: delivered() == stored, timeout=30), (len(delivered()), len(stored))
    finally:
        stop(proc)
    sub.close()
