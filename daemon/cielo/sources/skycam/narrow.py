"""Whether a calibration's frames pin what it learns from them (calibration.fit): a learned part is used only where
the sample holds enough frames of the kind it is learned from, spread enough; else the model's default stands.

`cielo calibrate` may be handed any run of frames (a day and night of a 10-minute camera, a week of a sparse set, a
random draw), and a part learned from a narrow sample is that sample's, not the camera's: it made calibrated answers
worse than uncalibrated, silently (docs/design.md, "Narrow calibration samples")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from cielo.sources.skycam import night as nights

# The site's sky/cloud threshold (calibration._site_split) moves with the day's air (haze, sun height) as much as
# with the camera: ARM TSI 2017-05-24 alone splits at 0.23 (any 20-60 of its frames), with 2018-04-18 0.14-0.17,
# and 0.23 read 2018-04-18 worse than no calibration (MAE 0.71-0.83 against 0.60 uncalibrated). With frame times
# known, a threshold is the camera's only from daylit frames of more than one daylight period: their times spread
# over more than SPLIT_SPAN_H hours (a daylight period is shorter below 60 degrees of latitude). And from fewer than
# calibration.SPLIT_MANY day frames a split is used only within SPLIT_MOVE of the model's: one farther off from a
# few dozen frames was their weather's (ARM TSI, 29 daylit frames of 2017-05-24 and 21 of a nearly clear 2018-04-18
# morning: 0.23, 2018-04-18 then MAE 0.94; LenghuSky-8, 19 daylit frames of eight months: 0.07; both worse than no
# calibration), one nearer it the camera's (TSI, 50 frames spread over its two days: 0.17, MAE 0.27 -> 0.15).
SPLIT_SPAN_H = 20.0
SPLIT_MOVE = 0.05


def day_spread(times: Sequence[datetime | None] | None, daylit: Sequence[bool | None] | None) -> str | None:
    """None where the daylit frames' times pin a site threshold (or the times are unknown: nothing told), else why
    not."""
    if times is None or daylit is None or len(times) != len(daylit):
        return None
    day = sorted(t for t, d in zip(times, daylit, strict=True) if d is True and t is not None)
    if not day:
        return None
    span = (day[-1] - day[0]).total_seconds() / 3600
    if span <= SPLIT_SPAN_H:
        return (f"the {len(day)} daylit frames span {span:.1f} h, one daylight period (needs over {SPLIT_SPAN_H:g} h): "
                f"that day's air, not the camera's")
    return None


# The cast (calibration.site_cast) reads the site's greyest day pixels as white, and only a cloud cover holds white:
# a frame whose median NRBR sits within calibration.FRAME_CAST_SPREAD of its greyest is one (a clear sky spans its
# Rayleigh gradient). Without COVERED frames of cloud cover among the daylit ones the greyest pixels are a clear sky's
# palest (ARM TSI, 50 frames of an afternoon, 45 clear: +0.088, a "blue cast" that read 2018-04-18 at MAE 0.76
# against 0.60 uncalibrated).
COVERED = 5
COVER_Q = 2


def covered(greys: Sequence[np.ndarray], spread: float) -> int:
    """How many of the daylit frames' unsaturated pixels (NRBR, one array a frame) show a cloud cover: the median
    within `spread` of the COVER_Q-th percentile."""
    n = 0
    for g in greys:
        if g.size >= 100:
            lo, mid = np.percentile(g, (COVER_Q, 50))
            n += int(mid - lo < spread)
    return n


# The moonlit gate's centre (night.site_gate) moves only by a site median outside the span of the reference's clear and
# overcast skies, the brightness by its clearest skies' LOW_Q-th percentile: a dozen moonlit frames of overcast nights
# put the median just over the overcast end and their "clearest" frame is overcast too (LenghuSky-8 2018, 50 frames of
# five months: brightness +0.085, overcast nights then read clear, <=2|>=6 92.3 % against 93.2 % uncalibrated). A
# feature's shift is the camera's only where every one of GATE_HALVES halves of the moonlit frames (seeded) moves it
# the same way too, as the day threshold's halves pin its valley.
GATE_HALVES = 6
# A darker camera's brightness (a steeper tone curve: research/camera_shift.py's gamma 1.25 moves the reference's clear
# and overcast moonlit skies down by about 0.08) is pinned unless some half moves it brighter: a half whose median
# stays inside the span (a darker curve puts a mixed half's median there) says nothing against it. Unpinned, a 50-frame
# half of 2018-2019 through gamma 1.25 kept the reference's centre and its darkened overcast decks passed the gate (6
# frames read by their "stars"). The weather's own false moves are brighter (a run of overcast nights): LenghuSky
# 2018-2019 50-frame draws of the reference, darker brightness kept 0.0 % / 0.0 % (random / consecutive) as shipped,
# 0.3 % / 0.0 % with this; gamma 1.25 15 % / 12 % -> 25 % / 28 % (of draws, about 28 % of which hold MIN_MOONLIT
# moonlit frames at all; docs/design.md, moonlook21).
DARKER_UNSEEN = True


def gate_pinned(xs: Sequence[tuple[float, float, float]], mean: tuple[float, float, float] | None
                ) -> tuple[tuple[float, float, float] | None, str]:
    """`mean` (site_gate's centre for all of `xs`) with each feature's shift that some half of the frames does not
    share put back to the reference's; None where none is left; and a note (empty where all stand)."""
    if mean is None:
        return None, ""
    shift = np.asarray(mean, dtype=np.float64) - np.asarray(nights.GATE_MEAN)
    rng = np.random.default_rng(0)
    keep = shift != 0
    for _ in range(GATE_HALVES):
        half = [xs[i] for i in np.sort(rng.permutation(len(xs))[: len(xs) // 2])]
        got, _ = nights.site_gate(half, least=1)
        part = np.zeros(3) if got is None else np.asarray(got) - np.asarray(nights.GATE_MEAN)
        same = np.sign(part) == np.sign(shift)
        if DARKER_UNSEEN and shift[1] < 0:  # a darker camera: only a half moving it brighter unpins it
            same[1] = part[1] <= 0
        keep &= same
    lost = (shift != 0) & ~keep
    if not lost.any():
        return mean, ""
    shift = np.where(keep, shift, 0.0)
    dropped = ", ".join(n for n, x in zip(("star share", "brightness", "NRBR"), lost, strict=True) if x)
    note = f"; the shift of {dropped} not pinned (a half of the frames moves it otherwise): the reference's"
    if not shift.any():
        return None, note
    out = tuple(float(m + d) for m, d in zip(nights.GATE_MEAN, shift, strict=True))
    return (out[0], out[1], out[2]), note
