"""The safety state machine driven with explicit times: hysteresis and every way it fails closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from cielo.config import SafetyConfig
from cielo.safety.machine import Conditions, Frame, SafetyMachine

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
CADENCE = timedelta(minutes=10)
NIGHT = Conditions(sun_elevation=-20.0)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def machine(**cfg) -> SafetyMachine:
    return SafetyMachine(SafetyConfig(**cfg), CADENCE, started=T0 - timedelta(minutes=1))


def frame(at: float, octas: float | None, flag: str | None = None) -> Frame:
    return Frame(minutes(at), octas, flag, stored=minutes(at) + timedelta(seconds=20))


def test_clear_overcast_clear_is_unsafe_at_once_and_safe_only_after_the_delay():
    m = machine()  # unsafe_octas 4, safe_octas 2, safe_after_min 15
    m.feed(frame(0, 0))
    v = m.judge(minutes(1), NIGHT)
    assert not v.safe and v.reason == "clear since 2026-11-20T03:00:00Z: safe at 2026-11-20T03:15:00Z"
    m.feed(frame(10, 1))
    assert not m.judge(minutes(14.9), NIGHT).safe
    assert m.judge(minutes(15), NIGHT).safe  # 15 minutes of clear frames
    m.feed(frame(20, 6))  # overcast: unsafe on the very frame
    v = m.judge(minutes(20), NIGHT)
    assert not v.safe and v.reason == "octas 6 >= 4"
    m.feed(frame(30, 0))
    assert m.judge(minutes(30), NIGHT).reason == "clear since 2026-11-20T03:30:00Z: safe at 2026-11-20T03:45:00Z"
    m.feed(frame(40, 2))
    assert not m.judge(minutes(44), NIGHT).safe
    v = m.judge(minutes(45), NIGHT)
    assert v.safe and v.reason == "clear (octas <= 2) since 2026-11-20T03:30:00Z"


def test_broken_cloud_between_the_thresholds_neither_opens_nor_closes():
    m = machine(safe_after_min=0)
    m.feed(frame(0, 1))
    assert m.judge(minutes(0), NIGHT).safe
    assert m.judge(minutes(5), NIGHT).reason == "clear (octas <= 2) since 2026-11-20T03:00:00Z"  # stable
    m.feed(frame(10, 3))  # between safe_octas 2 and unsafe_octas 4: stays safe
    assert m.judge(minutes(10), NIGHT).reason == "octas 3 < 4"
    m.feed(frame(20, 4))
    assert not m.judge(minutes(20), NIGHT).safe
    m.feed(frame(30, 3))  # and stays unsafe: 3 is not clear enough to count
    v = m.judge(minutes(30), NIGHT)
    assert not v.safe and v.reason == "octas 3 > 2: waiting for a clear sky"
    m.feed(frame(40, 2))
    assert m.judge(minutes(40), NIGHT).safe


def test_no_frame_newer_than_max_age_is_unsafe_default_three_cadences():
    m = machine(safe_after_min=0)
    m.feed(frame(0, 0))
    assert m.judge(minutes(30), NIGHT).safe
    v = m.judge(minutes(30.1), NIGHT)
    assert not v.safe and v.reason == "no frame since 2026-11-20T03:00:00Z (max 30 min)"
    m2 = machine(safe_after_min=0, max_age_min=12)
    m2.feed(frame(0, 0))
    assert not m2.judge(minutes(12.5), NIGHT).safe


def test_a_gap_in_the_frames_restarts_the_clear_run():
    m = machine(safe_after_min=15)
    m.feed(frame(0, 0))
    m.feed(frame(10, 0))
    m.feed(frame(50, 0))  # 40 minutes without frames (> max_age): the camera was away
    v = m.judge(minutes(51), NIGHT)
    assert not v.safe and "clear since 2026-11-20T03:50:00Z" in v.reason


def test_until_a_frame_arrives_after_the_start_it_is_unsafe():
    m = SafetyMachine(SafetyConfig(safe_after_min=0), CADENCE, started=minutes(5))
    assert m.judge(minutes(5), NIGHT).reason == "no judged frame yet"
    m.feed(frame(0, 0), news=False)  # stored before the daemon started: history, not news
    v = m.judge(minutes(6), NIGHT)
    assert not v.safe and v.reason == "starting: no frame since 2026-11-20T03:05:00Z"
    m.feed(frame(10, 0))
    assert m.judge(minutes(10.5), NIGHT).safe


@pytest.mark.parametrize(("flag", "octas", "key", "reason"), [
    ("uncertain", 0, "uncertain_safe", "frame 2026-11-20T03:10:00Z uncertain"),
    ("dark", None, "dark_safe", "frame 2026-11-20T03:10:00Z dark"),
    ("night", None, "dark_safe", "frame 2026-11-20T03:10:00Z night"),
])
def test_uncertain_and_dark_frames_are_unsafe_unless_configured(flag, octas, key, reason):
    m = machine(safe_after_min=0)
    m.feed(frame(0, 0))
    m.feed(frame(10, octas, flag))
    v = m.judge(minutes(10), NIGHT)
    assert not v.safe and v.reason == reason
    allowed = machine(safe_after_min=0, **{key: True})
    allowed.feed(frame(0, 0))
    allowed.feed(frame(10, octas, flag))
    assert allowed.judge(minutes(10), NIGHT).safe


def test_invalid_frames_are_always_unsafe():
    m = machine(safe_after_min=0, uncertain_safe=True, dark_safe=True)
    m.feed(frame(0, None, "invalid"))
    assert m.judge(minutes(0), NIGHT).reason == "frame 2026-11-20T03:00:00Z invalid"


def test_daylight_camera_failures_and_rain_close_it():
    m = machine(safe_after_min=0)
    m.feed(frame(0, 0))
    assert m.judge(minutes(1), NIGHT).safe
    assert m.judge(minutes(1), Conditions(sun_elevation=12.3)).reason == "daylight (sun 12° up)"
    assert machine_safe_in_daylight()
    v = m.judge(minutes(1), Conditions(camera_error="skycam: failed: not found (404)", sun_elevation=-20))
    assert not v.safe and v.reason == "camera unreachable: skycam: failed: not found (404)"
    assert m.judge(minutes(1), Conditions(camera_enabled=False)).reason == "camera disabled"
    assert m.judge(minutes(1), Conditions(rain_mm=0.4, sun_elevation=-20)).reason == "rain in the last hour (0.4 mm)"
    # A passing condition (rain an hour long, the day) does not restart the clear run: the frames decide.
    m2 = machine(safe_after_min=15)
    m2.feed(frame(0, 0))
    m2.feed(frame(10, 0))
    assert m2.judge(minutes(16), NIGHT).safe
    assert not m2.judge(minutes(17), Conditions(rain_mm=1.0, sun_elevation=-20)).safe
    assert m2.judge(minutes(18), NIGHT).safe


def machine_safe_in_daylight() -> bool:
    m = machine(safe_after_min=0, daylight_safe=True)
    m.feed(frame(0, 0))
    return m.judge(minutes(1), Conditions(sun_elevation=40)).safe


def test_thresholds_must_leave_a_band():
    with pytest.raises(ValidationError, match="safe_octas"):
        SafetyConfig(unsafe_octas=3, safe_octas=3)
