from __future__ import annotations

import re
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cielo.config import Settings
from cielo.sources.skycam.source import SkycamSource
from cielo.timeutil import iso
from tests.conftest import cielo
from tests.support.camserver import CameraServer

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def source(**skycam) -> SkycamSource:
    # the camera's request budget lives in the database: keep it out of the working directory
    database = Path(tempfile.mkdtemp(prefix="cielo-test-")) / "cielo.db"
    return SkycamSource(Settings.model_validate({"storage": {"database": str(database)}, "skycam": skycam}))


def test_six_slots_an_hour_at_the_camera_minutes():
    s = source()
    slots = s.slots(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 3, tzinfo=UTC))
    assert len(slots) == 288
    assert {t.minute for t in slots} == {2, 12, 22, 32, 42, 52}
    assert slots == sorted(slots)


def test_urls_follow_year_dir_in_camera_time():
    s = source(base_url="http://cam/image", timezone="America/Argentina/Buenos_Aires")
    # 01:02Z on Jan 1st is 22:02 on Dec 31st in Buenos Aires: the name and the year folder are local.
    slot = datetime(2025, 1, 1, 1, 2, tzinfo=UTC)
    assert s.url_for(slot, NOW) == "http://cam/image/2024/2024-12312202.jpg"
    assert s.url_for(datetime(2025, 3, 1, 15, 12, tzinfo=UTC), NOW) == "http://cam/image/2025-03011212.jpg"
    always = source(base_url="http://cam/image", year_dir="always", timezone="UTC")
    assert always.url_for(datetime(2025, 3, 1, 15, 12, tzinfo=UTC), NOW) == "http://cam/image/2025/2025-03011512.jpg"
    never = source(base_url="http://cam/image/", year_dir="never", timezone="UTC")
    assert never.url_for(datetime(2019, 3, 1, 15, 12, tzinfo=UTC), NOW) == "http://cam/image/2019-03011512.jpg"


def test_dst_days_in_a_camera_with_dst():
    s = source(timezone="Europe/Madrid")
    spring = s.slots(datetime(2025, 3, 29, 23, tzinfo=UTC), datetime(2025, 3, 30, 22, tzinfo=UTC))  # 23 h
    assert len(spring) == 23 * 6
    autumn = s.slots(datetime(2025, 10, 25, 22, tzinfo=UTC), datetime(2025, 10, 26, 23, tzinfo=UTC))  # 25 h
    names = [s.url_for(t, NOW) for t in autumn]
    # 02:00-03:00 local happens twice; its file names exist once, so the repeated hour is not asked twice.
    assert len(names) == len(set(names)) == 24 * 6


def test_half_hour_zone_keeps_local_minutes():
    s = source(timezone="Asia/Kolkata")  # UTC+05:30
    slots = s.slots(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, 1, tzinfo=UTC))
    assert [t.minute for t in slots] == [2, 12, 22, 32, 42, 52]  # local :32, :42, ... :22 of the next hour
    assert sorted(t.astimezone(s.tz).minute for t in slots) == [2, 12, 22, 32, 42, 52]


def test_live_range_is_the_newest_uploaded_slot():
    s = source(delay_s=90)
    start, end = s.live_range(datetime(2025, 6, 15, 12, 13, 0, tzinfo=UTC))
    assert iso(start) == "2025-06-15T12:02:00Z" and end - start == timedelta(seconds=1)
    start, _ = s.live_range(datetime(2025, 6, 15, 12, 13, 31, tzinfo=UTC))
    assert iso(start) == "2025-06-15T12:12:00Z"


def test_schedule_fires_after_the_delay():
    cron = SkycamSource.schedule(Settings.model_validate({"skycam": {"delay_s": 90}}))
    assert cron == {"minute": "3,13,23,33,43,53", "second": 30, "timezone": "America/Argentina/Buenos_Aires"}


def test_sky_camera_has_a_breaker_too(config):
    cfg = config(skycam={"base_url": "http://127.0.0.1:9/image", "retries": 0})
    result = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T05:59Z", "--workers", "1",
                   config=cfg)
    assert result.returncode == 1
    assert "skycam: failed slots: 31 cannot connect (circuit open, not asked), 5 cannot connect" in result.stderr
    assert re.search(r"^skycam: enabled, .* breaker open \(5 failures\)$", cielo("sources", config=cfg).stdout, re.M)


def test_fetch_threads_decode_one_at_a_time(camera: CameraServer, tmp_path: Path):
    # Decoding holds the GIL in many small numpy calls: side by side, fetch threads only fight over it.
    s = SkycamSource(Settings.model_validate({
        "storage": {"database": str(tmp_path / "cielo.db")},
        "skycam": {"base_url": camera.base_url, "timezone": "UTC", "requests_per_minute": 0}}))
    model = s.model
    real = model.decode
    lock, active, most = threading.Lock(), [0], [0]

    def decode(data: bytes):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.02)  # long enough for another thread to arrive, were decodes let through together
        try:
            return real(data)
        finally:
            with lock:
                active[0] -= 1

    model.decode = decode
    windows = s.windows(s.slots(datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 6, 1, 2, tzinfo=UTC)))
    with ThreadPoolExecutor(4) as pool:
        images = list(pool.map(lambda w: s.fetch(w, NOW), windows))
    assert len(images) == 12 and all(i.frame.pixels.shape[0] == 3 for i in images)
    assert most[0] == 1
