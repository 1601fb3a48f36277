"""A clear day sky under dust haze (or behind a hazed dome), read overcast by its colour: read again by its own sky.

Haze pales a clear sky to a uniform blue-grey that the clear-sky colour threshold calls cloud everywhere, as it does a
veil of cirrostratus with the sun showing through. Colour cannot tell them (LenghuSky-8 2020 clear frames are as
pale as the 2018-2019 veils); the light around the sun can, a little. Haze is small dust scattering the direct beam
forward once: the beam stays strong (the disc stands out far above the sky, sunstate.STANDS_OUT's measure) and the
aureole falls off steeply (sunstate.aureole_falloff). A veil thick enough to be overcast scatters the light many
times over: a dimmer disc over a brighter sky, and a flatter aureole. Such a frame is read again with its own smooth
sky as the clear sky everywhere (lens.maps `hazy`): cloud must sit well below it, as cumulus under haze does.
The answer is always marked uncertain: a veil can pass (LenghuSky-8 2020: a 6-octa frame, 2021: an 8-octa one).

Constants chosen on LenghuSky-8 2018-2019 (one clear frame read >= 6 there with the sun seen that high: few to choose
by) and checked on 2020; figures: docs/design.md (Hazy clear days).
"""

from __future__ import annotations

from cielo.sources.skycam import regime
from cielo.sources.skycam.sunstate import HAZE_ALTITUDE, HAZE_FALLOFF, SunView

# With the sun lower the aureole's bands (20-60 degrees from it) run along the horizon, whose own brightening
# lifts overcast frames to the clear skies' fall-off (2018-2019 overcast with the sun under 30 degrees: up to 1.43).
SUN_ALTITUDE = HAZE_ALTITUDE  # one bar with the sun state's haze test (sunstate.HAZE_ALTITUDE)
# The 5th percentile of the 2018-2019 clear day frames with the sun this high (1.318; overcast ones: median 1.21).
FALLOFF = HAZE_FALLOFF  # one bar with the sun state's (sunstate.HAZE_FALLOFF)
# Their discs stand out 2.57 or more in 19 of 20 (5th percentile); the one overcast frame read >= 6 that passes
# the fall-off stands out 2.39.
STANDOUT = 2.5
OVERCAST_READ = 6  # only answers of this many octas or more are read again

# A pale camera (a dusty or aged dome, its veiling glare over the whole sky) without a calibration: its clear day sky
# is drawn toward grey and its disc's standout falls under STANDOUT, so the haze path above misses it (LenghuSky-8
# 2018-2019 through research/camera_shift.py "dusty dome": 54 clear frames read 6-8, every one by colour). What the
# glare leaves is the clear sky's shape: a smooth light added round the sun keeps the Rayleigh minimum 90 degrees from
# it darker than the anti-solar sky (lowsun.antisolar_ratio), where a deck thick enough to be overcast scatters the
# light many times and falls steadily away from the sun. Chosen on 2018-2019 (both looks; the dusty clear frames the
# re-read wins: ratio median 0.70, the overcast ones it would lose: median 0.96), checked on 2020; figures:
# docs/design.md ("A pale camera by day, uncalibrated").
PALE_SIDE = 0.8  # the sky 90 degrees from the sun at most this share of the anti-solar sky's light ...
PALE_STANDOUT = 2.3  # ... the disc this many times as bright as the far sky (an overcast's 1.7-2.2 under the glare) ...
PALE_READ = 1  # ... and the own-sky reading kept only where it reads this many octas or fewer (a veil reads 2-5)


def hazy(light: str | None, octas: int, view: SunView | None, sun_altitude: float | None, tone: float = 1.0
          ) -> bool:
    """A day answer of overcast that a clear sky under haze gives: the sun up SUN_ALTITUDE or more at the frame's
    known time, its disc seen, standing out STANDOUT times over the far sky, the aureole falling off FALLOFF.

    `tone`: the site's tone curve against the reference camera's, as a power (veil.tone; 1 without a
    calibration). Both measures are ratios of brightness, which a camera's tone curve raises to that power: a
    flatter curve (gamma 0.8) takes a clear hazy sky's 2.57 / 1.32 to 2.13 / 1.25, under both bars."""
    return (light == regime.DAY and octas >= OVERCAST_READ and view is not None and view.seen
            and view.state in ("thin", "visible") and sun_altitude is not None and sun_altitude >= SUN_ALTITUDE
            and view.standout is not None and view.standout >= STANDOUT ** tone
            and view.falloff is not None and view.falloff >= FALLOFF ** tone)


def pale(light: str | None, octas: int, view: SunView | None, sun_altitude: float | None) -> bool:
    """A day answer of overcast whose disc is seen standing out PALE_STANDOUT times over the far sky: a pale
    camera's clear sky when deep_minimum() holds too (the caller measures it only then). Read again by its own sky,
    as hazy() is; the new answer stands only at PALE_READ octas or fewer."""
    return (light == regime.DAY and octas >= OVERCAST_READ and view is not None and view.seen
            and sun_altitude is not None and view.standout is not None and view.standout >= PALE_STANDOUT)


def deep_minimum(side: float | None) -> bool:
    """The sky 90 degrees from the sun under PALE_SIDE of the anti-solar sky's light (`side`:
    lowsun.antisolar_ratio at the seen disc): a clear sky's Rayleigh minimum, which veiling glare keeps."""
    return side is not None and side <= PALE_SIDE
