"""Which light a frame was taken in, from its time and the site's place: the first thing the classifier
decides, because each light needs its own rule (colour by day, stars on a dark night, the sky's cast under
the moon). Unknown time: None, and the frame decides from what it shows, as before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cielo.astro import moon, sun

DAY, TWILIGHT, MOONLIT, DARK = "day", "twilight", "moonlit night", "dark night"
REGIMES = (DAY, TWILIGHT, MOONLIT, DARK)

DAY_SUN = 0.0  # the sun's centre above the horizon: daylight, the colour rules
NIGHT_SUN = -12.0  # below nautical twilight the sky is dark but for the moon and city light
MOON_UP = 5.0  # a moon this high (degrees) ...
MOON_BRIGHT = 0.3  # ... and at least this lit lights a night sky: stars fade, the sky turns grey-blue


@dataclass(frozen=True, slots=True)
class Light:
    regime: str
    sun_altitude: float
    moon_altitude: float
    moon_illuminated: float


def light(ts: datetime, latitude: float, longitude: float) -> Light:
    s = sun.elevation(ts, latitude, longitude)
    m = moon.position(ts, latitude, longitude)
    if s >= DAY_SUN:
        name = DAY
    elif s >= NIGHT_SUN:
        name = TWILIGHT
    elif m.altitude >= MOON_UP and m.illuminated >= MOON_BRIGHT:
        name = MOONLIT
    else:
        name = DARK
    return Light(name, s, m.altitude, m.illuminated)
