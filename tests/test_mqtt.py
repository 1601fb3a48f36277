"""MQTT against a real Mosquitto: topics, retain flags, payloads, discovery, outages, kill -9, bad login."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cielo.config import Settings
from cielo.outputs.mqtt.outbox import refresh_live
from cielo.service.runtime import announcer
from cielo.store import Reading, Store
from tests.conftest import cielo, clean_env, rows
from tests.support.broker import MOSQUITTO, Broker, Subscriber, retained
from tests.support.camserver import CameraServer
from tests.support.daemon import BASE, DEV, Output, start_daemon, stop

pytestmark = pytest.mark.skipif(not (shutil.which("mosquitto") or os.path.exists(MOSQUITTO)),
                                reason="mosquitto is not installed (bash .ci/run installs it)")

HOUR = ("--from", "2024-06-01T12:00Z", "--to", "2024-06-01T12:59Z")


def test_live_reading_status_and_discovery(camera: CameraServer, broker: Broker, mqtt_config, tmp_path: Path):
    sub = Subscriber(broker.port, f"{BASE}/#", "homeassistant/#")
    proc = start_daemon(mqtt_config())
    try:
        assert sub.wait_for(lambda: sub.on(f"{BASE}/skycam/octas")), sub.messages
        assert sub.on(f"{BASE}/status")[0][0] == "online"
        (payload, _), *_ = sub.on(f"{BASE}/skycam/octas")
        body = json.loads(payload)
        held = retained(broker.port, f"{BASE}/#")
        assert held[f"{BASE}/status"] == "online" and json.loads(held[f"{BASE}/skycam/octas"]) == body
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d2:00Z", body["ts"])
        assert isinstance(body["value"], int) and 0 <= body["value"] <= 8 and body["unit"] == "octas"
        assert body["id"] == f"skycam.octas@{body['ts']}" and len(body["probs"]) == 9 and "confidence" in body
        assert sub.wait_for(lambda: sub.on(f"{BASE}/state")), "no state"
        state = sub.json_on(f"{BASE}/state")[-1]
        assert state["device"] == DEV and state["series"][0]["series"] == "skycam.octas"
        # Discovery: one retained device message; what Home Assistant requires of each entity in it.
        held = {t: json.loads(p) for t, p in retained(broker.port, "homeassistant/#").items() if p}
        assert list(held) == [f"homeassistant/device/{DEV}/config"], list(held)  # old per-entity ones cleared
        device = held[f"homeassistant/device/{DEV}/config"]
        assert device["dev"]["identifiers"] == [f"cielo_{DEV}"] and device["dev"]["sw_version"]
        assert device["o"]["name"] == "cielo" and device["availability_topic"] == f"{BASE}/status"
        configs = {k: c for k, c in device["cmps"].items() if len(c) > 1}  # not removals (a platform alone)
        ids = [c["unique_id"] for c in configs.values()]
        assert len(ids) == len(set(ids)) >= 4
        for c in configs.values():
            assert c["p"] in ("sensor", "binary_sensor") and c["state_topic"].startswith(BASE + "/")
            assert "{{" in c["value_template"]
        octas = configs["skycam_octas"]
        assert octas["state_topic"] == f"{BASE}/skycam/octas" and octas["unit_of_measurement"] == "octas"
        assert octas["state_class"] == "measurement" and octas["expire_after"] == 1800  # three 10-min cadences
        safety = configs["safety"]
        assert safety["p"] == "binary_sensor" and safety["device_class"] == "safety"
        assert (safety["payload_on"], safety["payload_off"]) == ("unsafe", "safe")
        assert safety["state_topic"] == safety["json_attributes_topic"] == f"{BASE}/safety"
        state = json.loads(retained(broker.port, f"{BASE}/safety")[f"{BASE}/safety"])
        assert state["state"] == "unsafe" and state["reason"]  # at best waiting for the clear-sky delay
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert sub.wait_for(lambda: sub.on(f"{BASE}/status")[-1][0] == "offline")
    assert retained(broker.port, f"{BASE}/status") == {f"{BASE}/status": "offline"}
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM outbox") == [(0,)]
    sub.close()


def test_backfill_goes_to_history_topics_in_order(camera: CameraServer, broker: Broker, mqtt_config):
    cfg = mqtt_config()
    result = cielo("backfill", *HOUR, config=cfg)  # queued in the outbox; no daemon yet
    assert result.stdout.strip().endswith("new=6 duplicates=0 failed=0")
    sub = Subscriber(broker.port, f"{BASE}/#")
    proc = start_daemon(cfg)
    try:
        topic = f"{BASE}/skycam/octas/backfill"
        assert sub.wait_for(lambda: len(sub.on(topic)) >= 6)
        history = sub.on(topic)
        assert topic not in retained(broker.port, f"{BASE}/#")  # history is never retained
        stamps = [json.loads(p)["ts"] for p, _ in history]
        assert stamps == sorted(stamps) and stamps[0] == "2024-06-01T12:02:00Z" and len(set(stamps)) == 6
        events = sub.json_on(f"{BASE}/events")
        assert [e["kind"] for e in events if e["kind"].startswith("backfill_")] == ["backfill_started",
                                                                                   "backfill_finished"]
        finished = [e for e in events if e["kind"] == "backfill_finished"]
        assert finished and finished[0]["level"] == "success" and finished[0]["new"] == 6
        assert finished[0]["success_rate"] == 1.0
    finally:
        stop(proc)
    sub.close()


@pytest.mark.slow  # about 45 s of subprocesses; .ci/run's slow step runs it
def test_broker_outage_loses_nothing(camera: CameraServer, broker: Broker, mqtt_config, tmp_path: Path):
    cfg = mqtt_config()
    sub = Subscriber(broker.port, f"{BASE}/skycam/octas/backfill")
    proc = start_daemon(cfg)
    try:
        cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T11:59Z", config=cfg)
        broker.stop()
        time.sleep(1)
        # Stored while the broker is away: it waits in the outbox.
        cielo("backfill", "--from", "2024-06-01T12:00Z", "--to", "2024-06-01T23:59Z", config=cfg)
        waiting = rows(tmp_path / "cielo.db", "SELECT count(*) FROM outbox")[0][0]
        assert waiting >= 72
        broker.start()
        topic = f"{BASE}/skycam/octas/backfill"
        assert sub.wait_for(lambda: len({json.loads(p)["id"] for p, _ in sub.on(topic)}) == 144, timeout=60), \
            len(sub.on(topic))
        first_seen = list(dict.fromkeys(json.loads(p)["ts"] for p, _ in sub.on(topic)))
        assert first_seen == sorted(first_seen)  # in order per topic
        assert sub.wait_for(lambda: rows(tmp_path / "cielo.db", "SELECT count(*) FROM outbox") == [(0,)])
    finally:
        out = stop(proc)
    assert out.count("cannot reach") <= 1 and "connected to 127.0.0.1" in out  # said once, recovery once
    sub.close()


@pytest.mark.slow  # about a minute of subprocesses; .ci/run's slow step runs it
def test_kill_9_then_restart_delivers_what_was_queued(camera: CameraServer, broker: Broker, mqtt_config,
                                                      tmp_path: Path):
    cfg = mqtt_config()
    sub = Subscriber(broker.port, f"{BASE}/skycam/octas/backfill")
    proc = start_daemon(cfg)
    cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T05:59Z", config=cfg)
    broker.stop()
    cielo("backfill", "--from", "2024-06-01T06:00Z", "--to", "2024-06-02T23:59Z", config=cfg)
    proc.send_signal(signal.SIGKILL)  # with 252 messages unacknowledged
    proc.wait()
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM outbox WHERE kind = 'backfill'")[0][0] >= 252
    broker.start()
    topic = f"{BASE}/skycam/octas/backfill"
    proc = start_daemon(cfg)
    try:
        assert sub.wait_for(lambda: len({json.loads(p)["id"] for p, _ in sub.on(topic)}) == 288, timeout=60)
        assert sub.wait_for(lambda: rows(tmp_path / "cielo.db", "SELECT count(*) FROM outbox") == [(0,)])
    finally:
        stop(proc)
    sub.close()


def test_wrong_password_is_one_line_and_storing_goes_on(camera: CameraServer, config, tmp_path: Path):
    broker = Broker(tmp_path, users={"cielo": "right"}).start()
    try:
        cfg = config(device={"id": DEV}, mqtt={"enabled": True, "port": broker.port, "host": "127.0.0.1",
                                                "username": "cielo", "password": "wrong"})
        out = Output(start_daemon(cfg))
        try:
            assert out.wait_for("refused the connection") and out.wait_for("octas="), out.text()
            # It keeps trying (1 s, then 2 s apart) without saying it again: watch a few more attempts.
            assert not out.wait_for("refused the connection", count=2, timeout=4), out.text()
        finally:
            out = out.stop()
    finally:
        broker.stop()
    refusals = [line for line in out.splitlines() if "refused the connection" in line]
    assert len(refusals) == 1 and "authori" in refusals[0].lower(), out
    assert re.search(r"skycam \S+: octas=", out)
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings") == [(1,)]


def test_password_from_environment(camera: CameraServer, config, tmp_path: Path):
    broker = Broker(tmp_path, users={"cielo": "s3cret"}).start()
    try:
        cfg = config(device={"id": DEV}, mqtt={"enabled": True, "port": broker.port, "host": "127.0.0.1",
                                                "username": "cielo"})
        sub = Subscriber(broker.port, f"{BASE}/status", username="cielo", password="s3cret")
        proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=clean_env(CIELO_MQTT_PASSWORD="s3cret"))
        assert sub.wait_for(lambda: any(p == "online" for p, _ in sub.on(f"{BASE}/status")))
        out = stop(proc)
        assert "s3cret" not in out
        sub.close()
    finally:
        broker.stop()


def test_tls_with_a_private_ca(camera: CameraServer, config, tmp_path: Path):
    broker = Broker(tmp_path, tls=True).start()
    try:
        sub = Subscriber(broker.port, f"{BASE}/skycam/octas", ca_file=broker.ca)
        cfg = config(device={"id": DEV}, mqtt={"enabled": True, "port": broker.port, "host": "127.0.0.1",
                                                "tls": True, "ca_file": str(broker.ca)})
        proc = start_daemon(cfg)
        assert sub.wait_for(lambda: sub.on(f"{BASE}/skycam/octas"))
        stop(proc)
        sub.close()
        # Without the CA the broker's certificate is not trusted: one line, no connection, storing goes on.
        cfg = config(device={"id": DEV}, mqtt={"enabled": True, "port": broker.port, "host": "127.0.0.1",
                                                "tls": True})
        watched = Output(start_daemon(cfg))
        try:
            watched.wait_for(("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"))
        finally:
            out = watched.stop()
        assert "CERTIFICATE_VERIFY_FAILED" in out or "certificate verify failed" in out, out
    finally:
        broker.stop()


def test_disabled_series_are_removed_from_home_assistant(broker: Broker, mqtt_config):
    proc = start_daemon(mqtt_config(skycam={"enabled": False}))
    try:
        sub = Subscriber(broker.port, "homeassistant/#", persistent=False)
        assert sub.wait_for(lambda: any(t.endswith("/device/pi-01/config") for t, _, _ in sub.messages))
        held = retained(broker.port, "homeassistant/#")
        # A component with only its platform is how Home Assistant's device discovery removes an entity.
        components = json.loads(held[f"homeassistant/device/{DEV}/config"])["cmps"]
        assert components["skycam_octas"] == {"p": "sensor"} and components["skycam_confidence"] == {"p": "sensor"}
        sub.close()
    finally:
        stop(proc)


def test_disabled_mqtt_keeps_no_outbox(camera: CameraServer, config, tmp_path: Path):
    cielo("backfill", *HOUR, config=config())
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM outbox") == [(0,)]


def test_outbox_cap_drops_oldest_history_and_says_so(camera: CameraServer, config, tmp_path: Path):
    cfg = config(device={"id": DEV}, mqtt={"enabled": True, "port": 9, "outbox_max": 100})
    result = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T23:59Z", config=cfg)
    assert result.stdout.strip().endswith("new=144 duplicates=0 failed=0")
    db = tmp_path / "cielo.db"
    (depth,) = rows(db, "SELECT count(*) FROM outbox")[0]
    assert 100 <= depth <= 110
    dropped = rows(db, "SELECT sum(json_extract(data, '$.dropped_backfill')) FROM events"
                       " WHERE kind = 'outbox_overflow'")
    assert dropped[0][0] >= 144 - 100
    # What is kept is the newest history.
    newest = rows(db, "SELECT max(json_extract(payload, '$.ts')) FROM outbox WHERE kind = 'backfill'")[0][0]
    assert newest == "2024-06-01T23:52:00Z"


def test_future_reading_becomes_live_when_its_time_comes(tmp_path: Path):
    settings = Settings.model_validate({"device": {"id": DEV}, "mqtt": {"enabled": True},
                                        "storage": {"database": str(tmp_path / "c.db")}})
    ann = announcer(settings)
    now = datetime(2025, 1, 1, 12, 5, tzinfo=UTC)
    with Store(tmp_path / "c.db", ann) as store:
        store.add_readings([Reading("skycam.octas", now - timedelta(minutes=3), 2.0, "octas", "skycam"),
                            Reading("skycam.octas", now + timedelta(minutes=7), 5.0, "octas", "skycam")],
                           now, mode="live")
        kinds = store.query("SELECT kind, json_extract(payload, '$.value') FROM outbox ORDER BY id")
        assert kinds == [("live", 2.0), ("backfill", 5.0)]
        assert refresh_live(store, ann, now) == 0  # nothing newer is due
        assert refresh_live(store, ann, now + timedelta(minutes=8)) == 1
        assert store.query("SELECT kind, retain, json_extract(payload, '$.value') FROM outbox ORDER BY id DESC "
                           "LIMIT 1") == [("live", 1, 5.0)]
        # Old history never becomes "current": a year-old backfill leaves the live topic alone.
        store.add_readings([Reading("skycam.octas", now - timedelta(days=365), 1.0, "octas", "skycam")], now,
                           mode="live")
        assert store.query("SELECT kind FROM outbox ORDER BY id DESC LIMIT 1") == [("backfill",)]


def test_status_command(camera: CameraServer, config, tmp_path: Path):
    cfg = config()
    assert cielo("status", config=cfg).returncode == 1  # no database yet: one line
    cielo("backfill", *HOUR, config=cfg)
    text = cielo("status", config=cfg)
    assert text.returncode == 0 and "skycam.octas" in text.stdout and "mqtt disabled" in text.stdout
    data = json.loads(cielo("status", "--json", config=cfg).stdout)
    (series,) = data["series"]
    assert series["latest"] == "2024-06-01T12:52:00Z" and series["lag_s"] > 0
    assert data["jobs"][0]["job"] == "skycam live" and data["outbox"]["depth"] == 0
    assert data["last_backfill"]["level"] == "success" and data["database"]["bytes"] > 0
    assert all(b["state"] == "closed" for b in data["breakers"].values())  # a healthy camera opened none
