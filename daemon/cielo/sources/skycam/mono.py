"""Monochrome cameras (astronomers' all-sky cameras): no colour, so cloud is read from point sources alone.

A clear night sky is full of stars; cloud hides them. The frame is read at a size where stars are still single
sharp pixels (MONO_SIZE: a 640x480 camera JPEG at full size; the model's 160x120 draft blurs them away), a star
is a local maximum of its 3x3 neighbourhood standing NOISE_K times the frame's robust noise over the ring around
it (the bar follows each camera's own stretch and gain, so no level is hard-wired), and the octa area is cut
into cells like cloudynight's subregions: a centre disc and RINGS rings of SECTORS sectors. A cell is clear when
its share of star pixels reaches CLEAR_BAR. The answer is always weak (flag "uncertain"): on cloudynight's 20
frames (4 folds in file order) the cells read right 75 % of the time and the frame octas are off by 1.95 on
average; moonlit clear frames show few stars (docs/design.md).
"""

from __future__ import annotations

import math

import numpy as np

from cielo.sources.skycam import lens
from cielo.sources.skycam.night import SATURATED

MONO_SIZE = (320, 240)  # decoded no smaller than this (JPEG draft): stars survive (160x120 blurs them)
# Chosen on cloudynight's 20 frames, 4 folds in file order (NOISE_K 6 / 8 / 10 with a bar per fold): the folds
# picked 10 three times; on all 20: NOISE_K 10, CLEAR_BAR 3.5 per 10 000 (docs/design.md).
NOISE_K = 8.0
CLEAR_BAR = 1e-4  # under this a cell at 320x240 (about 1500 pixels) holds no star
NOISE_FLOOR = 0.5  # levels: a JPEG's flat sky has a MAD of 0; its quantisation still makes false peaks
RINGS, SECTORS = 4, 8
SPREAD = 2.0  # octas: the answer's probabilities fall off by e per this many octas (frame MAE about 2)


def _box(a: np.ndarray, k: int) -> np.ndarray:
    """int32 sums over the k x k window around each pixel of the interior (k // 2 pixels of edge dropped)."""
    h, w = a.shape
    r = k // 2
    rows = sum(a[i : h - 2 * r + i] for i in range(k))
    return sum(rows[:, j : w - 2 * r + j] for j in range(k))


def noise(grey: np.ndarray) -> float:
    """The frame's robust noise, levels: the median absolute step between neighbours (every 2nd row) over
    the sqrt(2) of a difference, x 1.4826 (a normal's sigma); stars and the moon are too few to move it."""
    d = np.abs(grey[::2, 1:].astype(np.int16) - grey[::2, :-1]).ravel()
    counts = np.cumsum(np.bincount(d, minlength=256))
    med = float(np.searchsorted(counts, counts[-1] / 2))
    return max(1.4826 * med / math.sqrt(2.0), NOISE_FLOOR)


def points(grey: np.ndarray) -> np.ndarray:
    """bool [h, w]: point sources of a uint8 brightness image (local maxima NOISE_K x noise over their ring)."""
    h, w = grey.shape
    out = np.zeros((h, w), dtype=bool)
    if h < 5 or w < 5:
        return out
    c = grey[2:-2, 2:-2]
    top = grey[1:-3, 1:-3]
    for i, j in ((1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2), (3, 3)):
        top = np.maximum(top, grey[i : h - 4 + i, j : w - 4 + j])
    b = grey.astype(np.int16)  # a 5x5 sum of uint8 fits (6375)
    ring = _box(b, 5) - _box(b[1:-1, 1:-1], 3)  # the 16 pixels around the star's own 3x3
    lead = c.astype(np.int16) * 16 - ring  # 16 x (centre - ring mean)
    out[2:-2, 2:-2] = (c >= top) & (lead >= 16.0 * NOISE_K * noise(grey)) & (c < SATURATED)
    return out


def cells(geom: lens.Lens) -> np.ndarray:
    """int [H, W]: cell of each pixel of the octa area (0: the centre disc, then ring by ring), -1 outside."""
    if geom.found:
        rho = geom.rho()
        yy, xx = lens.pixel_grid(geom.height, geom.width)
        az = np.arctan2((yy - geom.cy) / geom.ry, (xx - geom.cx) / geom.rx)
    else:  # no surround seen: the ellipse inscribed in the frame
        yy, xx = lens.pixel_grid(geom.height, geom.width)
        cy, cx = (geom.height - 1) / 2, (geom.width - 1) / 2
        dy, dx = (yy - cy) / (geom.height / 2), (xx - cx) / (geom.width / 2)
        rho, az = np.sqrt(dx * dx + dy * dy), np.arctan2(dy, dx)
    edge = lens.OCTA_RADIUS / (RINGS + 1)
    ring = np.floor(rho / edge).astype(np.int32)
    sector = np.clip(((az + np.pi) / (2 * np.pi) * SECTORS).astype(np.int32), 0, SECTORS - 1)
    out = np.where(ring == 0, 0, (ring - 1) * SECTORS + sector + 1)
    out[rho >= lens.OCTA_RADIUS] = -1
    return out


def cloud_share(found: np.ndarray, geom: lens.Lens) -> float | None:
    """Share of the octa area in cells whose star share is under CLEAR_BAR; None: no octa area. The cells are
    drawn at the lens's (model) size; each star falls in the cell under it."""
    label = cells(geom)
    n = RINGS * SECTORS + 1
    area = np.bincount(label[label >= 0], minlength=n).astype(np.float64)
    if not area.any():
        return None
    ys, xs = np.nonzero(found)
    at = label[ys * geom.height // found.shape[0], xs * geom.width // found.shape[1]]
    stars = np.bincount(at[at >= 0], minlength=n).astype(np.float64)
    # star share at the points' size: each model pixel stands for this many of them
    scale = found.shape[0] * found.shape[1] / (geom.height * geom.width)
    dense = np.divide(stars, area * scale, out=np.zeros(n), where=area > 0)
    return float(area[(area > 0) & (dense < CLEAR_BAR)].sum() / area.sum())


def probs(share: float) -> list[float]:
    """A wide distribution around the octas read (the reading is weak)."""
    octas = math.floor(share * 8 + 0.5)
    p = np.exp(-np.abs(np.arange(9) - octas) / SPREAD)
    return (p / p.sum()).tolist()
