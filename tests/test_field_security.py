"""A camera login never leaves the process (no reading, export line, MQTT message or log line holds it); values
that validate but would crash are config errors; a publisher thread that dies is restarted and reported."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from cielo.cli import main
from tests.conftest import cielo, rows
from tests.support.broker import Broker, Subscriber
from tests.support.camserver import CameraServer
from tests.support.daemon import BASE, DEV, needs_mosquitto, start_daemon, stop

USER, PASSWORD = "viewer", "cam-Pa55word"


@needs_mosquitto
def test_a_login_in_base_url_is_used_but_never_stored_published_exported_or_logged(
        camera: CameraServer, broker: Broker, mqtt_config, tmp_path: Path):
    camera.login = (USER, PASSWORD)
    cfg = mqtt_config(skycam={"base_url": camera.base_url.replace("http://", f"http://{USER}:{PASSWORD}@")})
    sub = Subscriber(broker.port, "#")
    proc = start_daemon(cfg)
    try:
        assert sub.wait_for(lambda: sub.on(f"{BASE}/skycam/octas")), "no live reading published"
        backfill = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T02:00Z", config=cfg)
        assert backfill.returncode == 0, backfill.stderr
        assert sub.wait_for(lambda: len(sub.on(f"{BASE}/skycam/octas/backfill")) >= 12)
    finally:
        log = stop(proc)
        sub.close()
    assert not camera.authorizations.get(None), "a request went out without the login"
    assert camera.total_requests >= 13
    db = tmp_path / "cielo.db"
    urls = [json.loads(a)["url"] for (a,) in rows(db, "SELECT attrs FROM readings")]
    assert len(urls) >= 13 and all(u.startswith(camera.base_url) for u in urls), urls[:2]
    export = cielo("export", "--series", "skycam.octas", "--from", "2024-01-01", "--to", "2030-01-01",
                   "--format", "jsonl", config=cfg)
    csv = cielo("export", "--series", "skycam.octas", "--from", "2024-01-01", "--to", "2030-01-01",
                "--format", "csv", config=cfg)
    assert export.returncode == 0 and len(export.stdout.splitlines()) >= 13
    published = "\n".join(f"{t} {p}" for t, p, _ in sub.messages)
    dump = "\n".join(str(r) for r in rows(db, "SELECT * FROM readings")) + "\n".join(
        str(r) for r in rows(db, "SELECT * FROM events"))
    for where, text in {"MQTT": published, "export": export.stdout + csv.stdout, "database": dump,
                        "log": log + backfill.stdout + backfill.stderr}.items():
        assert PASSWORD not in text and f"{USER}:" not in text, f"the login is in the {where}"


@pytest.mark.parametrize(("section", "key", "value", "says"), [
    ("backfill", "check_every_hours", 1e12, "[backfill].check_every_hours"),
    ("backfill", "min_gap_hours", 1e300, "[backfill].min_gap_hours"),
    ("mqtt", "discovery_prefix", "home/+/assistant", "[mqtt].discovery_prefix"),
    ("mqtt", "topic_prefix", "cielo/#", "[mqtt].topic_prefix"),
    ("mqtt", "topic_prefix", "cielo//x", "[mqtt].topic_prefix"),
    ("mqtt", "topic_prefix", "", "[mqtt].topic_prefix"),
    ("mqtt", "ca_file", "/nonexistent/ca.crt", "[mqtt].ca_file: /nonexistent/ca.crt: no such file"),
])
def test_values_that_would_crash_later_are_config_errors(config, capsys, section: str, key: str, value, says: str):
    extra = {"enabled": True, "tls": True} if section == "mqtt" else {}
    cfg = config(**{section: {key: value, **extra}})
    assert main(["--config", str(cfg), "run"]) == 2  # the daemon stops at once: no restart loop, no dead thread
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], lines


@needs_mosquitto
def test_a_publisher_thread_that_dies_is_reported_and_started_again(camera: CameraServer, config, tmp_path: Path):
    broker = Broker(tmp_path, tls=True).start()
    ca = tmp_path / "our-ca.crt"
    shutil.copy(broker.ca, ca)
    cfg = config(device={"id": DEV}, mqtt={"enabled": True, "port": broker.port, "host": "127.0.0.1",
                                            "tls": True, "ca_file": str(ca), "state_interval_s": 1})
    proc = start_daemon(cfg)
    try:
        def state() -> str:  # what `cielo status` shows (it refuses a config whose CA file is gone, see above)
            try:
                found = rows(tmp_path / "cielo.db", "SELECT value FROM daemon_state WHERE key = 'mqtt'")
            except sqlite3.OperationalError:  # the daemon has not made its tables yet
                return ""
            return found[0][0] if found else ""

        deadline = time.monotonic() + 30
        while state() != "connected" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert json.loads(cielo("status", "--json", config=cfg).stdout)["broker"]["state"] == "connected"
        # The CA file goes away under the running daemon, and the broker restarts: the next connection's TLS
        # setup raises inside the publisher thread, which used to end it for good while status said connected.
        ca.unlink()
        broker.stop()
        broker.start()
        deadline = time.monotonic() + 30
        while state() != "failed" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert state() == "failed"
        same_db = config(device={"id": DEV}, mqtt={"enabled": True, "port": broker.port, "host": "127.0.0.1",
                                                   "tls": True, "ca_file": str(broker.ca)})
        doctor = cielo("doctor", config=same_db, timeout=60)
        assert "✘ publisher: the daemon's MQTT publisher stopped (FileNotFoundError" in doctor.stdout, doctor.stdout
        assert json.loads(cielo("status", "--json", config=same_db).stdout)["broker"]["state"] == "failed"
        assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM events WHERE kind = 'mqtt_publisher_failed'")[0][0]
        shutil.copy(broker.ca, ca)  # the cause fixed: the restarted publisher connects and drains the outbox
        sub = Subscriber(broker.port, f"{BASE}/skycam/octas", ca_file=broker.ca)
        assert cielo("ingest", "--source", "skycam", config=cfg).returncode == 0
        deadline = time.monotonic() + 70
        while state() != "connected" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert state() == "connected"
        assert sub.wait_for(lambda: sub.on(f"{BASE}/skycam/octas"))
        sub.close()
    finally:
        out = stop(proc)
        broker.stop()
    assert "mqtt: the publisher stopped (FileNotFoundError" in out, out
    assert "Traceback" not in out, out
