"""Where the cloud is going: its displacement between consecutive frames, and when it reaches the sun.

Correlation of the two frames' cloud masks in the Fourier domain (sunstate.SunView: cloud within the octa
area, at the model's input size), normalised over the sky both frames see (masked_ncc): its peak is the
shift that best lays the earlier field onto the later one, refined to a fraction of a pixel by a parabola;
its height (the correlation, 0..1) is the confidence. The FFTs run at half size; the peak is then found on
the full-size correlation near the coarse one (_peak). Only the previous frame's mask is kept (Tracker).

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
ETA_CHUNK = 256  # upwind points weighed at once (bounds the memory however fast the cloud) ...
ETA_FIRST_CHUNK = 32  # ... after the first this many (a quarter hour at the slowest step)
CLIMB = 2  # 3x3 steps from each coarse summit toward the full-size peak (a third gained nothing on TSI)
CANDIDATES = 2  # coarse summits climbed: the second is the full-size peak's basin in ~1 pair of 15 ...
RIVAL = 0.85  # ... always one this close to the highest in coarse height (TSI 2017-05-24: 26 of 107 such)


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
    found = _peak(a, b, limit)
    if found is None:
        return None
    (iy, ix), peak, near = found
    dy = iy + _parabola(float(near[0, 1]), peak, float(near[2, 1]))
    dx = ix + _parabola(float(near[1, 0]), peak, float(near[1, 2]))
    speed = math.hypot(dx, dy) * cur.deg_per_px / minutes
    bearing = math.degrees(math.atan2(dx, -dy)) % 360.0
    if north is not None:
        bearing = (sign * (bearing - north)) % 360.0  # the compass bearing the cloud moves toward
    return Motion(float(dx), float(dy), minutes, speed, bearing, min(1.0, peak), "frame" if north is None else "north")


def _peak(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], limit: int
          ) -> tuple[tuple[int, int], float, np.ndarray] | None:
    """The integer shift (dy, dx) within `limit` where masked_ncc of a onto b peaks, its height and the 3x3
    heights about it (for the parabola), or None when no shift has a positive correlation. The FFTs, the
    correlation's whole cost, run on 2x2 blocks (a quarter of the pixels); from twice each of the coarse
    surface's two highest summits the full-size correlation is then climbed, 3x3 shifts summed directly
    at a time. On TSI the answer is the full-size FFT's own peak in ~19 pairs of 20, as accurate against
    the instrument's masks (docs/sun.md, "Cloud motion"), at ~half the cost."""
    ca, cb = _blocks(a), _blocks(b)
    ch, cw = ca[0].shape
    coarse = min((limit + 1) // 2, ch // 2, cw // 2)
    surface = masked_ncc(ca, cb, coarse, (_fast(ch + coarse), _fast(cw + coarse)))
    starts = _summits(surface, CANDIDATES)
    if not starts:
        return None
    # a lower summit is climbed only when it nearly matches the highest (on TSI no other ever won)
    starts = starts[:1] + [p for p in starts[1:] if surface[p] >= RIVAL * surface[starts[0]]]
    direct = _Direct(a, b, limit)
    tops: list[tuple[float, tuple[int, int], np.ndarray]] = []
    for iy, ix in starts:
        # twice the coarse peak, its parabola's fraction included: the full-size peak is mostly there
        fy = _parabola(_at(surface, iy - 1, ix), float(surface[iy, ix]), _at(surface, iy + 1, ix))
        fx = _parabola(_at(surface, iy, ix - 1), float(surface[iy, ix]), _at(surface, iy, ix + 1))
        at = (_clip(round(2 * (iy - coarse + fy)), limit), _clip(round(2 * (ix - coarse + fx)), limit))
        for _ in range(CLIMB):
            around = direct.around(*at)
            k = int(np.argmax(around))
            if k != 4:
                at = (at[0] + k // 3 - 1, at[1] + k % 3 - 1)
                # no climb left: that shift, whole (its own neighbours unmeasured)
                around = np.where(np.arange(9).reshape(3, 3) == 4, around.flat[k], -np.inf)
                continue
            break
        tops.append((float(around[1, 1]), at, around))
    peak, at, around = max(tops, key=lambda t: t[0])
    if not math.isfinite(peak) or peak <= 0:
        return None
    return at, peak, around


def _clip(v: int, limit: int) -> int:
    return max(-limit, min(limit, v))


def _at(surface: np.ndarray, y: int, x: int) -> float:
    h, w = surface.shape
    return float(surface[y, x]) if 0 <= y < h and 0 <= x < w else -math.inf


def _summits(surface: np.ndarray, most: int) -> list[tuple[int, int]]:
    """The `most` highest local maxima of a correlation surface (finite ones), highest first."""
    # the 3x3 neighbourhood's maximum, rows then columns (4 maxima, not 8)
    padded = np.pad(surface, 1, constant_values=-np.inf)
    h, w = surface.shape
    across = np.maximum(np.maximum(padded[:, 0:w], padded[:, 1 : w + 1]), padded[:, 2 : w + 2])
    top = np.maximum(np.maximum(across[0:h], across[1 : h + 1]), across[2 : h + 2])
    ys, xs = np.nonzero((surface >= top) & np.isfinite(surface))
    order = np.argsort(-surface[ys, xs])[:most]
    return [(int(ys[k]), int(xs[k])) for k in order]


def _blocks(f: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A field at half size: each 2x2 block's mean, sky only where the whole block is."""
    field, sky = f
    h2, w2 = field.shape[0] // 2 * 2, field.shape[1] // 2 * 2
    corners = [np.s_[i:h2:2, j:w2:2] for i in (0, 1) for j in (0, 1)]
    sky2 = sky[corners[0]] * sky[corners[1]] * sky[corners[2]] * sky[corners[3]]
    cloud2 = (field[corners[0]] + field[corners[1]] + field[corners[2]] + field[corners[3]]) * (0.25 * sky2)
    return cloud2, sky2


class _Direct:
    """masked_ncc at the 3x3 shifts about one, summed directly: what its FFTs give there, for a few shifts
    at a fraction of their cost. Both fields lie flat, rows padded with nothing (zero sky) by more than any
    shift, so a shift is an offset along them and each sum one product of two strided views (no copies)."""

    def __init__(self, a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], limit: int) -> None:
        (f1, m1), (f2, m2) = a, b
        h, w = f1.shape
        self.pad, self.width = limit + 2, w + limit + 2  # rows above and below; row length (zeros after w)
        self.h, self.limit = h, limit
        self.one = np.zeros((3, h + 2 * self.pad, self.width), np.float32)  # float32 as the FFTs' own
        self.one[:, self.pad : self.pad + h, :w] = (m1, f1, f1 * f1)
        self.two = np.zeros((3, h, self.width), np.float32)
        self.two[:, :, :w] = (m2, f2, f2 * f2)
        self.one, self.two = self.one.reshape(3, -1), self.two.reshape(3, -1)
        self.need = MIN_OVERLAP * min(float(m1.sum()), float(m2.sum()))
        self.done: dict[tuple[int, int], np.ndarray] = {}  # a climb's next 3x3 shares 3-6 shifts with the last

    def around(self, dy: int, dx: int) -> np.ndarray:
        """[3, 3]: the correlation at (dy + i - 1, dx + j - 1); -inf beyond `limit` or where masked_ncc has
        none (too little overlap, a flat field)."""
        start, n = self.pad * self.width, self.h * self.width
        shifts = [(dy + k // 3 - 1, dx + k % 3 - 1) for k in range(9)]
        within = np.array([max(abs(y), abs(x)) <= self.limit for y, x in shifts])
        sums = np.zeros((9, 3, 3))
        for k in np.flatnonzero(within):
            got = self.done.get(shifts[k])
            if got is None:
                off = start - shifts[k][0] * self.width - shifts[k][1]  # b(y) meets a(y - d)
                got = self.done[shifts[k]] = self.one[:, off : off + n] @ self.two.T  # [m1 f1 f1^2] x [m2 f2 f2^2]
            sums[k] = got
        n_ = sums[:, 0, 0]
        k_ = np.maximum(n_, 1)
        s1, s2 = sums[:, 1, 0], sums[:, 0, 1]
        v1, v2 = sums[:, 2, 0] - s1 * s1 / k_, sums[:, 0, 2] - s2 * s2 / k_
        out = (sums[:, 1, 1] - s1 * s2 / k_) / np.sqrt(np.maximum(v1 * v2, 1e-9))
        ok = within & (n_ >= self.need) & (v1 > 1e-3) & (v2 > 1e-3)
        return np.where(ok, out, -np.inf).reshape(3, 3)


def masked_ncc(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], limit: int,
               size: tuple[int, int]) -> np.ndarray:
    """The normalised cross-correlation of field a onto field b over only the pixels both masks cover, for
    every shift within `limit` pixels: [2 limit + 1, 2 limit + 1], (dy, dx) = index - limit (Padfield,
    "Masked object registration in the Fourier domain", 2012). A plain FFT correlation sees the masks' own
    edges (the lens, a shadow band, a mast) as a field that never moves; here they weigh nothing."""
    (f1, m1), (f2, m2) = a, b  # fields (zero outside their sky) and sky masks (0/1): f * m = f
    rows = np.r_[size[0] - limit : size[0], 0 : limit + 1]
    cols = np.r_[size[1] - limit : size[1], 0 : limit + 1]

    # the 2-D transforms one axis at a time: the padding rows are never transformed along the other axis,
    # and of the inverse only the rows of shifts within `limit` are (a third less work than np.fft.*rfft2).
    # One call per field, not one on the six stacked: at these sizes numpy's stacked transforms are slower
    def forward(x: np.ndarray) -> np.ndarray:
        return np.fft.fft(np.fft.rfft(x, n=size[1], axis=1), n=size[0], axis=0)

    F1, M1, Q1, F2, M2, Q2 = (forward(x) for x in (f1, m1, f1 * f1, f2, m2, f2 * f2))

    def corr(g: np.ndarray, hh: np.ndarray) -> np.ndarray:  # sum_x g(x - d) h(x), wrapped at `size`
        return np.fft.irfft(np.fft.ifft(np.conj(g) * hh, axis=0)[rows], n=size[1], axis=1)[:, cols]

    n = corr(M1, M2)
    s1, s2 = corr(F1, M2), corr(M1, F2)
    k = np.maximum(n, 1)
    num = corr(F1, F2) - s1 * s2 / k
    v1, v2 = corr(Q1, M2) - s1 * s1 / k, corr(M1, Q2) - s2 * s2 / k
    out = num / np.sqrt(np.maximum(v1 * v2, 1e-9))
    enough = n >= MIN_OVERLAP * min(float(m1.sum()), float(m2.sum()))
    return np.where(enough & (v1 > 1e-3) & (v2 > 1e-3), out, -np.inf)


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
    if not times or not _anything_upwind(view.x, view.y, vx * times[-1], vy * times[-1], disc, cloud, sky, covered):
        return None
    # every upwind point at once, a chunk of steps at a time (a fast cloud takes thousands of small steps); the
    # first chunk small, as what comes mostly comes soon
    start, size = 0, ETA_FIRST_CHUNK
    while start < len(times):
        ended, minutes = _first_change(np.array(times[start : start + size]), view.x, view.y, vx, vy, disc,
                                       cloud, sky, covered)
        if ended:
            return minutes
        start, size = start + size, ETA_CHUNK
    return None


def _anything_upwind(sx: float, sy: float, ux: float, uy: float, disc: float, cloud: np.ndarray, sky: np.ndarray,
                     covered: bool) -> bool:
    """Whether the box about every disc eta weighs (the sun's to the farthest upwind, `ux`, `uy` pixels
    away) holds a sky pixel that would change the sun's state: cloud for a visible sun, clear for a covered
    one. Without one _first_change finds nothing (its discs read no cloud, or all cloud): eta is None."""
    h, w = cloud.shape
    x0, x1 = math.floor(min(sx, sx - ux) - disc), math.ceil(max(sx, sx - ux) + disc) + 1
    y0, y1 = math.floor(min(sy, sy - uy) - disc), math.ceil(max(sy, sy - uy) + disc) + 1
    box = np.s_[max(0, y0) : min(h, y1 + 1), max(0, x0) : min(w, x1 + 1)]
    changes = sky[box] & (cloud[box] != covered)
    return bool(changes.any())


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
