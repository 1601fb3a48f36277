"""The moon's altitude and phase for a place and instant, for the night regimes.

The Astronomical Almanac's low-precision lunar formulae (the six largest terms in longitude, four in
latitude, five in parallax): about 0.3° in position for 1950-2050, far below what "is the moon up and
bright enough to light the sky" needs. The illuminated fraction comes from the moon's elongation from a
low-precision sun (the mean longitude plus the equation of centre, about 0.01°).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Moon:
    altitude: float  # degrees above the horizon (topocentric, no refraction)
    illuminated: float  # 0 new .. 1 full


def _sin(deg: float) -> float:
    return math.sin(math.radians(deg))


def _cos(deg: float) -> float:
    return math.cos(math.radians(deg))


def position(ts: datetime, latitude: float, longitude: float) -> Moon:
    ts = ts.astimezone(UTC)
    days = ts.timestamp() / 86400.0 + 2440587.5 - 2451545.0  # since J2000.0
    t = days / 36525.0
    lam = (218.32 + 481267.881 * t
           + 6.29 * _sin(135.0 + 477198.87 * t) - 1.27 * _sin(259.3 - 413335.36 * t)
           + 0.66 * _sin(235.7 + 890534.22 * t) + 0.21 * _sin(269.9 + 954397.74 * t)
           - 0.19 * _sin(357.5 + 35999.05 * t) - 0.11 * _sin(186.5 + 966404.03 * t))
    beta = (5.13 * _sin(93.3 + 483202.02 * t) + 0.28 * _sin(228.2 + 960400.89 * t)
            - 0.28 * _sin(318.3 + 6003.15 * t) - 0.17 * _sin(217.6 - 407332.21 * t))
    parallax = (0.9508 + 0.0518 * _cos(135.0 + 477198.87 * t) + 0.0095 * _cos(259.3 - 413335.36 * t)
                + 0.0078 * _cos(235.7 + 890534.22 * t) + 0.0028 * _cos(269.9 + 954397.74 * t))
    eps = 23.439 - 0.013 * t
    # ecliptic -> equatorial
    x = _cos(beta) * _cos(lam)
    y = _cos(eps) * _cos(beta) * _sin(lam) - _sin(eps) * _sin(beta)
    z = _sin(eps) * _cos(beta) * _sin(lam) + _cos(eps) * _sin(beta)
    ra = math.degrees(math.atan2(y, x))
    dec = math.degrees(math.asin(max(-1.0, min(1.0, z))))
    gmst = 280.46061837 + 360.98564736629 * days
    hour_angle = gmst + longitude - ra
    sin_alt = _sin(latitude) * _sin(dec) + _cos(latitude) * _cos(dec) * _cos(hour_angle)
    alt = math.degrees(math.asin(max(-1.0, min(1.0, sin_alt))))
    alt -= parallax * _cos(alt)  # seen from the surface, not the earth's centre

    # the sun's ecliptic longitude, for the phase
    m = 357.529 + 0.98560028 * days
    sun_lam = 280.459 + 0.98564736 * days + 1.915 * _sin(m) + 0.020 * _sin(2 * m)
    elongation = math.acos(max(-1.0, min(1.0, _cos(beta) * _cos(lam - sun_lam))))
    return Moon(alt, (1.0 - math.cos(elongation)) / 2.0)
