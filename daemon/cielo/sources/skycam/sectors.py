"""Cloud by compass sector, and in the sector the sun will cross in the next hour: once the orientation is known.

With `cielo calibrate`'s orientation (orientation.py) every pixel of the frame has a compass bearing. The octa
area's own pixels (those the octas count: within 0.85 of the lens radius, less ground, masts and the sun's
glare) and rule (NRBR under the frame's clear-sky threshold is cloud) give the cloud fraction of four quarters
centred on north, east, south and west, and of the sun's sector: the bearings the sun's computed azimuth
sweeps over the next PATH_MINUTES, widened by PATH_MARGIN_DEG each side. Without an orientation nothing here
is known: null.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from cielo.astro import sun
from cielo.sources.skycam.orientation import Orientation

QUARTERS = (("cover_n", 0.0), ("cover_e", 90.0), ("cover_s", 180.0), ("cover_w", 270.0))
PATH_KEY = "cover_sun_path"
KEYS = (*(k for k, _ in QUARTERS), PATH_KEY)
PATH_MINUTES = 60  # the sun's sector: the azimuths it sweeps over this long ...
PATH_STEP_MIN = 10  # ... computed every this many minutes (the margin covers what it does between) ...
PATH_MARGIN_DEG = 15.0  # ... and this much more each side (at dawn the sun moves ~10 degrees an hour in azimuth)
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


def sun_path(ts: datetime, latitude: float, longitude: float) -> list[float]:
    """The sun's azimuths (degrees clockwise from north) from `ts` over the next PATH_MINUTES, every
    PATH_STEP_MIN, while it is above the horizon; empty when it is down all that time."""
    out = []
    for m in range(0, PATH_MINUTES + 1, PATH_STEP_MIN):
        el, az = sun.position(ts + timedelta(minutes=m), latitude, longitude)
        if el > 0:
            out.append(az)
    return out


def quarters(cloud: np.ndarray, counted: np.ndarray, masks: tuple[np.ndarray, ...]) -> dict[str, float | None]:
    """Cloud fraction (0..1) of the counted pixels in each quarter around N, E, S, W (`masks`: quarter_masks)."""
    cloudy = counted & cloud
    out: dict[str, float | None] = {}
    for (key, _), m in zip(QUARTERS, masks, strict=True):
        n = int(np.count_nonzero(counted & m))
        out[key] = int(np.count_nonzero(cloudy & m)) / n if n >= MIN_PIXELS else None
    return out


def along(cloud: np.ndarray, counted: np.ndarray, bearing: np.ndarray, path: list[float]) -> float | None:
    """Cloud fraction (0..1) of the counted pixels whose bearing lies in the sector the sun's azimuths `path`
    sweep (in the order it moves: east to west through south, or through north south of the tropics),
    widened by PATH_MARGIN_DEG each side."""
    if not path:
        return None
    turn = np.degrees(np.unwrap(np.radians(np.asarray(path, dtype=np.float64))))
    lo, hi = float(turn.min()) - PATH_MARGIN_DEG, float(turn.max()) + PATH_MARGIN_DEG
    if hi - lo >= 360.0:
        inside = counted
    else:
        lo, hi = lo % 360.0, hi % 360.0  # bearings run 0..360: a sector over north wraps
        within = (bearing >= lo) & (bearing <= hi) if lo <= hi else (bearing >= lo) | (bearing <= hi)
        inside = counted & within
    n = int(np.count_nonzero(inside))
    return int(np.count_nonzero(cloud & inside)) / n if n >= MIN_PIXELS else None


def attrs(cover: dict[str, float | None] | None) -> dict[str, Any]:
    """The reading's keys (percent, one decimal): null where unknown, every key there either way."""
    out: dict[str, Any] = {}
    for key in KEYS:
        v = None if cover is None else cover.get(key)
        out[key] = None if v is None else round(v * 100, 1)
    return out
