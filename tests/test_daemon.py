"""`cielo run` and `cielo ingest`: the live path, as a real process with a real camera on loopback."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cielo, clean_env, rows
from tests.support.camserver import CameraServer

CAPTURE = re.compile(r"skycam (\d{4}-\d\d-\d\dT\d\d:\d2:00Z): octas=\d confidence=0\.\d\d( \(uncertain\))?$")


def start_daemon(cfg: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=clean_env())


def read_until(proc: subprocess.Popen[str], pattern: str, timeout: float = 30) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"no {pattern!r} in {lines}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_captures_at_start_and_stops_cleanly(camera: CameraServer, config, tmp_path: Path, sig: int):
    proc = start_daemon(config())
    try:
        lines = read_until(proc, r"skycam \S+: ")
        assert any("cielo started" in line for line in lines)
        match = CAPTURE.search(lines[-1])
        assert match, lines[-1]
        stored = rows(tmp_path / "cielo.db", "SELECT ts, octas FROM octas")
        assert [ts for ts, _ in stored] == [match.group(1)]
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "cielo stopped" in rest and "Traceback" not in rest


def test_failed_capture_does_not_stop_the_loop(camera: CameraServer, config):
    cfg = config(skycam={"retries": 0, "base_url": camera.base_url.replace("/image", "/nothing-here")})
    proc = start_daemon(cfg)
    try:
        lines = read_until(proc, r"skycam \S+: ")
        assert "WARNING" in lines[-1] and lines[-1].endswith(": failed: not found (404)")
        time.sleep(0.5)
        assert proc.poll() is None  # still running
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0


def test_ingest_once_then_already_stored(camera: CameraServer, config):
    cfg = config()
    first = cielo("ingest", config=cfg)
    assert first.returncode == 0, first.stderr
    assert CAPTURE.search(first.stdout.strip())
    second = cielo("ingest", "--source", "skycam", config=cfg)
    assert second.stdout.strip().endswith(": already stored")
    assert camera.total_requests == 1


def test_run_refuses_an_unusable_database(camera: CameraServer, config, tmp_path: Path):
    (tmp_path / "dir.db").mkdir()
    result = cielo("run", config=config(storage={"database": str(tmp_path / "dir.db")}), timeout=20)
    assert result.returncode == 1
    assert result.stderr.startswith("cielo: error: ") and result.stderr.count("\n") == 1


def test_failed_live_run_is_recorded(camera: CameraServer, config, tmp_path: Path):
    camera.behaviours.clear()
    cfg = config(skycam={"retries": 0, "base_url": camera.base_url.replace("/image", "/gone")})
    result = cielo("ingest", config=cfg)
    assert result.returncode == 1
    events = rows(tmp_path / "cielo.db", "SELECT kind, level, source, json_extract(data, '$.error') FROM events")
    assert len(events) == 1 and events[0][:3] == ("live_failed", "warning", "skycam")
    assert "not found (404)" in events[0][3]


def test_export_csv_and_jsonl(camera: CameraServer, config):
    import csv
    import io
    import json

    cfg = config()
    cielo("backfill", "--from", "2024-06-01T12:00Z", "--to", "2024-06-01T12:59Z", config=cfg)
    out = cielo("export", "--series", "skycam.octas", "--from", "2024-06-01T12:10Z", "--to", "2024-06-01T12:32Z",
                "--format", "csv", config=cfg)
    table = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["ts"] for r in table] == ["2024-06-01T12:12:00Z", "2024-06-01T12:22:00Z", "2024-06-01T12:32:00Z"]
    assert table[0]["unit"] == "octas" and json.loads(table[0]["attrs"])["model"]
    lines = cielo("export", "--series", "skycam.octas", "--from", "2024-06-01", "--to", "2024-06-02",
                  "--format", "jsonl", config=cfg).stdout.splitlines()
    assert len(lines) == 6 and json.loads(lines[0])["series"] == "skycam.octas"
    bad = cielo("export", "--series", "nope", "--from", "2024-06-01", "--to", "2024-06-02", config=cfg)
    assert bad.returncode == 2 and "no series 'nope'" in bad.stderr
