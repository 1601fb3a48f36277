from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cielo.astro import sun
from cielo.errors import UsageError
from cielo.timeutil import iso, parse_cli_time

MADRID = ZoneInfo("Europe/Madrid")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01", "2024-12-31T23:00:00Z"),
        ("2025-07-01T12:30", "2025-07-01T10:30:00Z"),
        ("2025-07-01 12:30", "2025-07-01T10:30:00Z"),
        ("2025-07-01T12:30Z", "2025-07-01T12:30:00Z"),
        ("2025-07-01T12:30+02:00", "2025-07-01T10:30:00Z"),
        ("2025-07-01T12:30:15-0300", "2025-07-01T15:30:15Z"),
    ],
)
def test_cli_times(text: str, expected: str):
    assert iso(parse_cli_time(text, MADRID)) == expected


@pytest.mark.parametrize("text", ["2025-13-01", "someday", "-2x", "2025-01-01T25:00", "01/02/2025", ""])
def test_bad_cli_times(text: str):
    with pytest.raises(UsageError, match="--from"):
        parse_cli_time(text, MADRID, "--from")


@pytest.mark.parametrize(
    ("when", "lat", "lon", "expected"),
    [
        # Solar noon at the June solstice: 90 - latitude + 23.44.
        (datetime(2024, 6, 20, 12, 16, tzinfo=UTC), 40.4168, -3.7038, 73.0),
        # Equator at the March equinox near solar noon (equation of time ~ -7.5 min): almost overhead.
        (datetime(2024, 3, 20, 12, 7, 30, tzinfo=UTC), 0.0, 0.0, 89.9),
        # Río Grande at local midsummer solar noon (~16:30Z): 90 - 53.8 + 23.4.
        (datetime(2024, 12, 21, 16, 29, tzinfo=UTC), -53.785, -67.751, 59.7),
    ],
)
def test_sun_elevation_against_geometry(when: datetime, lat: float, lon: float, expected: float):
    assert sun.elevation(when, lat, lon) == pytest.approx(expected, abs=0.3)


def test_night_and_day_in_madrid():
    assert sun.is_night(datetime(2024, 6, 1, 0, 2, tzinfo=UTC), 40.4, -3.7)
    assert not sun.is_night(datetime(2024, 6, 1, 12, 2, tzinfo=UTC), 40.4, -3.7)
    # Civil dusk in Madrid on 2024-06-01 ends about 20:15Z (NOAA): 20:30Z is night, 19:30Z is not.
    assert sun.is_night(datetime(2024, 6, 1, 20, 32, tzinfo=UTC), 40.4, -3.7)
    assert not sun.is_night(datetime(2024, 6, 1, 19, 32, tzinfo=UTC), 40.4, -3.7)
