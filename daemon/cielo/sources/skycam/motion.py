"""Where the cloud is going: its displacement between consecutive frames, and when it reaches the sun.

Correlation of the two frames' cloud masks in the Fourier domain (sunstate.SunView: cloud within the octa
area, at the model's input size), normalised over the sky both frames see (masked_ncc): its peak is the
shift that best lays the earlier field onto the later one, refined to a fraction of a pixel by a parabola;
its height (the correlation, 0..1) is the confidence. Only the previous frame's mask is kept (Tracker).

With frames 1-2 minutes apart, the cloud now upwind of the sun reaches it after (distance / speed): the
minutes until cloud covers a visible sun, or leaves a covered one (`eta`), None when nothing approaches.
"""

from __future__ import annotations

import base64
import json
import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from cielo.sources.skycam.sunstate import DEG_PER_RADIUS, SunView

MAX_GAP = timedelta(minutes=15)  # frames farther apart share too little of their clouds
ETA_GAP = timedelta(minutes=2, seconds=30)  # the ETA needs frames this close (1-2 minutes apart)
MIN_CLOUD, MAX_CLOUD = 0.03, 0.97  # a clear or uniformly overcast field has nothing to follow
MAX_SHIFT = 0.5  # of the lens radius: larger peaks are aliases
MIN_CONFIDENCE = 0.25  # an ETA is given only from a motion this sure
ETA_HORIZON_MIN = 60.0  # no ETA beyond this
DISC_DEG = 3.0  # cloud within this of the sun's centre covers it (its disc and the brightest aureole)
MIN_OVERLAP = 0.4  # a shift is weighed only where the two skies overlap by this share of the smaller
ETA_CHUNK = 256  # upwind points weighed at once (bounds the memory however fast the cloud)


@dataclass(frozen=True, slots=True)
class Motion:
    dx: float  # pixels (model size) the cloud field moved, right and down, between the two frames
    dy: float
    minutes: float
    deg_per_min: float
    direction: float  # where the cloud goes: degrees clockwise from the frame's up (or north: `reference`)
    confidence: float  # 0..1
    reference: str = "frame"  # "frame": `direction` from the frame's up; "north": a compass bearing

    def attrs(self) -> dict[str, Any]:
        return {"deg_per_min": round(self.deg_per_min, 3), "direction": round(self.direction, 1),
                "direction_from": self.reference, "confidence": round(self.confidence, 3),
                "minutes": round(self.minutes, 2)}


def _field(view: SunView) -> tuple[np.ndarray, np.ndarray] | None:
    """The soft cloud field and the sky it covers, or None when there is nothing to follow."""
    got = view.field()
    if got is None:
        return None
    cloud, sky = got
    inside = sky > 0
    if not inside.any():
        return None
    share = float((cloud[inside] >= 0.5).mean())
    if not MIN_CLOUD <= share <= MAX_CLOUD:
        return None
    return cloud, sky


