"""An overcast day sky with the sun low, read clear by its colour: read by where its light comes from.

With the sun a few degrees up, a veil of altostratus or cirrostratus over the whole sky keeps a clear sky's blue by
colour (LenghuSky-8 2018-2019: 6 of the 9 overcast day frames read under 6 octas, calibrated, had the sun under 14
degrees), and the glow round the disc (veil.py) is not read there: its ring reaches the horizon. The light's shape
over the sky parts them. With the sun low a clear sky's zenith lies near its darkest band, 90 degrees from the sun
(Rayleigh), and the sky brightens toward the horizon all round (the longer air path): the zenith is darker than the
horizon band. A deck lit from above is brightest overhead and dims toward the horizon (the CIE overcast sky: the
horizon about a third of the zenith). So: the median light (mean R, G, B) of the sky within ZENITH_RHO of the lens
radius over that of the octa area's outer band (HORIZON_RHO out), ZENITH_BAR or more: lit from above, overcast.

Only while the sun is under the octa area's rim (RIM_ALTITUDE), and a little over it (to TOP_ALTITUDE) at a higher
bar (ABOVE_RIM_BAR): higher, the zenith nears the sun and its aureole lights it (LenghuSky-8 2018-2019 clear day
frames: the ratio 0.50-0.89 with the sun under 14 degrees, up to 0.86 at 13.5-20, 0.96 at 20-25, about 1.0 at 25-35,
1.2-1.5 over 50).

Not the twilight rule's fitted rise (night.rises): by day it read ARM TSI's hazy clear evenings (2018-04-18, the
check day, the sun 3-6 degrees up) as flat as the veils (0.17-0.38 against the veils' -0.46-0.18); the ratio reads
them 0.71-0.83, a clear sky's.

With the sun seen under the rim, a thin low deck can let its glow light the horizon band on its side, and the
ratio stay under the bar; there the sky 90 degrees from the sun (a clear sky's darkest band) against the anti-solar
sky (antisolar_ratio, ANTISOLAR_BAR) reads it: no minimum, overcast.

A day answer under 6 octas with either ratio at its bar has its distribution shifted up to 6 (veil.moved_up) and is
marked uncertain. Needs the frame's time (the sun's altitude), not a calibration: a ratio of light at one exposure,
it does not move with exposure or white balance, and a tone curve moves it little near the bar (x^0.8 moves 1.1 to
1.08); a lens that vignettes raises it (ZENITH_BAR). Constants chosen on LenghuSky-8 2018-2019, checked on 2020 and
ARM TSI; figures: docs/design.md (Low-sun overcast days).
"""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import lens, regime
from cielo.sources.skycam.sunstate import DEG_PER_RADIUS, SunView

# The sun under the octa area's rim (an equidistant fisheye: 90 degrees over the lens radius): 13.5 degrees
RIM_ALTITUDE = DEG_PER_RADIUS * (1.0 - lens.OCTA_RADIUS)
OVERCAST_READ = 6  # an answer under this is the one the rule re-reads
ZENITH_RHO = 0.35  # the zenith: within this share of the lens radius (31 degrees of zenith angle) ...
HORIZON_RHO = 0.6  # ... over the horizon band: from this share out to the octa area's rim (54-76 degrees)
# LenghuSky-8 2018-2019 day frames with the sun under RIM_ALTITUDE: clear (true <= 2) 0.50-0.89; the overcast ones
# read under 6, 1.01, 1.17, 1.29, a broken sky 0.58 and two with the zenith open 0.80, 0.83. A lens that vignettes
# darkens the horizon band and raises every ratio: through a 30 % fall-off at the rim (research/camera_shift.py) the
# clear frames read up to 1.05 and a bar of 0.95 turned three of them overcast. The bar sits over that: the zenith
# a tenth brighter than the horizon band, more than such a lens makes of a clear sky.
ZENITH_BAR = 1.1
# Over the rim the ring of glow round the disc is veil.py's, but a veil there can glow like a clear sky at a site's bar
# (LenghuSky-8 2019-04-05 18:24, 7 octas, the sun 19.9 degrees up: glow 1.50 against a 50-frame half's bar of 1.37,
# read 3) while its zenith outshines its horizon band (1.46-1.49). Clear frames 2018-2019 with the sun at 13.5-20
# degrees: 0.86 at most, 1.04 through a vignette of 30 % at the rim, and at 20-25 degrees 0.96 (1.14 through the
# vignette), so the rule stops at TOP_ALTITUDE and its bar there sits over every clear frame of the band above through
# that lens (2020's frames were seen before 1.2 was chosen over 1.1: docs/design.md, "The calibrated day misses").
TOP_ALTITUDE = 20.0
ABOVE_RIM_BAR = 1.2
MIN_PIXELS = 20  # fewer sky pixels than this in either band (at the model's size): no ratio
# The anti-solar side, with the sun seen under the rim: a clear sky is darkest about 90 degrees from the sun (Rayleigh)
# and brightens toward the anti-solar horizon; a deck has no such minimum, its light falling from the zenith (which
# the 90-degree band crosses) toward every horizon. The zenith ratio's horizon band also holds the sun's side, whose
# glow a thin low deck lets through (LenghuSky-8 2019-12-04 09:06, 8 octas, sun 2.8: zenith ratio 1.01, under
# ZENITH_BAR). The median light SIDE_DEG from the sun over that beyond ANTI_DEG, ANTISOLAR_BAR or more: no minimum,
# overcast. LenghuSky-8 2018-2019 clear day frames under the rim 0.51-0.85, ARM TSI 2017-05-24 0.60-0.69; the deck
# 1.04 (the two decks the zenith ratio reads, 1.02 and 1.48); checked: 2020 clear 0.49-0.62, ARM TSI 2018-04-18
# (its hazy clear evenings) 0.52-0.89. Both bands reach the rim, so a vignette moves the ratio less than the zenith
# ratio. Needs the disc seen: a covered sun gives no side (docs/design.md, "A low deck with its sun's side lit").
SIDE_DEG = (80.0, 100.0)
ANTI_DEG = 135.0
ANTISOLAR_BAR = 1.0


