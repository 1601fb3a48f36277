"""Cloud by compass sector, and along the sun's path in the next hour: once the camera's orientation is known.

With `cielo calibrate`'s orientation (orientation.py) every pixel of the frame has a compass bearing. The octa
area (the pixels the octas count: within 0.85 of the lens radius, less ground, masts, glare) splits into four
quarters centred on north, east, south and west; each gets its cloud fraction, the same per-pixel rule as the
octas' (NRBR under the frame's clear-sky threshold is cloud). The sun's path: the sky within PATH_DEG of where
the sun will be over the next PATH_MINUTES (computed, sun.position), counted as the cloud around the sun is
(sky pixels that are not saturated, the glare included). Without an orientation nothing here is known: null.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from cielo.sources.skycam import lens, sun
from cielo.sources.skycam.orientation import Orientation

QUARTERS = (("cover_n", 0.0), ("cover_e", 90.0), ("cover_s", 180.0), ("cover_w", 270.0))
PATH_KEY = "cover_sun_path"
KEYS = (*(k for k, _ in QUARTERS), PATH_KEY)
PATH_MINUTES = 60  # the sun's path: where it will be over this long ...
PATH_STEP_MIN = 5  # ... every this many minutes (it moves at most ~1.3 degrees of sky in that time) ...
PATH_DEG = 15.0  # ... and the sky within this of it (the disc's own neighbourhood, as sun_cloud_15)
MIN_PIXELS = 8  # fewer counted pixels than this in a sector: no fraction there


@functools.lru_cache(maxsize=4)
def bearings(o: Orientation, width: int, height: int) -> np.ndarray:
    """float32 [height, width]: each pixel's compass bearing (degrees clockwise from north), for frames of
    this size (the orientation's own frame scaled)."""
    sx, sy = width / o.width, height / o.height
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    dx = (xx + 0.5) / sx - 0.5 - o.cx
    dy = ((yy + 0.5) / sy - 0.5 - o.cy) * o.aspect
    phi = np.degrees(np.arctan2(dx, -dy))  # clockwise from the frame's up, as Orientation.where draws it
    out = np.mod(o.sign * (phi - o.north), 360.0).astype(np.float32)
    out.flags.writeable = False  # shared by every frame through the cache
    return out


@functools.lru_cache(maxsize=4)
def quarter_masks(o: Orientation, width: int, height: int) -> tuple[np.ndarray, ...]:
    """Four bool [height, width] masks, QUARTERS' order: the pixels whose bearing lies within 45 degrees of N, E,
    S, W (counting through masks is ~10x faster per frame than binning bearings)."""
    index = np.floor_divide(bearings(o, width, height) + np.float32(45.0), np.float32(90.0)) % 4
    out = tuple(index == i for i in range(len(QUARTERS)))
    for m in out:
        m.flags.writeable = False
    return out


def sun_path(o: Orientation, ts: datetime, latitude: float, longitude: float, width: int, height: int
             ) -> list[tuple[float, float]]:
    """Where the sun will be (pixels of a width x height frame) from `ts` over the next PATH_MINUTES, while it
    is above the horizon; empty when it is down all that time."""
    out = []
    for m in range(0, PATH_MINUTES + 1, PATH_STEP_MIN):
        el, az = sun.position(ts + timedelta(minutes=m), latitude, longitude)
        if el > 0:
            out.append(o.where(el, az, width, height))
    return out


def quarters(cloud: np.ndarray, counted: np.ndarray, masks: tuple[np.ndarray, ...]) -> dict[str, float | None]:
    """Cloud fraction (0..1) of the counted pixels in each quarter around N, E, S, W (`masks`: quarter_masks)."""
    cloudy = counted & cloud
    out: dict[str, float | None] = {}
    for (key, _), m in zip(QUARTERS, masks, strict=True):
        n = int(np.count_nonzero(counted & m))
        out[key] = int(np.count_nonzero(cloudy & m)) / n if n >= MIN_PIXELS else None
    return out


def along(cloud: np.ndarray, counted: np.ndarray, geom: lens.Lens, path: list[tuple[float, float]],
          deg_per_radius: float) -> float | None:
    """Cloud fraction (0..1) of the counted pixels within PATH_DEG of any point of the sun's path; only the
    path's box is looked at (a few per cent of the frame)."""
    if not path:
        return None
    limit = PATH_DEG / deg_per_radius  # lens radii
    rx, ry = (geom.rx, geom.ry) if geom.found else (geom.width / 2, geom.height / 2)
    xs, ys = [p[0] for p in path], [p[1] for p in path]
    x0, x1 = max(0, math.floor(min(xs) - limit * rx)), min(geom.width, math.ceil(max(xs) + limit * rx) + 1)
    y0, y1 = max(0, math.floor(min(ys) - limit * ry)), min(geom.height, math.ceil(max(ys) + limit * ry) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    pts = np.asarray(path, dtype=np.float32)
    dx = (np.arange(x0, x1, dtype=np.float32)[None, :, None] - pts[:, 0]) / np.float32(rx)
    dy = (np.arange(y0, y1, dtype=np.float32)[:, None, None] - pts[:, 1]) / np.float32(ry)
    band = (dx * dx + dy * dy).min(axis=2) <= np.float32(limit * limit)  # [rows, columns, path points] at once
    inside = band & counted[y0:y1, x0:x1]
    n = int(np.count_nonzero(inside))
    return float(np.count_nonzero(cloud[y0:y1, x0:x1] & inside)) / n if n >= MIN_PIXELS else None


def attrs(cover: dict[str, float | None] | None) -> dict[str, Any]:
    """The reading's keys (percent, one decimal): null where unknown, every key there either way."""
    out: dict[str, Any] = {}
    for key in KEYS:
        v = None if cover is None else cover.get(key)
        out[key] = None if v is None else round(v * 100, 1)
    return out
