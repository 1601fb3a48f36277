"""Honest state through the real CLI and daemon: a failing source is shown with its error, failures and
breaker (status, the MQTT `state`, a Home Assistant `problem` sensor); a failed catch-up is not hidden by a
later small success; a backfill job's progress and ETA reach the log, `status` and MQTT; hints point at the
cause (TLS certificate, HTTP 400), and `doctor` retests a source whose breaker is open."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

from tests.conftest import cielo, rows, source_sections
from tests.support.apiserver import ApiServer
from tests.support.broker import Broker, Subscriber
from tests.support.camserver import CameraServer
from tests.support.daemon import BASE, DEV, needs_mosquitto, start_daemon, stop


def test_a_failing_camera_is_never_only_no_readings_yet(camera: CameraServer, config, tmp_path: Path):
    cfg = config(skycam={"base_url": "http://127.0.0.1:9/image", "retries": 0, "timeout_s": 1})
    for _ in range(2):
        assert cielo("ingest", config=cfg).returncode == 1
    text = cielo("status", config=cfg).stdout
    series = next(ln for ln in text.splitlines() if "skycam.octas" in ln)
    assert "no readings yet; skycam failing: " in series and "cannot connect" in series, text
    assert "source skycam: failing, 2 live runs in a row" in text and "breaker closed" in text, text
    health = json.loads(cielo("status", "--json", config=cfg).stdout)["sources"]["skycam"]
    assert health["problem"] is True and health["consecutive_failures"] == 2
    assert "cannot connect" in health["last_error"] and health["breaker"]["failures"] >= 2
    # The breaker opens (as five failed requests would); the camera is fixed: doctor asks anyway, says ✔ at
    # once, and its success closes the breaker for everyone.
    con = sqlite3.connect(tmp_path / "cielo.db")
    con.execute("UPDATE http_breaker SET state = 'open', failures = 5, opened_at = ? WHERE source = 'skycam'",
                (time.time(),))
    con.commit()
    con.close()
    assert "breaker open after 5 failed requests" in cielo("status", config=cfg).stdout
    fixed = config()
    doctor = cielo("doctor", config=fixed)
    assert any(ln.startswith("✔ skycam: answered") for ln in doctor.stdout.splitlines()), doctor.stdout
    assert rows(tmp_path / "cielo.db", "SELECT state, failures FROM http_breaker WHERE source = 'skycam'") == [
        ("closed", 0)]


def test_a_failed_catch_up_is_not_hidden_by_a_later_small_success(camera: CameraServer, config, tmp_path: Path):
    down = config(skycam={"base_url": "http://127.0.0.1:9/image", "retries": 0, "timeout_s": 1})
    failed = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T00:59Z", config=down)
    assert failed.returncode == 1, failed.stderr
    cfg = config()
    cielo("doctor", config=cfg)  # the camera is back: doctor's trial closes the breaker the failures opened
    small = cielo("backfill", "--from", "2024-06-02T00:00Z", "--to", "2024-06-02T00:30Z", config=cfg)
    assert small.returncode == 0, small.stderr
    last = json.loads(cielo("status", "--json", config=cfg).stdout)["last_backfill"]
    assert last["level"] == "success" and last["worst_recent"]["level"] == "failed"
    assert last["worst_recent"]["job"] == 1
    text = cielo("status", config=cfg).stdout
    assert "but job 1 at " in text and "(last 24 h): failed" in text, text


def test_doctor_hints_point_at_the_cause(camera: CameraServer, api: ApiServer, config, tmp_path: Path):
    """An HTTP 400 is the request refused (config), not the network; a TLS certificate the client does not
    trust is a certificate problem, not a broker to start."""
    api.behaviours["ree"] = "api-error"
    (tmp_path / "tls").mkdir()
    broker = Broker(tmp_path / "tls", tls=True).start() if _mosquitto() else None
    try:
        mqtt = {"enabled": True, "host": "127.0.0.1", "port": broker.port, "tls": True} if broker else {}
        cfg = config(mqtt=mqtt, **source_sections(api, "ree"))
        doctor = cielo("doctor", config=cfg)
    finally:
        if broker is not None:
            broker.stop()
    ree = next(ln for ln in doctor.stdout.splitlines() if ln.startswith("✘ ree:"))
    assert "HTTP 400" in ree and "refused the request" in ree and "check [sources.ree]" in ree, ree
    assert "the network is fine" in ree
    if broker is not None:
        line = next(ln for ln in doctor.stdout.splitlines() if ln.startswith("✘ broker:"))
        assert "certificate" in line and "[mqtt].ca_file" in line and "start the broker" not in line, line


def _mosquitto() -> bool:
    from tests.support.daemon import needs_mosquitto as mark

    return not mark.args[0]


@needs_mosquitto
def test_catch_up_progress_and_a_problem_sensor_reach_mqtt(camera: CameraServer, api: ApiServer, broker: Broker,
                                                           mqtt_config, tmp_path: Path):
    """The daemon's catch-up logs its progress with an ETA, `state` carries it while it runs, and Home
    Assistant gets a `problem` binary_sensor per source, on for the source whose live runs fail."""
    api.behaviours["ree"] = "api-error"
    # a camera slow enough (144 slots, one worker: 7 s or more) that the catch-up outlives several of the
    # 1 s `state` publications: the plain loopback camera let it end within one (135 slots/s), and no
    # published state ever held its rate
    slow = CameraServer(latency_s=0.05).start()
    cfg = mqtt_config(backfill={"on_startup": True, "lookback_days": 1, "progress_minutes": 0.005},
                      skycam={"base_url": slow.base_url, "workers": 1}, **source_sections(api, "ree"))
    sub = Subscriber(broker.port, f"{BASE}/state", f"homeassistant/device/{DEV}/config")
    proc = start_daemon(cfg)
    try:
        def states() -> list[dict]:
            return sub.json_on(f"{BASE}/state")

        # a progress with its rate: the live capture at start may pause the catch-up at once, and a state
        # from that pause alone says nothing of the ETA the log must show
        assert sub.wait_for(lambda: any((s.get("progress") or {}).get("eta_s") is not None for s in states()),
                            timeout=90), states()[-1:]
        assert sub.wait_for(lambda: any((s.get("sources") or {}).get("ree", {}).get("problem") for s in states()),
                            timeout=60), states()[-1:]
    finally:
        out = stop(proc)
        slow.stop()
    sub.close()
    running = next(s["progress"] for s in states() if s.get("progress"))
    assert running["job"] == 1 and running["trigger"] == "on_boot" and running["total"] >= 144
    assert set(running) >= {"done", "percent", "rate_per_s", "eta_s", "eta"}
    ree = next(s["sources"]["ree"] for s in states() if (s.get("sources") or {}).get("ree", {}).get("problem"))
    assert "400" in ree["last_error"] and ree["consecutive_failures"] >= 1
    configs = next(json.loads(p)["cmps"] for t, p, _ in sub.messages if t.endswith("/config") and p)
    problem = configs["ree_problem"]
    assert problem["p"] == "binary_sensor"
    assert problem["device_class"] == "problem" and problem["state_topic"] == f"{BASE}/state"
    assert "skycam_problem" in configs and problem["default_entity_id"] == f"binary_sensor.cielo_{DEV}_ree_problem"
    lines = [ln for ln in out.splitlines() if "backfill job 1 (on_boot):" in ln]
    assert "0/" in lines[0] and any(re.search(r"/s, ETA \d", ln) for ln in lines), lines


def test_the_cli_bar_shows_an_eta(config, tmp_path: Path):
    """On a terminal `cielo backfill` draws a bar per source, with the time left."""
    import os
    import pty
    import subprocess
    import sys

    from tests.conftest import clean_env

    with CameraServer(latency_s=0.03) as slow:
        cfg = config(skycam={"base_url": slow.base_url, "workers": 2})
        master, slave = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", "--processes",
                                 "0", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T11:59Z"],
                                stdout=subprocess.PIPE, stderr=slave, env=clean_env())
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal's other end closed: the command is done
                break
            if not chunk:
                break
            seen += chunk
        out, _ = proc.communicate(timeout=60)
        os.close(master)
    assert proc.returncode == 0 and out.decode().strip() == "skycam: total=72 new=72 duplicates=0 failed=0"
    bar = seen.decode(errors="replace")
    assert re.search(r"skycam \[#*\s*\] \d+/72 new=\d+ .* ETA \d", bar), bar[-600:]


def test_status_shows_a_running_jobs_progress_and_eta(config, tmp_path: Path):
    import subprocess
    import sys

    from tests.conftest import clean_env

    with CameraServer(latency_s=0.1) as slow:
        cfg = config(skycam={"base_url": slow.base_url, "workers": 1}, backfill={"progress_minutes": 0.001})
        queued = cielo("backfill", "--detach", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T11:59Z",
                       config=cfg)
        assert queued.returncode == 0 and "job 1 queued" in queued.stdout, queued.stdout
        child = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "jobs", "run", "1"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=clean_env())
        try:
            deadline, seen = time.monotonic() + 30, None
            while time.monotonic() < deadline and seen is None:
                p = json.loads(cielo("status", "--json", config=cfg).stdout)["progress"]
                seen = p if p and 0 < p["done"] < p["total"] and p["eta_s"] else None
            assert seen and seen["job"] == 1 and seen["total"] == 72 and seen["status"] == "running", seen
            text = cielo("status", config=cfg).stdout
            assert re.search(r"backfill job 1 \(manual\): \d+/72 slots \([\d.]+ %\), [\d.]+/s, ETA ", text), text
        finally:
            child.kill()
            child.communicate()
