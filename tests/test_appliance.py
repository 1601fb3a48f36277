"""The daemon as systemd sees it: the notify protocol on a socket of the test, and the clock rule."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cielo.service.notify import Notifier
from tests.conftest import cielo, clean_env, rows
from tests.support.camserver import CameraServer
from tests.support.daemon import Output


def listen(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + address[1:] if address.startswith("@") else address)
    sock.settimeout(0.2)
    return sock


def datagrams(sock: socket.socket, until: str, timeout: float = 20) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            continue
        if until in got[-1]:
            return got
    raise AssertionError(f"no {until!r} in {got}")


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_notifier_sends_datagrams(tmp_path: Path, kind: str):
    address = str(tmp_path / "notify.sock") if kind == "path" else f"@cielo-test-{os.getpid()}"
    sock = listen(address)
    n = Notifier(address)
    assert n.ready("up") and n.status("busy") and n.watchdog() and n.stopping()
    got = [sock.recv(4096).decode() for _ in range(4)]
    assert got[0].split("\n")[:2] == ["READY=1", "STATUS=up"]
    assert got[1:] == ["STATUS=busy", "WATCHDOG=1", "STOPPING=1\nSTATUS=stopping"]
    sock.close()


def test_no_socket_means_no_notifications():
    assert Notifier("").enabled is False and Notifier("").ready("x") is False


def test_daemon_ready_watchdog_status_stopping(camera: CameraServer, config, tmp_path: Path):
    address = str(tmp_path / "notify.sock")
    sock = listen(address)
    env = clean_env(NOTIFY_SOCKET=address, WATCHDOG_USEC="1000000")
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(config()), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        got = datagrams(sock, "READY=1")
        # start to READY=1, interpreter start included: ~1 s here, quiet; a bound a loaded runner still meets
        assert time.monotonic() - t0 < 6.0
        got += datagrams(sock, "octas=")  # STATUS= after the first capture
        got += datagrams(sock, "WATCHDOG=1")
        proc.send_signal(signal.SIGTERM)
        got += datagrams(sock, "STOPPING=1")
        proc.communicate(timeout=20)
    finally:
        proc.kill()
        sock.close()
    assert proc.returncode == 0
    assert any(g.startswith("STATUS=skycam ") for g in got)


def test_clock_before_build_date_refuses_to_capture(camera: CameraServer, config, tmp_path: Path):
    cfg = config()
    result = cielo("ingest", config=cfg, env=clean_env(CIELO_FAKE_NOW="2020-01-01T00:00:00Z"))
    assert result.returncode == 1 and "before this cielo was built" in result.stderr
    assert camera.total_requests == 0

    proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=clean_env(CIELO_FAKE_NOW="2020-01-01T00:00Z"))
    watched = Output(proc)
    try:
        # The start jobs (live capture, catch-up) each check the clock once the scheduler runs.
        assert watched.wait_for("waiting for time sync"), watched.text()
        assert not watched.wait_for("waiting for time sync", count=2, timeout=2), watched.text()  # said once
    finally:
        out = watched.stop(timeout=20)
    assert out.count("waiting for time sync") == 1, out
    assert camera.total_requests == 0
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings") == [(0,)]


def test_clock_behind_the_newest_write_refuses(camera: CameraServer, config, tmp_path: Path):
    cfg = config()
    ahead = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cielo("ingest", config=cfg, env=clean_env(CIELO_FAKE_NOW=ahead)).returncode == 0  # a write "from then"
    # The real clock is now 3 days behind that write, and the system does not say it is synchronised.
    result = cielo("ingest", config=cfg, env=clean_env(CIELO_CLOCK_SYNCED="no"))
    assert result.returncode == 1 and "before the newest stored write" in result.stderr
    assert camera.total_requests == 1


def test_damaged_database_stops_the_start(config, tmp_path: Path):
    cfg = config()
    cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T00:59Z", config=cfg)
    db = tmp_path / "cielo.db"
    subprocess.run([sys.executable, "-c", f"import sqlite3; sqlite3.connect('{db}').execute('PRAGMA "
                    "wal_checkpoint(TRUNCATE)')"], check=True)
    data = bytearray(db.read_bytes())
    for page in range(1, len(data) // 4096):  # scribble over every b-tree page header but the first
        data[page * 4096: page * 4096 + 8] = b"\x0d\xff\xff\xff\xff\xff\xff\xff"
    db.write_bytes(bytes(data))
    result = cielo("run", config=cfg, timeout=30)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert "damaged" in result.stderr or "malformed" in result.stderr, result.stderr


def test_doctor_explains_each_failure(camera: CameraServer, config, tmp_path: Path):
    good = cielo("doctor", config=config())
    assert good.returncode == 0, good.stdout
    lines = good.stdout.splitlines()
    assert all(line.startswith("✔ ") for line in lines)
    assert {line.split(":")[0][2:] for line in lines} >= {"config", "database", "clock", "disk", "model", "skycam",
                                                           "broker"}
    bad = cielo("doctor", config=config(skycam={"base_url": "http://127.0.0.1:9/image", "retries": 0},
                                        mqtt={"enabled": True, "host": "127.0.0.1", "port": 9}))
    assert bad.returncode == 1 and "Traceback" not in bad.stdout + bad.stderr
    failed = [line for line in bad.stdout.splitlines() if line.startswith("✘ ")]
    assert [line.split(":")[0] for line in failed] == ["✘ skycam", "✘ broker"]
    assert "cannot connect" in failed[0] and "[skycam].base_url" in failed[0]
    assert "start the broker" in failed[1]


def test_logs_under_systemd_carry_priorities_not_timestamps(config, tmp_path: Path):
    cfg = config(skycam={"base_url": "http://127.0.0.1:9/image", "retries": 0}, backfill={"max_attempts": 1})
    result = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T00:09Z", config=cfg,
                   env=clean_env(JOURNAL_STREAM="8:12345"))
    warning = next(line for line in result.stderr.splitlines() if "cannot connect" in line)
    assert warning.startswith("<4>skycam: http://127.0.0.1:9/image/")  # journald's warning level, no time
    plain = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T00:09Z", config=cfg)
    assert any(" WARNING skycam: " in line for line in plain.stderr.splitlines())
