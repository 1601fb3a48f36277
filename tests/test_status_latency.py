"""`cielo status` shows how late the newest live capture was stored (slot to stored), not a backfill's age."""

from __future__ import annotations

import json

from tests.conftest import cielo
from tests.support.camserver import CameraServer


def test_live_latency_in_status(camera: CameraServer, config):
    cfg = config()
    cielo("backfill", "--from", "2024-06-01T12:00Z", "--to", "2024-06-01T12:59Z", config=cfg)
    (series,) = json.loads(cielo("status", "--json", config=cfg).stdout)["series"]
    assert series["live_latency_s"] is None  # a reading stored long after its slot is history, not a capture
    assert cielo("ingest", config=cfg).returncode == 0
    (series,) = json.loads(cielo("status", "--json", config=cfg).stdout)["series"]
    # The newest slot the camera has by now (60 s upload delay, a slot every 10 min), stored at once.
    assert 60 <= series["live_latency_s"] <= 11 * 60, series
    text = cielo("status", config=cfg).stdout
    assert "after its slot" in text
