#!/usr/bin/env python3
"""The daemon's own footprint; prints figures (not a test).

Starts `cielo run` against a loopback camera in its own process, with every registered source enabled, a
NOTIFY_SOCKET of ours and MQTT off, and reports: start to READY=1 (process spawn included), RSS after the
first live run, and CPU while idle averaged over `--idle-s` seconds (the daemon and its live-run children,
from /proc: utime+stime, children reaped included).

    python -m bench.daemon [--idle-s 60]

Targets (2-core machine): READY <= 3 s; idle RSS <= 80 MB; idle CPU <= 1 %.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / TICK


def rss_mb(pid: int) -> float:
    return int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--idle-s", type=float, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        camera = subprocess.Popen([sys.executable, "-m", "tests.support.camserver"], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True)
        port = camera.stdout.readline().split()[1]
        cfg = tmp / "c.toml"
        # Every source enabled (AEMET and OpenWeatherMap with dummy keys: without a network their runs fail
        # in one line, which is what an idle board without internet does); no catch-up, so "idle" is idle.
        cfg.write_text(f'[storage]\ndatabase = "{tmp / "c.db"}"\n'
                       f'[skycam]\nbase_url = "http://127.0.0.1:{port}/image"\n'
                       '[backfill]\non_startup = false\n'
                       '[sources.aemet]\napi_key = "dummy"\n[sources.openweather]\napi_key = "dummy"\n'
                       '[sources.ree]\nenabled = true\n[sources.openmeteo]\nenabled = true\n')
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(tmp / "notify"))
        sock.settimeout(30)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NOTIFY_SOCKET": str(tmp / "notify")}
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while b"READY=1" not in sock.recv(4096):
                pass
            ready_s = time.monotonic() - t0
            while not sock.recv(4096).startswith(b"STATUS=skycam"):
                pass
            time.sleep(10)  # the other sources' first runs
            rss = rss_mb(proc.pid)
            c0, w0 = cpu_s(proc.pid), time.monotonic()
            time.sleep(args.idle_s)
            idle_cpu = (cpu_s(proc.pid) - c0) / (time.monotonic() - w0) * 100
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            camera.terminate()
    print(f"start to READY=1: {ready_s:.2f} s")
    print(f"RSS after the first live run: {rss:.0f} MB")
    print(f"CPU while idle over {args.idle_s:.0f} s (daemon + live-run children): {idle_cpu:.2f} %")


if __name__ == "__main__":
    main()
