"""Where a site's sky/cloud bar sits, from how its own frames read as a whole (`cielo calibrate`).

Skies are mostly clear or overcast: the frequency of cloud cover is U-shaped at nearly every station (a frame
is far more often 0-1 or 7-8 octas than 4). A bar that sits too low calls a pale overcast deck partly clear
and a bar too high calls a pale clear sky partly cloud, and either way frames that are clear or overcast read
broken. The bar at which the most of a site's unlabelled frames read clear (<= 2 octas) or overcast (>= 6) is
where its two kinds of sky part; broken skies read broken at any bar near it and do not pull it either way.
The pooled-pixel split (calibration.site_split) counts pixels, so the class with more pixels (the site's
blue sky) decides where it falls; this counts frames, the unit the octas are read on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

STEP = 0.005  # the shifts tried (NRBR)
MIN_FRAMES = 20  # fewer frames cannot show which shift reads most of them clear or overcast
CLEAR_MAX, OVERCAST_MIN = 2.5 / 8, 5.5 / 8  # cloud fractions that read <= 2 and >= 6 octas (rounded half up)
# The shift stands only when the frames it decides outnumber those it un-decides beyond chance: a one-sided sign
# test over the frames whose reading changes, at this level. On a few dozen frames the count is nearly flat and
# its peak moves with a frame or two (LenghuSky-8 dev: one half's day frames 139 -> 141 of 147, p 0.25; the
# other's 121 -> 130 of 135, p 0.001).
SIGNIFICANCE = 0.05


def shift(excess: Sequence[np.ndarray], counted: Sequence[int], lo: float, hi: float
          ) -> tuple[float, int, int, float]:
    """The shift of the bar (NRBR, in [lo, hi]) at which the most frames read clear or overcast: (shift, those
    frames at the best shift, those at no shift, the sign test's chance of that gain). `excess`: per frame, each
    counted pixel's NRBR less the bar there (a pixel the bar can never make cloud left out); `counted`: per
    frame, how many pixels count. Where several shifts tie (a plateau of the count, smoothed over 3 steps), the
    middle one; 0 with too few frames, or when the shift does not decide more frames than it un-decides beyond
    chance (SIGNIFICANCE)."""
    frames = [(np.sort(e), n) for e, n in zip(excess, counted, strict=True) if n > 0]
    if len(frames) < MIN_FRAMES or not lo < 0 < hi:
        return 0.0, 0, 0, 1.0
    grid = np.round(np.arange(np.ceil(lo / STEP), np.floor(hi / STEP) + 1) * STEP, 6)
    per = np.zeros((len(frames), grid.size), dtype=bool)  # each frame read clear or overcast at each shift
    for k, (e, n) in enumerate(frames):
        cloud = np.searchsorted(e, grid, side="left") / n  # share of the frame under the bar at each shift
        per[k] = (cloud < CLEAR_MAX) | (cloud >= OVERCAST_MIN)
    decided = per.sum(axis=0)
    smooth = np.convolve(np.pad(decided.astype(np.float64), 1, mode="edge"), np.ones(3) / 3, mode="valid")
    best = np.flatnonzero(smooth >= smooth.max() - 1e-9)
    pick = int(best[len(best) // 2])
    zero = int(np.argmin(np.abs(grid)))
    gained = int((per[:, pick] & ~per[:, zero]).sum())
    lost = int((per[:, zero] & ~per[:, pick]).sum())
    chance = sign_test(gained, lost)
    return (0.0 if chance > SIGNIFICANCE else float(grid[pick])), int(decided[pick]), int(decided[zero]), chance


def sign_test(gained: int, lost: int) -> float:
    """One-sided: the chance of `gained` or more of the frames that changed going one way, were each a coin."""
    n = gained + lost
    if n == 0:
        return 1.0
    return sum(math.comb(n, k) for k in range(gained, n + 1)) / 2.0**n
