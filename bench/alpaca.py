#!/usr/bin/env python3
"""The Alpaca server's latency and the daemon's memory with it on; prints figures (not a test).

Starts `cielo run` with `[alpaca] enabled` on a free port of 127.0.0.1 against a loopback camera (MQTT off,
no catch-up), waits for its first capture, reads its idle RSS, then asks `IsSafe` at a steady `--rate` per
second for `--seconds` (one connection per request, as N.I.N.A. and ConformU's HttpClient may), timing each
answer from connect to the last byte, and reads the RSS again. With `--compare`, the same daemon with the
server off first, for the difference.

    python -m bench.alpaca [--rate 50] [--seconds 20] [--compare]

Targets: p99 <= 20 ms at 50 IsSafe/s; the daemon's idle RSS with the server on <= 50 MB.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    return int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(tmp: Path, camera_port: str, alpaca: bool, port: int) -> subprocess.Popen:
    cfg = tmp / f"c-{int(alpaca)}.toml"
    cfg.write_text(f'[storage]\ndatabase = "{tmp / f"c-{int(alpaca)}.db"}"\n'
                   f'[skycam]\nbase_url = "http://127.0.0.1:{camera_port}/image"\nauto_calibrate = false\n'
                   '[backfill]\non_startup = false\n'
                   '[sources.ree]\nenabled = false\n[sources.openmeteo]\nenabled = false\n'
                   f'[alpaca]\nenabled = {str(alpaca).lower()}\nbind = "127.0.0.1"\nport = {port}\n'
                   'discovery_port = 0\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_capture(proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the daemon stopped")
        if re.search(r"skycam \S+: ", line):
            return
    raise SystemExit("no capture within 60 s")


def is_safe(port: int, n: int) -> float:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", f"/api/v1/safetymonitor/0/issafe?ClientID=1&ClientTransactionID={n}")
    r = conn.getresponse()
    body = r.read()
    conn.close()
    if r.status != 200 or b'"ErrorNumber":0' not in body:
        raise SystemExit(f"bad answer: {r.status} {body[:200]!r}")
    return (time.perf_counter() - t0) * 1000


def idle_rss(tmp: Path, camera_port: str, alpaca: bool, port: int) -> tuple[subprocess.Popen, float]:
    proc = start(tmp, camera_port, alpaca, port)
    wait_capture(proc)
    time.sleep(3)
    return proc, rss_mb(proc.pid)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--compare", action="store_true", help="measure the daemon with the server off too")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        camera = subprocess.Popen([sys.executable, "-m", "tests.support.camserver"], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True)
        camera_port = camera.stdout.readline().split()[1]
        try:
            if args.compare:
                proc, off = idle_rss(tmp, camera_port, False, free_port())
                proc.terminate()
                proc.wait(timeout=30)
                print(f"daemon idle RSS, Alpaca off: {off:.1f} MB")
            port = free_port()
            proc, on = idle_rss(tmp, camera_port, True, port)
            try:
                times = []
                step = 1 / args.rate
                next_at = time.perf_counter()
                for n in range(int(args.rate * args.seconds)):
                    times.append(is_safe(port, n + 1))
                    next_at += step
                    time.sleep(max(0.0, next_at - time.perf_counter()))
                after = rss_mb(proc.pid)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        finally:
            camera.terminate()
    times.sort()
    p = statistics.quantiles(times, n=100)
    print(f"daemon idle RSS, Alpaca on: {on:.1f} MB (after the run: {after:.1f} MB)")
    print(f"IsSafe at {args.rate:g}/s for {args.seconds:g} s ({len(times)} requests): "
          f"p50 {statistics.median(times):.2f} ms, p99 {p[98]:.2f} ms, max {times[-1]:.2f} ms")


if __name__ == "__main__":
    main()
