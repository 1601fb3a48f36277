"""Monochrome cameras (astronomers' all-sky cameras): no colour, so cloud is read from point sources alone.

A clear night sky is full of stars; cloud hides them. The frame is read at a size where stars are still sharp
(MONO_SIZE, a JPEG draft: the model's 160x120 blurs them away); a star is a local maximum of its 3x3 standing
NOISE_K times its cell's robust noise over the ring around it (the bar follows each camera's own stretch and
gain, so no level is hard-wired). The octa area is cut into cells like cloudynight's subregions: a centre disc
and RINGS rings of SECTORS sectors. A cell is clear when its share of star pixels reaches CLEAR_BAR, unless the
frame as a whole shows fewer than FRAME_BAR (overcast). The answer is always weak (flag "uncertain"): on
cloudynight's 20 frames (4 folds in file order) its cells read right 81 % of the time and its frame octas are
off by 1.5 on average; a bright moonlit clear sky shows few stars and can read cloudy (docs/design.md).
"""

from __future__ import annotations

import math

import numpy as np

from cielo.sources.skycam import lens
from cielo.sources.skycam.night import SATURATED

MONO_SIZE = (320, 240)  # decoded no smaller than this (JPEG draft): stars survive (160x120 blurs them)
# Chosen on cloudynight's 20 frames (docs/design.md): NOISE_K 6 / 8 / 10 / 12, CLEAR_BAR and FRAME_BAR on a grid,
# 4 folds in file order (the folds picked 6 three times, 10 once); the values here are the best on all 20.
NOISE_K = 6.0
CLEAR_BAR = 1e-4  # a cell's share of star pixels; at 320x240 (cells of about 1300 pixels) one star clears it
# A frame whose share of star pixels over its whole octa area is under this is overcast, whatever its cells:
# thin cloud lets a few bright stars through everywhere (cloudynight overcast frames 1.5-3.1 per mille at
# NOISE_K 6, clear ones 3.2-12.7)
FRAME_BAR = 3.2e-3
BLACK = 12  # levels: the lens surround, no sky
NOISE_FLOOR = 0.5  # levels: a JPEG's flat sky has a MAD of 0; its quantisation still makes false peaks
RINGS, SECTORS = 4, 8
SPREAD = 2.0  # octas: the answer's probabilities fall off by e per this many octas (frame MAE about 2)


def _box(a: np.ndarray, k: int) -> np.ndarray:
    """int32 sums over the k x k window around each pixel of the interior (k // 2 pixels of edge dropped)."""
    h, w = a.shape
    r = k // 2
    rows = sum(a[i : h - 2 * r + i] for i in range(k))
    return sum(rows[:, j : w - 2 * r + j] for j in range(k))


def noise(grey: np.ndarray, label: np.ndarray, n: int) -> np.ndarray:
    """float [n]: each cell's robust noise, levels: the median absolute step between horizontal neighbours
    (both over BLACK: the lens surround's flat black would pull it to 0), over the sqrt(2) of a difference,
    x 1.4826 (a normal's sigma). Per cell: lit cloud is noisier than dark sky (shot noise), and one bar for
    the frame finds false stars in it; stars are too few to move a median."""
    a, b = grey[:, 1:], grey[:, :-1]
    cell = label[:, :-1]
    sel = (a > BLACK) & (b > BLACK) & (cell >= 0)
    d = np.abs(a.astype(np.int16) - b)[sel]
    hist = np.bincount(cell[sel] * 256 + d, minlength=n * 256).reshape(n, 256).cumsum(axis=1)
    med = (hist < hist[:, -1:] / 2).sum(axis=1).astype(np.float64)
    return np.maximum(1.4826 * med / math.sqrt(2.0), NOISE_FLOOR)


def points(grey: np.ndarray, label: np.ndarray, n: int, k: float = NOISE_K) -> np.ndarray:
    """bool [h, w]: point sources of a uint8 brightness image: local maxima of their 3x3 standing NOISE_K x
    their cell's noise (k: NOISE_K) over the ring around them (`label`: each pixel's cell, -1 outside the sky)."""
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
    inner = label[2:-2, 2:-2]
    bar = np.append(16.0 * k * noise(grey, label, n), np.inf).astype(np.float32)[inner]  # -1: never
    out[2:-2, 2:-2] = (c >= top) & (lead >= bar) & (c < SATURATED)
    return out


def cells(geom: lens.Lens) -> np.ndarray:
    """int [H, W]: cell of each pixel of the octa area (0: the centre disc, then ring by ring), -1 outside."""
    yy, xx = lens.pixel_grid(geom.height, geom.width)
    if geom.found:
        dy, dx = (yy - geom.cy) / geom.ry, (xx - geom.cx) / geom.rx
    else:  # no surround seen: the ellipse inscribed in the frame
        dy = (yy - (geom.height - 1) / 2) / (geom.height / 2)
        dx = (xx - (geom.width - 1) / 2) / (geom.width / 2)
    rho, az = np.sqrt(dx * dx + dy * dy), np.arctan2(dy, dx)
    ring = np.floor(rho / (lens.OCTA_RADIUS / (RINGS + 1))).astype(np.int32)
    sector = np.clip(((az + np.pi) / (2 * np.pi) * SECTORS).astype(np.int32), 0, SECTORS - 1)
    out = np.where(ring == 0, 0, (ring - 1) * SECTORS + sector + 1)
    out[rho >= lens.OCTA_RADIUS] = -1
    return out


def cloud_share(grey: np.ndarray, geom: lens.Lens) -> float | None:
    """Share of the octa area in cells whose star share is under CLEAR_BAR; None: no octa area, or no point
    source anywhere (nothing to read). The cells are drawn at the lens's (model) size and stretched to the grey
    image's."""
    small = cells(geom)
    h, w = grey.shape
    if h % geom.height == 0 and w % geom.width == 0:  # the usual case (320x240 over 160x120): a cheap repeat
        label = small.repeat(h // geom.height, axis=0).repeat(w // geom.width, axis=1)
    else:
        label = small[(np.arange(h) * geom.height // h)[:, None], (np.arange(w) * geom.width // w)[None, :]]
    n = RINGS * SECTORS + 1
    sky = label >= 0
    area = np.bincount(label[sky], minlength=n).astype(np.float64)
    found = points(grey, label, n)
    if not area.any() or not found.any():
        return None
    if float(found[sky].mean()) < FRAME_BAR:
        return 1.0
    stars = np.bincount(label[found], minlength=n).astype(np.float64)
    dense = np.divide(stars, area, out=np.zeros(n), where=area > 0)
    return float(area[(area > 0) & (dense < CLEAR_BAR)].sum() / area.sum())


def probs(share: float) -> list[float]:
    """A wide distribution around the octas read (the reading is weak)."""
    octas = math.floor(share * 8 + 0.5)
    p = np.exp(-np.abs(np.arange(9) - octas) / SPREAD)
    return (p / p.sum()).tolist()
