#!/usr/bin/env python3
"""MQTT outbox throughput; prints figures (not a test).

Queues N readings in a temporary database's outbox (as a backfill would), then starts cielo's real
publisher thread against a local Mosquitto (QoS 1) and times the drain until the outbox is empty: every
row deleted means the broker acknowledged it (PUBACK). Also times the per-capture cost of enqueuing (one
reading stored with and without the outbox, median of many).

    python -m bench.mqtt_outbox [--messages 50000]

Targets (2-core machine): >= 2,000 messages/s; enqueue overhead per capture <= 1 ms.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cielo.config import Settings
from cielo.latest import LatestState
from cielo.outputs.mqtt.publisher import Publisher
from cielo.service.runtime import announcer
from cielo.store import Reading, Store
from tests.support.broker import Broker

ROOT = Path(__file__).resolve().parents[1]

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def reading(i: int) -> Reading:
    attrs = {"confidence": 0.81, "probs": [0.0, 0.01, 0.02, 0.05, 0.81, 0.08, 0.02, 0.01, 0.0], "flag": None,
             "url": f"http://127.0.0.1/image/2020/2020-{i:08d}.jpg", "sha256": "ab" * 32, "model": "rbr-1.0.0"}
    return Reading("skycam.octas", T0 + timedelta(minutes=10 * i), 4.0, "octas", "skycam", attrs)


def enqueue_overhead_ms(tmp: Path, settings: Settings, rounds: int = 300) -> tuple[float, float]:
    plain = Store(tmp / "plain.db")
    boxed = Store(tmp / "boxed.db", announcer(settings))
    now = datetime.now(UTC)
    with_box, without = [], []
    for i in range(rounds):
        r = Reading("skycam.octas", now - timedelta(minutes=10 * (rounds - i)), 3.0, "octas", "skycam",
                    reading(i).attrs)
        t0 = time.perf_counter()
        plain.add_readings([r], now, mode="live")
        without.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        boxed.add_readings([r], now, mode="live")
        with_box.append((time.perf_counter() - t0) * 1000)
    return statistics.median(without), statistics.median(with_box)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=50_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        broker = Broker(tmp).start()
        try:
            settings = Settings.model_validate({
                "device": {"id": "bench"}, "storage": {"database": str(tmp / "c.db")},
                "mqtt": {"enabled": True, "host": "127.0.0.1", "port": broker.port, "state_interval_s": 3600,
                         "homeassistant_discovery": False, "outbox_max": args.messages * 2}})
            ann = announcer(settings)
            store = Store(tmp / "c.db", ann)
            t0 = time.perf_counter()
            for start in range(0, args.messages, 500):
                store.add_readings([reading(i) for i in range(start, min(start + 500, args.messages))],
                                   mode="backfill")
            queued_s = time.perf_counter() - t0
            depth = store.query("SELECT count(*) FROM outbox")[0][0]

            publisher = Publisher(settings, store, ann, LatestState(settings, store))
            t0 = time.perf_counter()
            publisher.start()
            while store.query("SELECT count(*) FROM outbox")[0][0] > 0:
                time.sleep(0.02)
            drain_s = time.perf_counter() - t0
            publisher.stop()
            without, with_box = enqueue_overhead_ms(tmp, settings)
        finally:
            broker.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"queued {depth} messages (readings + outbox rows) in {queued_s:.2f} s")
    print(f"drained to mosquitto at QoS 1: {depth / drain_s:.0f} messages/s ({drain_s:.2f} s, incl. connect)")
    print(f"store one live reading: {without:.3f} ms without outbox, {with_box:.3f} ms with "
          f"(overhead {with_box - without:.3f} ms)")
    print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