def between(prev: SunView, cur: SunView, minutes: float, north: float | None = None, sign: int = -1
            ) -> Motion | None:
    """The cloud field's motion from `prev` to `cur`, taken `minutes` apart; None when either frame has no
    field to follow (clear, overcast, no lens) or the frames differ in size. `north`, `sign`: where north
    lies in the frame and which way east is from it (orientation.Orientation), when calibrated."""
    if minutes <= 0 or prev.shape != cur.shape:
        return None
    a, b = _field(prev), _field(cur)
    if a is None or b is None:
        return None
    # only the box the skies cover: the FFTs' cost goes with their size
    rows = np.flatnonzero((a[1] + b[1]).any(axis=1))
    cols = np.flatnonzero((a[1] + b[1]).any(axis=0))
    box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    a, b = (a[0][box], a[1][box]), (b[0][box], b[1][box])
    h, w = a[0].shape
    limit = int(min(MAX_SHIFT * DEG_PER_RADIUS / max(cur.deg_per_px, 1e-6), h // 2, w // 2))  # pixels
    surface = masked_ncc(a, b, limit, (_fast(h + limit), _fast(w + limit)))
    iy, ix = np.unravel_index(int(np.argmax(surface)), surface.shape)
    peak = float(surface[iy, ix])
    if not math.isfinite(peak) or peak <= 0:
        return None
    sy = _parabola(float(surface[iy - 1, ix]), peak, float(surface[iy + 1, ix])) if 0 < iy < 2 * limit else 0.0
    sx = _parabola(float(surface[iy, ix - 1]), peak, float(surface[iy, ix + 1])) if 0 < ix < 2 * limit else 0.0
    dy, dx = iy - limit + sy, ix - limit + sx
    speed = math.hypot(dx, dy) * cur.deg_per_px / minutes
    bearing = math.degrees(math.atan2(dx, -dy)) % 360.0
    if north is not None:
        bearing = (sign * (bearing - north)) % 360.0  # the compass bearing the cloud moves toward
    return Motion(float(dx), float(dy), minutes, speed, bearing, min(1.0, peak), "frame" if north is None else "north")


def masked_ncc(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], limit: int,
               size: tuple[int, int]) -> np.ndarray:
    """The normalised cross-correlation of field a onto field b over only the pixels both masks cover, for
    every shift within `limit` pixels: [2 limit + 1, 2 limit + 1], (dy, dx) = index - limit (Padfield,
    "Masked object registration in the Fourier domain", 2012). A plain FFT correlation sees the masks' own
    edges (the lens, a shadow band, a mast) as a field that never moves; here they weigh nothing."""
    (f1, m1), (f2, m2) = a, b  # fields (zero outside their sky) and sky masks (0/1): f * m = f
    F1, M1, Q1, F2, M2, Q2 = (np.fft.rfft2(x, s=size) for x in (f1, m1, f1 * f1, f2, m2, f2 * f2))

    def corr(g: np.ndarray, hh: np.ndarray) -> np.ndarray:  # sum_x g(x - d) h(x), wrapped at `size`
        return np.fft.irfft2(np.conj(g) * hh, s=size)

    n = corr(M1, M2)
    s1, s2 = corr(F1, M2), corr(M1, F2)
    k = np.maximum(n, 1)
    num = corr(F1, F2) - s1 * s2 / k
    v1, v2 = corr(Q1, M2) - s1 * s1 / k, corr(M1, Q2) - s2 * s2 / k
    out = num / np.sqrt(np.maximum(v1 * v2, 1e-9))
    enough = n >= MIN_OVERLAP * min(float(m1.sum()), float(m2.sum()))
    out = np.where(enough & (v1 > 1e-3) & (v2 > 1e-3), out, -np.inf)
    idx = np.r_[size[0] - limit : size[0], 0 : limit + 1]
    jdx = np.r_[size[1] - limit : size[1], 0 : limit + 1]
    return out[np.ix_(idx, jdx)]


def _fast(n: int) -> int:
    """The smallest 2^i 3^j 5^k >= n: FFT sizes with a prime factor like 19 cost several times more."""
    best = 2 * n
    p2 = 1
    while p2 < best:
        p3 = p2
        while p3 < best:
            p5 = p3
            while p5 < n:
                p5 *= 5
            best = min(best, p5)
            p3 *= 3
        p2 *= 2
    return best


def _parabola(left: float, mid: float, right: float) -> float:
    if not (math.isfinite(left) and math.isfinite(right)):
        return 0.0
    d = left - 2 * mid + right
    return max(-0.5, min(0.5, 0.5 * (left - right) / d)) if d < 0 else 0.0


def eta(view: SunView, motion: Motion) -> float | None:
    """Minutes until cloud reaches a visible sun or leaves a covered one, following the cloud now upwind of
    it at the measured speed; None without a sure motion, a known sun or anything coming within the sky.
    The sun's glare (sunstate: the octa model's glare disc) reads as cloud whatever the sky, so the field
    leaves it out and what comes is seen from beyond it."""
    if motion.confidence < MIN_CONFIDENCE or view.x is None or view.y is None or view.state is None:
        return None
    masks = view.masks()
    if masks is None:
        return None
    cloud, sky = masks
    vx, vy = motion.dx / motion.minutes, motion.dy / motion.minutes  # pixels a minute
    if math.hypot(vx, vy) < 1e-3:
        return None
    covered = view.state != "visible"
    disc = max(1.0, DISC_DEG / view.deg_per_px)
    step = min(0.5, 1.0 / math.hypot(vx, vy))  # a pixel of travel at a time (the disc is wider)
    times: list[float] = []
    t = step
    while t <= ETA_HORIZON_MIN:
        times.append(t)
        t += step
    # every upwind point at once, a chunk of steps at a time (a fast cloud takes thousands of small steps)
    for start in range(0, len(times), ETA_CHUNK):
        ended, minutes = _first_change(np.array(times[start : start + ETA_CHUNK]), view.x, view.y, vx, vy, disc,
                                       cloud, sky, covered)
        if ended:
            return minutes
    return None


def _first_change(t: np.ndarray, sx: float, sy: float, vx: float, vy: float, disc: float, cloud: np.ndarray,
                  sky: np.ndarray, covered: bool) -> tuple[bool, float | None]:
    """eta's search over the times `t`: what is now at sun - v t reaches the sun after t minutes. (True, the
    first t whose disc there is cloud, or clear for a covered sun, rounded); (True, None) when upwind leaves
    the frame first: nothing seen coming; (False, None) when no t of these gets there."""
    h, w = cloud.shape
    x, y = sx - vx * t, sy - vy * t
    left, top = np.floor(x - disc), np.floor(y - disc)
    outside = (np.maximum(0, left) >= np.minimum(w, np.ceil(x + disc) + 1)) | (
        np.maximum(0, top) >= np.minimum(h, np.ceil(y + disc) + 1))
    span = np.arange(math.ceil(2 * disc) + 2)
    px = left[:, None].astype(np.int64) + span  # [n, k]: the columns (rows) each disc may touch
    py = top[:, None].astype(np.int64) + span
    near = (((px - x[:, None]) ** 2)[:, None, :] + ((py - y[:, None]) ** 2)[:, :, None] <= disc * disc) & (
        ((py >= 0) & (py < h))[:, :, None] & ((px >= 0) & (px < w))[:, None, :])
    rows, cols = np.clip(py, 0, h - 1)[:, :, None], np.clip(px, 0, w - 1)[:, None, :]
    # where no sky shows (the sun's glare, a mast) nothing is known: look farther upwind
    ok = near & sky[rows, cols]
    seen = ok.sum(axis=(1, 2))
    judged = seen >= np.maximum(2, near.sum(axis=(1, 2)) // 3)
    share = (ok & cloud[rows, cols]).sum(axis=(1, 2)) / np.maximum(seen, 1)
    hit = judged & ((share >= 0.5) != covered)
    first_out = int(np.argmax(outside)) if outside.any() else len(t)
    first_hit = int(np.argmax(hit)) if hit.any() else len(t)
    if first_hit < first_out:
        return True, round(float(t[first_hit]), 1)
    return first_out < len(t), None


class Tracker:
    """The previous judged frame's view, to measure motion against; nothing else is kept. With a `path` it
    lives in that small file between runs too: each live capture is its own short process."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._prev: tuple[datetime, SunView] | None = self._load()

    def _load(self) -> tuple[datetime, SunView] | None:
        if self.path is None:
            return None
        try:
            d = json.loads(self.path.read_text(encoding="utf-8"))
            view = SunView(d.get("state"), None, None, d.get("x"), d.get("y"), False, float(d["deg_per_px"]),
                           None, base64.b64decode(d["mask"]), base64.b64decode(d["sky"]),
                           (int(d["shape"][0]), int(d["shape"][1])))
            return datetime.fromisoformat(d["ts"]), view
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None  # none yet, or unreadable: motion starts again from the next frame

    def _save(self) -> None:
        if self.path is None:
            return
        if self._prev is None:
            self.path.unlink(missing_ok=True)
            return
        ts, v = self._prev
        body = {"ts": ts.isoformat(), "state": v.state, "x": v.x, "y": v.y, "deg_per_px": v.deg_per_px,
                "shape": v.shape, "mask": base64.b64encode(v.mask or b"").decode(),
                "sky": base64.b64encode(v.sky or b"").decode()}
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(body), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only state folder costs the next frame's motion, nothing else

    def step(self, ts: datetime, view: SunView | None, north: float | None = None, sign: int = -1
             ) -> tuple[Motion | None, float | None]:
        """The motion since the previous frame (when within MAX_GAP) and the sun's ETA (frames within
        ETA_GAP); frames must come in time order (an earlier one starts afresh)."""
        prev, self._prev = self._prev, (None if view is None or view.mask is None else (ts, view))
        self._save()
        if prev is None or view is None:
            return None, None
        gap = ts - prev[0]
        if not timedelta(0) < gap <= MAX_GAP:
            return None, None
        m = between(prev[1], view, gap.total_seconds() / 60, north, sign)
        if m is None:
            return None, None
        return m, (eta(view, m) if gap <= ETA_GAP else None)
