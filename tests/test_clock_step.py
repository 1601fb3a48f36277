"""A wall clock that steps back (NTP correcting a wrong boot clock) no longer stalls the daemon for the size of
the step: the step is seen against the monotonic clock and every next run recomputed. The daemon runs under
libfaketime (Debian's `faketime`; .ci/run installs it), whose wall clock this test steps by writing a file."""

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
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from cielo.service import clockstep
from cielo.sources.skycam.source import SkycamSource
from tests.conftest import clean_env

FAKETIME = next((p for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                             "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1") if os.path.exists(p)), None)


def pings(sock: socket.socket, seconds: float, until=lambda got: False) -> list[str]:
    """Datagrams for `seconds`, or until `until(got)`."""
    got, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline and not until(got):
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return got


@pytest.mark.skipif(FAKETIME is None, reason="libfaketime is not installed (apt-get install faketime; .ci/run does)")
def test_watchdog_pings_go_on_after_the_wall_clock_steps_back(config, tmp_path: Path):
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    fake = tmp_path / "faketime"
    fake.write_text("+0\n")
    env = clean_env(NOTIFY_SOCKET=address, WATCHDOG_USEC="2000000", CIELO_CLOCK_SYNCED="yes", LD_PRELOAD=FAKETIME,
                    FAKETIME_TIMESTAMP_FILE=str(fake), FAKETIME_NO_CACHE="1", FAKETIME_DONT_FAKE_MONOTONIC="1")
    # No live jobs: their child processes would run under libfaketime too, whose timed waits misbehave there.
    proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(config(skycam={"enabled": False})), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert any("READY=1" in g for g in pings(sock, 15, lambda got: "WATCHDOG=1" in got)), "no start"
        for step in ("-3600", "-94608000"):  # an hour back, then three years more
            fake.write_text(f"{step}\n")
            got = pings(sock, 8, lambda got: got.count("WATCHDOG=1") >= 3)
            assert got.count("WATCHDOG=1") >= 3, (step, got)  # every second again within the check period
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        sock.close()
    assert "the wall clock stepped back by 1:00:00" in out, out
    assert "the wall clock stepped back by 1095 days" in out, out
    assert "Traceback" not in out, out


def test_a_capture_schedule_is_recomputed_from_the_new_wall_time(config):
    """The camera's own cron job (every 10 minutes) in a real scheduler: after a step back of a day, its next
    run is the next camera minute of the new time, not a day away."""
    from cielo.sources import registry

    settings = registry.load_settings(str(config()))
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(print, CronTrigger(**SkycamSource.schedule(settings)), id="skycam")
    scheduler.add_job(print, "interval", seconds=90, id="watchdog")
    scheduler.start(paused=True)
    try:
        before = {j.id: j.next_run_time for j in scheduler.get_jobs()}
        back = datetime.now(UTC) - timedelta(days=1)
        assert clockstep.reschedule(scheduler, back) == 2
        after = {j.id: j.next_run_time for j in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert before["skycam"] - back > timedelta(hours=23)
    assert timedelta(0) < after["skycam"] - back <= timedelta(minutes=10)
    assert after["watchdog"] - datetime.now(UTC) <= timedelta(seconds=91)
