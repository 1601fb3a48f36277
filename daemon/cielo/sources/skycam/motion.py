"""Where the cloud is going: its displacement between consecutive frames, and when it reaches the sun.

Phase correlation on the two frames' cloud masks (sunstate.SunView: cloud within the octa area, at the
model's input size): the peak of the inverse FFT of the normalised cross-power spectrum is the shift that
best lays the earlier field onto the later one, refined to a fraction of a pixel by a parabola. Its height,
against the surface's spread, is the confidence. Only the previous frame's mask is kept (Tracker).

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
AUREOLE_DEG = 8.0  # nearer the sun than this its glow reads as cloud: what comes is looked for beyond it
LOW_PASS = 0.25  # the cross-power spectrum is weighted by exp(-(f / LOW_PASS)^2), f in cycles per pixel


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


def _field(view: SunView) -> np.ndarray | None:
    masks = view.masks()
    if masks is None:
        return None
    cloud, sky = masks
    n = int(sky.sum())
    if n == 0:
        return None
    share = float(cloud[sky].mean())
    if not MIN_CLOUD <= share <= MAX_CLOUD:
        return None
    out = np.zeros(cloud.shape, dtype=np.float32)
    out[sky] = np.where(cloud[sky], np.float32(1 - share), np.float32(-share))  # zero mean over the sky
    return out


def between(prev: SunView, cur: SunView, minutes: float, north: float | None = None,
            mirrored: bool = False) -> Motion | None:
    """The cloud field's motion from `prev` to `cur`, taken `minutes` apart; None when either frame has no
    field to follow (clear, overcast, no lens) or the frames differ in size. `north`: the compass bearing of
    the frame's up (orientation.py), when calibrated; `mirrored`: east is clockwise of north in the frame."""
    if minutes <= 0 or prev.shape != cur.shape:
        return None
    a, b = _field(prev), _field(cur)
    if a is None or b is None:
        return None
    h, w = a.shape
    fa, fb = np.fft.rfft2(a), np.fft.rfft2(b)
    cross = fb * np.conj(fa)
    cross /= np.abs(cross) + np.float32(1e-6)
    fy = np.fft.fftfreq(h).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(w).astype(np.float32)[None]
    cross *= np.exp(-(fx * fx + fy * fy) / np.float32(LOW_PASS * LOW_PASS))
    surface = np.fft.irfft2(cross, s=(h, w))
    limit = MAX_SHIFT * DEG_PER_RADIUS / max(cur.deg_per_px, 1e-6)  # pixels
    yy = np.fft.fftfreq(h, 1 / h)[:, None]
    xx = np.fft.fftfreq(w, 1 / w)[None]
    surface = np.where(np.hypot(xx, yy) <= limit, surface, -np.inf)
    iy, ix = np.unravel_index(int(np.argmax(surface)), surface.shape)
    peak = float(surface[iy, ix])
    finite = surface[np.isfinite(surface)]
    spread = float(finite.std()) or 1e-6
    sy = _parabola(surface[(iy - 1) % h, ix], peak, surface[(iy + 1) % h, ix])
    sx = _parabola(surface[iy, (ix - 1) % w], peak, surface[iy, (ix + 1) % w])
    dy = float(yy[iy, 0]) + float(sy)
    dx = float(xx[0, ix]) + float(sx)
    # The peak against the surface's noise, as a 0..1 score: 5 standard deviations and more is a sure match
    confidence = max(0.0, min(1.0, (peak - float(finite.mean())) / spread / 10.0))
    speed = math.hypot(dx, dy) * cur.deg_per_px / minutes
    bearing = math.degrees(math.atan2(dx, -dy)) % 360.0
    if north is not None:
        bearing = ((-bearing if mirrored else bearing) + north) % 360.0
    return Motion(dx, dy, minutes, speed, bearing, confidence, "frame" if north is None else "north")


def _parabola(left: float, mid: float, right: float) -> float:
    if not (math.isfinite(left) and math.isfinite(right)):
        return 0.0
    d = left - 2 * mid + right
    return max(-0.5, min(0.5, 0.5 * (left - right) / d)) if d < 0 else 0.0


def eta(view: SunView, motion: Motion) -> float | None:
    """Minutes until cloud reaches a visible sun or leaves a covered one, following the cloud now upwind of
    it at the measured speed; None without a sure motion, a known sun or anything coming within the sky."""
    if motion.confidence < MIN_CONFIDENCE or view.x is None or view.y is None or view.state is None:
        return None
    masks = view.masks()
    if masks is None:
        return None
    cloud, sky = masks
    h, w = cloud.shape
    vx, vy = motion.dx / motion.minutes, motion.dy / motion.minutes  # pixels a minute
    if math.hypot(vx, vy) < 1e-3:
        return None
    covered = view.state != "visible"
    disc = max(1.0, DISC_DEG / view.deg_per_px)
    step = min(0.5, 0.5 / math.hypot(vx, vy))  # half a pixel of travel at a time
    t = step
    while t <= ETA_HORIZON_MIN:
        # what is now at sun - v t reaches the sun after t minutes
        x, y = view.x - vx * t, view.y - vy * t
        if math.hypot(vx * t, vy * t) * view.deg_per_px < AUREOLE_DEG:
            t += step  # the sun's aureole reads as cloud whatever the sky: judged from beyond it
            continue
        x0, x1 = int(max(0, math.floor(x - disc))), int(min(w, math.ceil(x + disc) + 1))
        y0, y1 = int(max(0, math.floor(y - disc))), int(min(h, math.ceil(y + disc) + 1))
        if x0 >= x1 or y0 >= y1:
            return None  # upwind of the sun lies outside the frame: nothing seen coming
        yy, xx = np.mgrid[y0:y1, x0:x1]
        near = (xx - x) ** 2 + (yy - y) ** 2 <= disc * disc
        ok = sky[y0:y1, x0:x1] & near
        if ok.sum() >= max(2, near.sum() // 3):
            share = float(cloud[y0:y1, x0:x1][ok].mean())
            if (share >= 0.5) != covered:
                return round(t, 1)
        elif t > 2 * disc / math.hypot(vx, vy):
            return None  # upwind has left the sky (the horizon, a mast): nothing seen coming
        t += step
    return None


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

    def step(self, ts: datetime, view: SunView | None, north: float | None = None, mirrored: bool = False
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
        m = between(prev[1], view, gap.total_seconds() / 60, north, mirrored)
        if m is None:
            return None, None
        return m, (eta(view, m) if gap <= ETA_GAP else None)