def applies(light: str | None, octas: int, sun_altitude: float | None) -> bool:
    """A day answer under OVERCAST_READ with the sun under TOP_ALTITUDE at the frame's known time: the frame whose
    zenith_ratio is read."""
    return (light == regime.DAY and octas < OVERCAST_READ and sun_altitude is not None
            and sun_altitude < TOP_ALTITUDE)


def zenith_ratio(px: np.ndarray, valid: np.ndarray, geom: lens.Lens) -> float | None:
    """The median light (mean R, G, B) of the unsaturated octa-area sky within ZENITH_RHO of the lens centre over
    that beyond HORIZON_RHO; None without a lens circle or with too little sky in either band."""
    if not geom.found:
        return None
    rho = geom.rho()
    darkest = np.minimum(np.minimum(px[0], px[1]), px[2])
    sky = (valid > 0) & (darkest < int(lens.SATURATED * 255))
    top, rim = sky & (rho < ZENITH_RHO), sky & (rho >= HORIZON_RHO)
    if int(np.count_nonzero(top)) < MIN_PIXELS or int(np.count_nonzero(rim)) < MIN_PIXELS:
        return None
    light = px[0].astype(np.uint16) + px[1] + px[2]
    return float(np.median(light[top])) / max(float(np.median(light[rim])), 1.0)


def antisolar_ratio(px: np.ndarray, valid: np.ndarray, geom: lens.Lens, sun: tuple[float, float] | None
                    ) -> float | None:
    """The median light (mean R, G, B) of the unsaturated octa-area sky SIDE_DEG from the sun at `sun` (x, y,
    pixels of `px`) over that beyond ANTI_DEG from it, the lens read as equidistant; None without a lens circle, a
    sun or enough sky in either band."""
    if not geom.found or sun is None:
        return None
    rho = geom.rho()
    yy, xx = lens.pixel_grid(*rho.shape)
    za = np.radians(np.minimum(rho, 1.0) * DEG_PER_RADIUS)
    az = np.arctan2((yy - geom.cy) / geom.ry, (xx - geom.cx) / geom.rx)
    sx, sy = (sun[0] - geom.cx) / geom.rx, (sun[1] - geom.cy) / geom.ry
    sun_za, sun_az = np.radians(min(float(np.hypot(sx, sy)), 1.0) * DEG_PER_RADIUS), np.arctan2(sy, sx)
    cos_d = np.cos(za) * np.cos(sun_za) + np.sin(za) * np.sin(sun_za) * np.cos(az - sun_az)
    dist = np.degrees(np.arccos(np.clip(cos_d, -1.0, 1.0)))
    darkest = np.minimum(np.minimum(px[0], px[1]), px[2])
    sky = (valid > 0) & (darkest < int(lens.SATURATED * 255)) & (rho < lens.OCTA_RADIUS)
    side, anti = sky & (dist >= SIDE_DEG[0]) & (dist <= SIDE_DEG[1]), sky & (dist > ANTI_DEG)
    if int(np.count_nonzero(side)) < MIN_PIXELS or int(np.count_nonzero(anti)) < MIN_PIXELS:
        return None
    light = px[0].astype(np.uint16) + px[1] + px[2]
    return float(np.median(light[side])) / max(float(np.median(light[anti])), 1.0)


def seen_at(view: SunView | None) -> tuple[float, float] | None:
    """Where the sun's disc was seen (pixels at the model's size); None when it was not: a covered sun has no side."""
    if view is None or not view.seen or view.x is None or view.y is None:
        return None
    return view.x, view.y


def no_minimum(ratio: float | None, sun_altitude: float | None) -> bool:
    """No Rayleigh minimum with the sun under the rim: the sky 90 degrees from it as bright as the anti-solar sky."""
    return (ratio is not None and sun_altitude is not None and sun_altitude < RIM_ALTITUDE
            and ratio >= ANTISOLAR_BAR)


def bar(sun_altitude: float | None) -> float:
    """ZENITH_BAR with the sun under the octa area's rim, ABOVE_RIM_BAR over it (its aureole nearer the zenith)."""
    return ABOVE_RIM_BAR if sun_altitude is not None and sun_altitude >= RIM_ALTITUDE else ZENITH_BAR


def overcast(ratio: float | None, sun_altitude: float | None = None) -> bool:
    """The sky lit from above: its zenith at least bar(sun_altitude) of its horizon band's light."""
    return ratio is not None and ratio >= bar(sun_altitude)
