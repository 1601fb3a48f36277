"""An overcast day sky under a veil, the sun showing through it, read clear by its colour: read overcast, weakly.

A veil of cirrostratus thick enough to be labelled overcast leaves the sky as blue as a clear one (LenghuSky-8
2018-2020: 21 of 149 overcast day frames read under 6 octas, most with the disc seen), and no colour statistic
tried parts them. The light round the sun does, for about half of them. Under a clear or hazy sky the aureole is
the direct beam scattered forward once, by air and dust: the sky a few degrees from the disc glows well above the
sky farther off. A veil scatters the light many times over and spreads it across the whole sky: the sky 8-14 degrees
from the disc hardly outshines that 35-60 degrees from it (sunstate.GLOW_DEG, SunView.glow). A day answer under 6
octas with the disc seen and such a flat glow has its distribution shifted up to 6 (as night.moonlit_read shifts
one down) and is marked uncertain: the colour and the light disagree.

How flat is flat depends on the camera: its tone curve raises every ratio of brightness to a power (a flatter curve
flattens a clear sky's glow as a veil does), its glare and JPEG clip the ring differently. One bar for every camera
read the daemon's own synthetic clear frame 6 octas and turned clear days overcast through a flatter tone curve, and
nothing unlabelled told it so. So the bar is the site's, learned by `cielo calibrate` from its own day frames read
clear (learn, site_bar; stored in the calibration as `glow`). Without one the glow is held against the disc's own
standout (FLAT_FOR_DISC): a ratio of two ratios of brightness, which a tone curve leaves as it was.

Constants chosen on LenghuSky-8 2018-2019, checked on 2020; figures: docs/design.md (Veiled overcast days).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from cielo.sources.skycam import lens, regime
from cielo.sources.skycam.sunstate import GLOW_DEG, SunView

if TYPE_CHECKING:
    from cielo.sources.skycam.calibration import Calibration
    from cielo.sources.skycam.frame import Frame
    from cielo.sources.skycam.model import OctaModel

# The reference camera's bar, chosen with labels: LenghuSky-8 2018-2019 day frames with the disc seen and a glow
# read: the clear ones read clear 1.56 or more, 6 of the 11 overcast ones read under 6 1.25-1.49 (the other 5
# 1.56-1.94); the bar sits between. No site's bar is set above it (site_bar).
GLOW = 1.52
OVERCAST_READ = 6  # what such a frame is moved up to, at least
# The sun this high or more at the frame's known time: the glow's ring all sky, none of it the horizon's haze or the
# ground (ARM TSI 2018-04-18 00:41, a clear frame with the sun 4 degrees up, read 6 by its calibrated lens without)
SUN_ALTITUDE = GLOW_DEG[1]
# What a site learns its bar from: its day frames read clear (CLEAR_READ octas or fewer) with the disc seen, the sun
# SUN_ALTITUDE up and a glow read. A tone curve raises every ratio of brightness to one power, so every log glow
# scales alike: the bar is the site's median clear glow raised to SHARE, the reference's bar over its own median
# (LenghuSky-8 2018-2019, timed: 58 such frames, median 1.788; ln 1.52 / ln 1.788 = 0.72). The median, not a low
# quantile: the frames read clear hold the veils the rule is for (2018-2019: 12 of 58 are 3 octas or more, glow
# 1.40-1.85), a low quantile learns their glow. MIN_CLEAR frames at least: the median's error (clear log glows
# spread ~0.1) then moves the bar ~0.03, within the reference's gap (1.49-1.56). And the glow read on OPEN_SHARE of
# the frames read clear with the disc seen at least: where glare or a mirror's shadow band clips the ring in most
# clear frames, the few left open are the sun at odd places, not the site's clear sky (ARM TSI 2017-05-24 and
# 2018-04-18, by halves: 0 %, 1-15 % through camera changes, and a 4-octa frame read 6 under a vignette's bar;
# LenghuSky-8 2018-2020 halves 67-76 %, 51-100 % through gamma 0.8 and a vignette).
CLEAR_READ = 2
SHARE = 0.72
MIN_CLEAR = 15
# From MIN_VEIL frames the bar is learned where it reads no tone curve (within TONE_BAND of the reference's): the
# median of 5 log glows spread ~0.1 is off by ~0.056 (1.25 sd / sqrt 5), the bar by 0.72 x that, ~0.04 in logs
# (1.46-1.58 about 1.52); the cap takes the upper side, the lower side makes the rule act on fewer veils, and the
# tone, which moves the haze bars, stays the reference's. A flatter bar than that from under MIN_CLEAR frames is as
# likely the median's noise as the camera's curve: read as a tone it turned 2 overcast days 1 octa (LenghuSky-8
# 2018-2019, 50 frames a half, as the independent check calibrates on: 5 and 8-9 such frames; bars 1.52 and 1.427,
# tone 0.85). Such a bar is kept for the veil alone, lowered by FEW_MARGIN (that error, in logs: 1.427 -> 1.371) so a
# flatter camera's clear days, which its noise may have put under it, stay above; the tone stays the reference's
# (session 16: the 50-frame half B's two flat-glow overcast days read 6, 2018-2019 417 -> 418, 2020 112 -> 113 of
# 443 / 125; all-frames calibrations learn from 15 or more and are unchanged).
MIN_VEIL = 5
FEW_MARGIN = 0.04
# A bar off the reference's by its median's error (about 0.03, above) is the reference's tone curve read with noise:
# ln 1.49 / ln 1.52 = 0.95, twice that 0.9. A site bar read on the reference camera's own halves lowered its haze bars
# by as much and turned 2 overcast 2020 day frames (calibrated) clear; gamma 0.8 reads about 0.8.
TONE_BAND = 0.1
OPEN_SHARE = 1 / 3
# Without a calibration: the glow held against the disc's own standout
# (sunstate.standout), ln glow under FLAT_FOR_DISC x ln standout. A tone curve raises both ratios to one power, so
# their logs' ratio is the sky's, not the curve's, and no white balance or saturation moves either (a bluer
# camera's veils, which the colour bars read clear: docs/design.md, "Other cameras by day"). LenghuSky-8 2018-2019
# day frames read under 6 with the disc seen and the sun SUN_ALTITUDE up: the 47 clear 0.422 or more, 6 of the 7
# overcast 0.27-0.39. Through research/camera_shift.py's changes the clear ones' lowest: gamma 0.8 0.419, saturation
# 1.3 and wb warm 0.392, gamma 1.25 0.385, wb cool 0.343 (one frame, then 0.420). The bar sits under all but that one.
# The disc must stand out as a clipped one does (lens.CLIPPED_RATIO): a "disc" hardly over its sky (a sunless frame's
# brightest patch, 1.2x) makes the log ratio a quotient of two small numbers, and read a clear test sky 6.
FLAT_FOR_DISC = 0.38


def veiled(light: str | None, octas: int, view: SunView | None, sun_altitude: float | None,
           bar: float | None, uncalibrated: bool = False) -> bool:
    """A day answer under OVERCAST_READ with the sun SUN_ALTITUDE or more up at the frame's known time, its disc
    seen (thin or visible) and a near glow under the site's `bar`, or `uncalibrated` flat for the disc's standout
    (FLAT_FOR_DISC). A calibrated site without a bar (too few clear days, times unknown): never (its clear
    frames, read by the site's colour, are what `learn` needs)."""
    if bar is None and not uncalibrated:
        return False
    if not (light == regime.DAY and octas < OVERCAST_READ and view is not None and view.seen
            and view.state in ("thin", "visible") and sun_altitude is not None and sun_altitude >= SUN_ALTITUDE
            and view.glow is not None):
        return False
    if bar is not None:
        return view.glow < bar
    return (view.standout is not None and view.standout >= lens.CLIPPED_RATIO
            and math.log(view.glow) < FLAT_FOR_DISC * math.log(view.standout))


def tone(bar: float | None) -> float:
    """The site's tone curve against the reference camera's, as the power it raises ratios of brightness to: the
    site's glow bar (site_bar: its clear days' median glow to SHARE) over the reference's, in logs; 1 without a
    bar, or within TONE_BAND of 1 (the reference camera's own halves: its median's error). Never over 1: the bar is
    capped at the reference's (a clear sky that glows more may be its dust, not its curve)."""
    if bar is None:
        return 1.0
    k = math.log(bar) / math.log(GLOW)
    return 1.0 if k > 1.0 - TONE_BAND else k


def moved_up(p: np.ndarray) -> np.ndarray:
    """The octa distribution shifted up until its most likely value is OVERCAST_READ, the mass shifted past 8
    dropped and the rest renormalised: the colour reading's shape kept, its level taken from the light. Not piled
    at 8: a veil is the least cloud an overcast answer holds (LenghuSky-8 2018-2019, the frames the bar moves:
    true 4-8 octas, 6.3 on average; piled at 8 most went to 8, 2.0 octas off on average, 1.4 at 6)."""
    shift = OVERCAST_READ - int(p.argmax())
    if shift <= 0:
        return p
    out = np.zeros_like(p)
    out[shift:] = p[: p.size - shift]
    return out / out.sum()


def site_bar(glows: Sequence[float | None]) -> tuple[float | None, bool, str]:
    """The site's glow bar from the glows of its day frames read clear with the disc seen (learn; None: the ring
    clipped, no glow read), whether it reads the camera's tone curve (tone; False: the reference's is kept), and a
    note; no bar: too few glows read (MIN_VEIL), too few of those frames with one, or a clear sky with no glow to
    part a veil from.

    Capped at the reference's GLOW: a site whose clear sky glows more than the reference's by its sky (dust, altitude)
    rather than by its tone curve does not see its clear days' low tail rise with the median (LenghuSky-8 2020: median
    1.89 against 2018-2019's 1.79, lowest clear frame 1.59 in both), and a bar raised with the median nears it.

    A flatter bar from under MIN_CLEAR frames is as likely the median's noise as the camera's curve: it is kept for
    the veil only, lowered by that noise (FEW_MARGIN) so that a flatter camera's clear days stay above it, and the
    tone stays the reference's (read from it, it turned overcast days clear through the haze bars)."""
    read = [g for g in glows if g is not None]
    if len(read) < MIN_VEIL:
        return None, False, (f"{len(read)} clear day frames with the sun {SUN_ALTITUDE:g} degrees up, seen, and the "
                             f"sky round it unclipped (needs {MIN_VEIL}): no veil rule")
    if len(read) < OPEN_SHARE * len(glows):
        return None, False, (f"the sky round the sun unclipped in {len(read)} of {len(glows)} clear day frames with "
                             f"it seen (glare, a mirror's band; needs {OPEN_SHARE:.0%}): no veil rule")
    median = float(np.median(np.asarray(read, dtype=np.float64)))
    if median <= 1.0:
        return None, False, (f"{len(read)} clear day frames, median glow {median:.2f}: no glow round the sun, no "
                             f"veil rule")
    bar = min(GLOW, math.exp(SHARE * math.log(median)))
    if len(read) < MIN_CLEAR and tone(bar) != 1.0:
        bar *= math.exp(-FEW_MARGIN)
        return bar, False, (f"{len(read)} clear day frames, median glow {median:.2f}: a flatter glow than the "
                            f"reference camera's, too few frames ({MIN_CLEAR}) to tell its tone curve from their "
                            f"noise: a glow under {bar:.3f} (lowered by that noise) round a seen sun reads a veil, at "
                            f"least {OVERCAST_READ} octas; the reference's tone kept")
    capped = " (capped at the reference's)" if bar == GLOW else ""
    return bar, True, (f"{len(read)} clear day frames, median glow {median:.2f} (8-14 over 35-60 degrees from the "
                       f"sun): a glow under {bar:.3f}{capped} round a seen sun reads a veil, at least "
                       f"{OVERCAST_READ} octas")


def learn(cal: Calibration, model: OctaModel, frames: Sequence[Frame], times: Sequence[datetime | None],
          latitude: float, longitude: float) -> None:
    """The site's glow bar from its own frames whose time is known (site_bar): the model judges the day frames
    with the sun SUN_ALTITUDE up under `cal` (no bar yet: the rule idle), the glows of those read clear with the
    disc seen are pooled (OPEN_SHARE of them read at least). Sets `cal.glow` and notes what was found; the
    model's own calibration is put back."""
    cal.glow, cal.glow_tone = None, False
    day = [i for i, t in enumerate(times)
           if t is not None and (li := regime.light(t, latitude, longitude)).regime == regime.DAY
           and li.sun_altitude >= SUN_ALTITUDE and frames[i].pixels.shape[1:] == (cal.height, cal.width)]
    glows: list[float | None] = []
    if day:
        previous = model.calibration
        model.calibrate(cal)
        try:
            verdicts = model.judge([frames[i] for i in day], [times[i] for i in day], latitude, longitude)
        finally:
            model.calibrate(previous)
        glows = [v.sky.glow for v in verdicts
                 if v.octas is not None and v.octas <= CLEAR_READ and v.light == regime.DAY and v.sky is not None
                 and v.sky.seen and v.sky.state in ("thin", "visible")]
    cal.glow, cal.glow_tone, note = site_bar(glows)
    cal.found["veil"] = note if any(t is not None for t in times) else "frame times unknown: no veil rule"
