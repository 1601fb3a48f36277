"""The sun's elevation for a place and instant, for the night rule.

The NOAA solar calculator's equations (Meeus, "Astronomical Algorithms", ch. 25, low-precision form):
good to about 0.01° for 1900-2100, far below what deciding "below -6°" needs.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

CIVIL_TWILIGHT_DEG = -6.0


def elevation(ts: datetime, latitude: float, longitude: float) -> float:
    """Degrees above the horizon of the sun's centre (geometric, no refraction)."""
    return position(ts, latitude, longitude)[0]


def position(ts: datetime, latitude: float, longitude: float) -> tuple[float, float]:
    """(elevation, azimuth) of the sun's centre, degrees; azimuth clockwise from north (east 90)."""
    ts = ts.astimezone(UTC)
    jd = ts.timestamp() / 86400.0 + 2440587.5
    t = (jd - 2451545.0) / 36525.0  # Julian centuries since J2000.0

    l0 = math.radians((280.46646 + t * (36000.76983 + t * 0.0003032)) % 360)
    m = math.radians(357.52911 + t * (35999.05029 - 0.0001537 * t))
    e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    c = (
        math.sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t))
        + math.sin(2 * m) * (0.019993 - 0.000101 * t)
        + math.sin(3 * m) * 0.000289
    )
    true_long = l0 + math.radians(c)
    omega = math.radians(125.04 - 1934.136 * t)
    apparent_long = true_long - math.radians(0.00569 + 0.00478 * math.sin(omega))
    eps0 = 23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60
    eps = math.radians(eps0 + 0.00256 * math.cos(omega))
    decl = math.asin(math.sin(eps) * math.sin(apparent_long))

    y = math.tan(eps / 2) ** 2
    eq_time = 4 * math.degrees(  # minutes
        y * math.sin(2 * l0)
        - 2 * e * math.sin(m)
        + 4 * e * y * math.sin(m) * math.cos(2 * l0)
        - 0.5 * y * y * math.sin(4 * l0)
        - 1.25 * e * e * math.sin(2 * m)
    )
    minutes = ts.hour * 60 + ts.minute + ts.second / 60 + ts.microsecond / 6e7
    true_solar = (minutes + eq_time + 4 * longitude) % 1440
    hour_angle = math.radians(true_solar / 4 - 180)

    lat = math.radians(latitude)
    cos_zenith = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour_angle)
    zenith = math.acos(max(-1.0, min(1.0, cos_zenith)))
    # NOAA's azimuth: from the zenith angle, measured from north through east
    azimuth = math.degrees(math.atan2(math.sin(hour_angle),
                                      math.cos(hour_angle) * math.sin(lat) - math.tan(decl) * math.cos(lat))) + 180
    return 90.0 - math.degrees(zenith), azimuth % 360.0


def is_night(ts: datetime, latitude: float, longitude: float) -> bool:
    return elevation(ts, latitude, longitude) < CIVIL_TWILIGHT_DEG
