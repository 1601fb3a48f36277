#!/usr/bin/env python3
"""Memory of the daemon's whole process tree over a start with a catch-up; prints figures (not a test).

Starts `cielo run` against a loopback camera (and a loopback Mosquitto, MQTT on) with an empty database, a
catch-up on start over `--days` and a camera that uploads every minute (`minutes` = 0..59, `delay_s` = 0), so
that a live capture comes due while the catch-up runs: the daemon is started `--lead-s` seconds before a
minute turns. No camera budget (`requests_per_minute = 0`: the user's own camera). /proc is sampled every
10 ms: the tree's total RSS (the daemon and every descendant), each child's peak by kind (live `ingest`,
catch-up `jobs run`) and how many children ran at once. After the catch-up it waits `--idle-s` seconds and
reports the daemon's idle RSS. Each live capture's end-to-end latency, from its slot minute to stored
(`ingested_at`) and to published (the retained message reaching a subscriber), is printed for the captures
the cron fired (the one at start is for a slot already past).

    python -m bench.daemon_tree [--days 2] [--idle-s 15] [--lead-s 8]

Targets (2-core machine): tree peak <= 150 MB; any backfill process <= 100 MB; idle <= 45 MB; the
live latency must not grow.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.support.broker import Broker, Subscriber

ROOT = Path(__file__).resolve().parents[1]

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def children_of() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry))
    return out


def tree(root: int) -> list[int]:
    kids = children_of()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out


def rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB / 1024
    except (OSError, IndexError):
        return 0.0


def kind(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    if b"ingest" in argv:
        return "live capture child (ingest)"
    if b"jobs" in argv:
        return "catch-up child (jobs run)"
    return "other"


class Sampler(threading.Thread):
    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.peak_tree = 0.0
        self.peak_daemon = 0.0
        self.peak_kind: dict[str, float] = {}
        self.most_children = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            pids = tree(self.root)
            sizes = {pid: rss_mb(pid) for pid in pids}
            self.peak_tree = max(self.peak_tree, sum(sizes.values()))
            self.peak_daemon = max(self.peak_daemon, sizes.get(self.root, 0.0))
            self.most_children = max(self.most_children, sum(1 for pid in pids[1:] if sizes[pid]))  # not zombies
            for pid in pids[1:]:
                k = kind(pid)
                if sizes[pid]:
                    self.peak_kind[k] = max(self.peak_kind.get(k, 0.0), sizes[pid])
            time.sleep(0.01)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=2)
    ap.add_argument("--idle-s", type=float, default=15)
    ap.add_argument("--lead-s", type=float, default=8, help="start this long before a minute turns")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        camera = subprocess.Popen([sys.executable, "-m", "tests.support.camserver"], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True)
        port = camera.stdout.readline().split()[1]
        broker = Broker(tmp).start()
        sub = Subscriber(broker.port, "cielo/bench/skycam/octas")
        arrivals: list[tuple[float, str]] = []
        sub.client.on_message = lambda _c, _u, m: arrivals.append((time.time(), m.payload.decode()))
        db = tmp / "c.db"
        cfg = tmp / "c.toml"
        cfg.write_text(f'[device]\nid = "bench"\n[storage]\ndatabase = "{db}"\n'
                       f'[skycam]\nbase_url = "http://127.0.0.1:{port}/image"\ntimezone = "UTC"\n'
                       f'minutes = {list(range(60))}\ndelay_s = 0\nrequests_per_minute = 0\n'
                       f'[backfill]\non_startup = true\nlookback_days = {args.days}\n'
                       f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker.port}\n')
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("NOTIFY_SOCKET", None)
        time.sleep((60 - args.lead_s - time.time() % 60) % 60)  # so a minute turns `lead_s` after the start
        t0 = time.time()
        proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], env=env,
                                stdout=subprocess.DEVNULL, stderr=(tmp / "log").open("w"))
        sampler = Sampler(proc.pid)
        sampler.start()
        try:
            deadline = time.time() + float(os.environ.get("BENCH_TIMEOUT_S", "600"))
            done_at = None
            while time.time() < deadline:
                time.sleep(0.2)
                if not db.exists():
                    continue
                try:
                    with sqlite3.connect(db, timeout=5) as con:
                        finished = con.execute("SELECT count(*) FROM events WHERE kind = 'backfill_finished'"
                                               ).fetchone()[0]
                except sqlite3.Error:
                    continue
                if finished and done_at is None:
                    done_at = time.time()
                cron = [a for a in arrivals if a[0] > t0 + args.lead_s]
                if done_at is not None and cron and time.time() > done_at + 1:
                    break
            else:
                raise SystemExit("bench: the catch-up did not finish in time:\n" + (tmp / "log").read_text()[-3000:])
            catch_up_s = done_at - t0
            tree_peak, kinds, most = sampler.peak_tree, dict(sampler.peak_kind), sampler.most_children
            time.sleep(args.idle_s)
            idle = rss_mb(proc.pid)
            with sqlite3.connect(db) as con:
                stored = dict(con.execute("SELECT ts, ingested_at FROM readings WHERE series = 'skycam.octas'"
                                          " AND ts >= ?", (datetime.fromtimestamp(t0 + args.lead_s - 1, UTC)
                                                           .strftime("%Y-%m-%dT%H:%M:%SZ"),)).fetchall())
                rows = con.execute("SELECT count(*) FROM readings").fetchone()[0]
            log = (tmp / "log").read_text()
        finally:
            sampler.halt.set()
            proc.terminate()
            proc.wait(timeout=60)
            sub.client.loop_stop()
            broker.stop()
            camera.terminate()

    def ts_of(text: str) -> float:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()

    print(f"catch-up of {args.days:g} days at one image a minute: {rows} readings, done {catch_up_s:.1f} s "
          "after the start")
    print(f"daemon tree peak RSS over the start with catch-up: {tree_peak:.0f} MB "
          f"(at most {most} child(ren) at once)")
    for k, v in sorted(kinds.items()):
        print(f"  {k}: peak {v:.0f} MB")
    print(f"  daemon itself: peak {sampler.peak_daemon:.0f} MB")
    print(f"daemon idle RSS {args.idle_s:g} s after the catch-up: {idle:.0f} MB")
    lat_store = [ts_of(at) - ts_of(ts) for ts, at in stored.items()]
    lat_pub = []
    for when, payload in arrivals:
        ts = ts_of(json.loads(payload)["ts"])
        if ts >= t0 + args.lead_s - 1:
            lat_pub.append(when - ts)
    if lat_store:
        print(f"live capture latency, slot minute to stored: {statistics.median(lat_store):.2f} s median "
              f"over {len(lat_store)} capture(s) ({', '.join(f'{x:.2f}' for x in lat_store)})")
    if lat_pub:
        print(f"live capture latency, slot minute to published: {statistics.median(lat_pub):.2f} s median "
              f"over {len(lat_pub)} capture(s) ({', '.join(f'{x:.2f}' for x in lat_pub)})")
    print(f"job child paused for a live run: {log.count('paused for a live run')} time(s)")
    if "Traceback" in log:
        print(log[-3000:])


if __name__ == "__main__":
    main()
