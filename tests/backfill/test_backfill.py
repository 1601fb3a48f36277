"""`cielo backfill` end to end: the real CLI, a loopback camera serving real JPEGs, a real SQLite file."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cielo, clean_env, rows
from tests.support.camserver import CameraServer

TWO_DAYS = ("--from", "2024-06-01T00:00Z", "--to", "2024-06-02T23:59Z")
HOUR_RANGE = ("--from", "2024-06-01T12:00Z", "--to", "2024-06-01T12:59Z")


def summary(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.slow  # a long subprocess run: .ci/run's slow step runs it
def test_two_days_then_again_with_nothing_new(camera: CameraServer, config, tmp_path: Path):
    cfg = config()
    first = cielo("backfill", *TWO_DAYS, config=cfg)
    assert first.returncode == 0, first.stderr
    assert summary(first) == "skycam: total=288 new=288 duplicates=0 failed=0"
    assert camera.total_requests == 288
    db = tmp_path / "cielo.db"
    before = rows(db, "SELECT series, ts, value, attrs FROM readings ORDER BY ts")
    assert len(before) == 288 and before[0][1] == "2024-06-01T00:02:00Z" and before[-1][1] == "2024-06-02T23:52:00Z"

    second = cielo("backfill", "--source", "skycam", *TWO_DAYS, config=cfg)
    assert second.returncode == 0
    assert summary(second) == "skycam: total=288 new=0 duplicates=288 failed=0"
    assert camera.total_requests == 288  # a slot already stored costs no request
    assert rows(db, "SELECT series, ts, value, attrs FROM readings ORDER BY ts") == before


def test_spanish_aliases_and_date_only_range(camera: CameraServer, config):
    result = cielo("backfill", "--desde", "2024-06-01", "--hasta", "2024-06-02", config=config(
        device={"timezone": "UTC"}))
    # A date is its midnight and --to is included to the minute: one whole day.
    assert summary(result) == "skycam: total=144 new=144 duplicates=0 failed=0"


def test_readings_carry_provenance(camera: CameraServer, config, tmp_path: Path):
    cielo("backfill", "--from", "2024-06-01T12:00Z", "--to", "2024-06-01T12:59Z", config=config())
    (attrs,) = rows(tmp_path / "cielo.db", "SELECT attrs FROM readings WHERE ts = '2024-06-01T12:02:00Z'")[0]
    attrs = json.loads(attrs)
    # 12:02Z is 09:02 in Buenos Aires: the URL is named in camera time, under the past year's folder.
    assert attrs["url"] == f"{camera.base_url}/2024/2024-06010902.jpg"
    assert len(attrs["sha256"]) == 64 and attrs["model"] == "skyref-3.20.0"
    assert len(attrs["probs"]) == 9 and 0 < attrs["confidence"] <= 1
    assert rows(tmp_path / "cielo.db", "SELECT unit, source FROM readings LIMIT 1") == [("octas", "skycam")]


def test_current_year_is_read_from_the_root(camera: CameraServer, config):
    year = camera.current_year
    result = cielo("backfill", "--from", f"{year}-01-01T00:00Z", "--to", f"{year}-01-01T05:59Z", config=config())
    assert summary(result) == "skycam: total=36 new=36 duplicates=0 failed=0"


def test_every_failure_class_is_counted_not_fatal(camera: CameraServer, config, tmp_path: Path):
    # Names are camera-local (Buenos Aires, UTC-3): 2024-06-01 09:xx local is 12:xx UTC.
    behaviours = {
        "2024-06010902.jpg": "404",
        "2024-06010912.jpg": "503",
        "2024-06010922.jpg": "503-once",
        "2024-06010932.jpg": "429-once",
        "2024-06010942.jpg": "html",
        "2024-06010952.jpg": "truncated",
        "2024-06011002.jpg": "huge",
        "2024-06011012.jpg": "slow",
        "2024-06011022.jpg": "dark",
    }
    camera.behaviours.update(behaviours)
    camera.slow_s = 4
    cfg = config(skycam={"timeout_s": 1, "retries": 1, "max_bytes": 1_000_000})
    t0 = time.monotonic()
    result = cielo("backfill", "--from", "2024-06-01T12:00Z", "--to", "2024-06-01T13:59Z", config=cfg)
    assert result.returncode == 0, result.stderr
    # failed: 404, 503 (retries exhausted), html, truncated, huge, slow; recovered: 503-once, 429-once; dark: new.
    assert summary(result) == "skycam: total=12 new=6 duplicates=0 failed=6"
    assert time.monotonic() - t0 < 60
    assert camera.requests["2024-06010922.jpg"] == 2 and camera.requests["2024-06010932.jpg"] == 2
    assert camera.requests["2024-06010912.jpg"] == 2  # one try plus retries=1
    detail = [line for line in result.stderr.splitlines() if "failed slots" in line]
    assert detail and "1 not found (404)" in detail[0] and "1 not a JPEG" in detail[0]
    db = tmp_path / "cielo.db"
    assert rows(db, "SELECT ts, value, json_extract(attrs, '$.flag') FROM readings WHERE ts = '2024-06-01T13:22:00Z'"
                ) == [("2024-06-01T13:22:00Z", None, "dark")]
    assert rows(db, "SELECT ts, source, reason, attempts FROM missing") == [
        ("2024-06-01T12:02:00Z", "skycam", "404", 1)]

    # Again: the 404 is not asked until its retry time; the transient failures are asked again.
    camera.behaviours.clear()
    again = cielo("backfill", "--from", "2024-06-01T12:00Z", "--to", "2024-06-01T13:59Z", config=cfg)
    assert summary(again) == "skycam: total=12 new=5 duplicates=6 failed=1"
    assert camera.requests["2024-06010902.jpg"] == 1
    assert rows(db, "SELECT count(*) FROM readings") == [(11,)]


def test_retry_after_is_honoured(camera: CameraServer, config):
    camera.behaviours["2024-06010902.jpg"] = "429-once"
    t0 = time.monotonic()
    result = cielo("backfill", "--from", "2024-06-01T12:02Z", "--to", "2024-06-01T12:02Z", config=config())
    assert summary(result) == "skycam: total=1 new=1 duplicates=0 failed=0"
    assert time.monotonic() - t0 >= 1.0  # Retry-After: 1


def test_night_frames_are_flagged_not_zero(camera: CameraServer, config, tmp_path: Path):
    cfg = config(device={"latitude": 40.4, "longitude": -3.7})  # Madrid: night around 00:00Z in June
    for minute in (2, 12, 22):  # 00:02Z is 21:02 the day before in Buenos Aires (the camera's names)
        camera.behaviours[f"2024-053121{minute:02d}.jpg"] = "dim"
    result = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T00:59Z", config=cfg)
    assert summary(result) == "skycam: total=6 new=6 duplicates=0 failed=0"
    night = rows(tmp_path / "cielo.db", "SELECT octas IS NULL, flag, sun_elevation < -6 FROM octas ORDER BY ts")
    # Dim night frames are flagged; bright ones (a long-exposure night camera, like SWINSEG) are judged.
    assert night[:3] == [(1, "night", 1)] * 3
    assert all(no_octas == 0 and flag in (None, "uncertain") and dark for no_octas, flag, dark in night[3:]), night


def test_unreachable_camera_fails_the_run(config, tmp_path: Path):
    cfg = config(skycam={"base_url": "http://127.0.0.1:9/image", "retries": 0})
    result = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T05:59Z", config=cfg)
    assert result.returncode == 1
    assert summary(result) == "skycam: total=36 new=0 duplicates=0 failed=36"
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line and "cannot connect" in line]
    assert 1 <= len(warnings) <= 5  # a few examples, not a line per slot


def test_usage_errors_are_one_line_exit_2(camera: CameraServer, config):
    cfg = config()
    cases = [
        (("--from", "2024-06-02", "--to", "2024-06-01"), "is before --from"),
        (("--from", "2024-06-01", "--to", "2024-13-01"), "--to"),
        (("--from", "01/06/2024", "--to", "2024-06-02"), "--from"),
        (("--from", "2024-06-01", "--to", "2024-06-02", "--source", "radar"), "unknown source 'radar'"),
        (("--from", "2024-06-01"), "required: --to"),
    ]
    for args, message in cases:
        result = cielo("backfill", *args, config=cfg)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert camera.total_requests == 0


def test_disabled_source_is_refused(config):
    result = cielo("backfill", "--from", "2024-06-01", "--to", "2024-06-02", config=config(skycam={"enabled": False}))
    assert result.returncode == 2 and "disabled" in result.stderr


def test_dry_run_changes_nothing(camera: CameraServer, config, tmp_path: Path):
    cfg = config()
    cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T05:59Z", config=cfg)
    requests = camera.total_requests
    result = cielo("backfill", "--dry-run", *TWO_DAYS, config=cfg)
    assert result.returncode == 0
    assert "288 slots, 36 already stored" in result.stdout and "252 requests" in result.stdout
    assert camera.total_requests == requests
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings") == [(36,)]


def test_two_backfills_at_once_store_each_slot_once(camera: CameraServer, config, tmp_path: Path):
    cfg = config()
    cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", *TWO_DAYS]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    news = [int(out.strip().splitlines()[-1].split("new=")[1].split()[0]) for out, _ in outs]
    assert sum(news) == 288
    assert rows(tmp_path / "cielo.db", "SELECT count(*), count(DISTINCT ts) FROM readings") == [(288, 288)]


@pytest.mark.slow  # a long subprocess run: .ci/run's slow step runs it
def test_ctrl_c_keeps_what_was_committed(config, tmp_path: Path):
    with CameraServer(latency_s=0.05) as slow:
        cfg = config(skycam={"base_url": slow.base_url, "workers": 2})
        cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", *TWO_DAYS]
        # Ctrl-C as a terminal sends it: the child must not inherit an ignored SIGINT (a test run started in
        # the background, `nohup ... &`, ignores it, and Python then never raises KeyboardInterrupt)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 30
        while slow.total_requests < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, (out, err)
        assert "Traceback" not in err and "interrupted" in err
        line = out.strip().splitlines()[-1]
        new = int(line.split("new=")[1].split()[0])
        assert 0 < new < 288
        assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings") == [(new,)]
        rest = cielo("backfill", *TWO_DAYS, config=cfg)
        assert summary(rest) == f"skycam: total=288 new={288 - new} duplicates={new} failed=0"


def test_future_slots_are_not_asked(camera: CameraServer, config, tmp_path: Path):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    start = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%MZ")
    end = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%MZ")
    result = cielo("backfill", "--from", start, "--to", end, config=config())
    assert result.returncode == 0, result.stderr
    stored = rows(tmp_path / "cielo.db", "SELECT max(ts), count(*) FROM readings")[0]
    assert stored[0] <= now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert 11 <= stored[1] <= 13 and camera.total_requests == stored[1]
    assert summary(result) == f"skycam: total={stored[1]} new={stored[1]} duplicates=0 failed=0"


def test_a_range_ending_now_keeps_the_slot_of_this_second(camera: CameraServer, config, tmp_path: Path):
    """`--to` this minute, run within the first second of a slot: the range ends at now, and the slot that began
    a fraction of a second ago is in it (the task's end was kept to the second, dropping it: a 90 for 91 in one
    CI run)."""
    camera.current_year = 2024  # this run's clock says 2024: its frames are at the root
    fake = clean_env(CIELO_FAKE_NOW="2024-06-01T12:02:00.400Z")
    result = cielo("backfill", "--from", "2024-06-01T11:50Z", "--to", "2024-06-01T12:02Z", config=config(),
                   env=fake)
    assert result.returncode == 0, result.stderr
    assert summary(result) == "skycam: total=2 new=2 duplicates=0 failed=0"
    assert rows(tmp_path / "cielo.db", "SELECT ts FROM readings ORDER BY ts") == [
        ("2024-06-01T11:52:00Z",), ("2024-06-01T12:02:00Z",)]


@pytest.mark.parametrize("table", ["skycam", "storage"])
def test_images_are_saved_when_asked(camera: CameraServer, config, tmp_path: Path, table: str):
    """The keys are [skycam]'s; [storage]'s (where the published contract puts them) work the same, silently."""
    cfg = config(**{table: {"keep_images": True, "images_dir": str(tmp_path / "images")}})
    result = cielo("backfill", "--from", "2024-06-01T12:00Z", "--to", "2024-06-01T12:59Z", config=cfg)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr.lower(), result.stderr
    saved = sorted((tmp_path / "images" / "2024" / "06" / "01").iterdir())
    assert [p.name for p in saved] == [f"2024-060109{m}2.jpg" for m in range(6)]
    assert saved[0].read_bytes() == camera.image_for(saved[0].name)


def test_progress_bar_on_a_terminal(camera: CameraServer, config):
    import os
    import pty

    master, slave = pty.openpty()
    cmd = [sys.executable, "-m", "cielo", "--config", str(config()), "backfill", *TWO_DAYS]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, text=True, env=clean_env())
    os.close(slave)
    out, _ = proc.communicate(timeout=60)
    screen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(master)
    assert proc.returncode == 0
    assert b"\rskycam [##############################] 288/288 new=288" in screen
    assert out.strip().splitlines()[-1] == "skycam: total=288 new=288 duplicates=0 failed=0"


def test_a_range_with_known_gaps_succeeds_again(camera: CameraServer, config):
    """A camera that has no images at some times: the second run asks nothing and is still a success."""
    cfg = config()
    for minute in ("02", "12", "22"):
        camera.behaviours[f"2024-060109{minute}.jpg"] = "404"
    first = cielo("backfill", *HOUR_RANGE, config=cfg)
    assert first.returncode == 0 and summary(first) == "skycam: total=6 new=3 duplicates=0 failed=3"
    second = cielo("backfill", *HOUR_RANGE, config=cfg)
    assert second.returncode == 0 and summary(second) == "skycam: total=6 new=0 duplicates=3 failed=3"


def test_workers_on_the_command_line_size_the_connection_pool(config):
    """`--workers 8` with `[skycam] workers = 2`: eight threads fetch at once, so the pool must keep eight
    connections (urllib3 said "Connection pool is full, discarding connection" for each extra one)."""
    with CameraServer(latency_s=0.02) as slow:  # slow enough that eight requests are in flight together
        cfg = config(skycam={"base_url": slow.base_url, "workers": 2})
        result = cielo("backfill", "--workers", "8", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T07:59Z",
                       config=cfg)
    assert result.returncode == 0, result.stderr
    assert summary(result) == "skycam: total=48 new=48 duplicates=0 failed=0"
    assert "Connection pool is full" not in result.stderr, result.stderr[:500]
