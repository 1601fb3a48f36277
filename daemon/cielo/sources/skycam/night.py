"""Moonlit nights: the moon turns a clear night sky grey-blue and bright, so colour reads it as cloud (LenghuSky
2018-2020: clear moonlit skies read <= 2 octas 4 % of the time). Two things still tell them apart:

- true point-source stars: a pixel that is the brightest of its 3x3 neighbourhood and stands over the mean of
  the ring around it (5x5 less 3x3, the star's own spread left out) by a few levels. A bright, sharp star
  (STAR_SHARP over the ring) is what cloud hides even when thin; faint ones (STAR_FAINT) show where the sky
  is open;
- the frame's overall light: moonlit cloud scatters the moon's light back, so an overcast frame is brighter
  and greyer (NRBR nearer 0, neutral) than a clear one.

A frame whose gate (a logistic on the share of sharp stars, the median brightness and the median cast,
fitted on LenghuSky 2018-2020 moonlit frames: clear <= 2 octas against overcast >= 6) says "clear-looking"
is read by its stars: a pixel with no faint star within its window is cloud. The colour reading stays the
upper bound, so this rule only ever lowers octas. (A gate learned per site from the camera's own unlabelled
moonlit nights is not done yet: these constants are one fisheye's.) It never runs by day or at a frame of unknown time.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from cielo.sources.skycam import lens
from cielo.sources.skycam.frame import Frame

STAR_FAINT = 6  # levels (0..255) over the ring: a star that marks open sky
STAR_SHARP = 16  # levels over the ring: a star cloud would hide (the gate counts these)
STAR_WINDOW = 15  # faint stars are counted in windows this wide (pixels of the decoded frame)
OPEN_SKY = 0.001  # a window with more than this share of faint-star pixels is open sky
SATURATED = 250  # the moon and its glare are no stars
# Gate: log-odds of a clear-looking frame = sum of w * (x - mean) / sd + bias, x = (ln(share of sharp-star
# pixels over the octa area at the decoded size + 1e-4), median brightness 0..1, median NRBR). Fitted on
# LenghuSky 2018-2020 moonlit frames read clear (<= 2 octas, 36) against overcast (>= 6, 67): 3000 steps of
# gradient ascent with a small ridge. It passes 86 % of the clear and 16 % of the overcast ones.
GATE_W = (0.892, -1.26, 0.513)
GATE_MEAN = (-6.629, 0.4237, 0.0378)
GATE_SD = (1.3251, 0.0647, 0.0449)
GATE_BIAS = -1.065
GATE_CLEAR = 0.4  # gate probability over this: read by the stars. LenghuSky 2018-2020 moonlit (timed) at
# 0.3 / 0.4 / 0.5 / 0.6: MAE 1.91 / 1.75 / 1.66 / 1.80, clear read <= 2 88 / 79 / 71 / 58 %,
# overcast >= 6 75 / 83 / 86 / 88 %
STAR_SHARE_FLOOR = 1e-4
GATE_UNSURE = (0.2, 0.7)  # a gate between these: the moonlit answer is marked uncertain


def _box(a: np.ndarray, k: int) -> np.ndarray:
    """Sum over the k x k window around each pixel (edges repeated)."""
    h, w = a.shape
    c = np.pad(np.pad(a, k // 2, mode="edge").cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    return c[k : k + h, k : k + w] - c[:h, k : k + w] - c[k : k + h, :w] + c[:h, :w]


def point_sources(bright: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(faint, sharp) bool maps of stars in a brightness image (uint8 max(R, G, B)): local maxima of the 3x3
    neighbourhood standing STAR_FAINT / STAR_SHARP over the mean of the ring around them."""
    b = bright.astype(np.float32)
    h, w = b.shape
    p = np.pad(b, 1, mode="edge")
    top = p[0:h, 0:w].copy()
    for i, j in ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2)):
        np.maximum(top, p[i : i + h, j : j + w], out=top)
    ring = (_box(b, 5) - _box(b, 3)) / np.float32(16.0)
    lead = b - ring
    peak = (b >= top) & (bright < SATURATED)
    return peak & (lead >= STAR_FAINT), peak & (lead >= STAR_SHARP)


def gate(frame: Frame, geom: lens.Lens) -> tuple[float, np.ndarray | None]:
    """(probability the frame is a clear moonlit sky, the faint stars at the decoded size or None)."""
    if frame.bright is None:
        return 0.0, None
    bright = frame.bright
    h, w = bright.shape
    area = geom.scaled(w, h).rho() <= lens.OCTA_RADIUS if geom.found else np.ones((h, w), dtype=bool)
    faint, sharp = point_sources(bright)
    usable = area & (bright < SATURATED)
    if usable.sum() < 100:
        return 0.0, None
    share = float(sharp[usable].mean())
    px = frame.pixels
    small = (geom.rho() <= lens.OCTA_RADIUS) if geom.found else np.ones(px.shape[1:], dtype=bool)
    top = np.maximum(np.maximum(px[0], px[1]), px[2])
    small &= top < SATURATED
    if not small.any():
        return 0.0, None
    x = (math.log(share + STAR_SHARE_FLOOR), float(np.median(top[small])) / 255.0,
         float(np.median(lens.nrbr(px)[small])))
    z = GATE_BIAS + sum(wi * (xi - m) / s for wi, xi, m, s in zip(GATE_W, x, GATE_MEAN, GATE_SD, strict=True))
    return 1.0 / (1.0 + math.exp(-z)), faint


def open_sky(faint: np.ndarray, height: int, width: int) -> np.ndarray:
    """Share of faint-star pixels in the STAR_WINDOW around each pixel, at the model's size."""
    density = _box(faint.astype(np.float32), STAR_WINDOW) / np.float32(STAR_WINDOW * STAR_WINDOW)
    if density.shape != (height, width):
        density = np.asarray(Image.fromarray(density, mode="F").resize((width, height), Image.Resampling.BOX))
    return density


def moonlit_octas(frame: Frame, geom: lens.Lens, valid: np.ndarray) -> tuple[int | None, bool]:
    """(octas read by the stars when the frame looks like a clear moonlit sky, None: keep the colour reading;
    whether the gate was unsure either way: the answer is weak)."""
    p, faint = gate(frame, geom)
    unsure = GATE_UNSURE[0] < p < GATE_UNSURE[1]
    sel = valid > 0
    if p <= GATE_CLEAR or faint is None or not sel.any():
        return None, unsure
    density = open_sky(faint, *valid.shape)
    cloud = float((density[sel] <= OPEN_SKY).mean())
    return math.floor(cloud * 8 + 0.5), unsure
