"""Which way the camera looks, learned without labels from the sun's track (`cielo calibrate`).

On frames whose time is known the sun's computed azimuth A and zenith angle z stand against where its
saturated disc shows in the frame (lens.find_sun). An upward fisheye puts it at

    x = cx + r(z) sin(phi),  y = cy - r(z) cos(phi),  phi = north + s A,  r(z) = a z + b z^2

(x right, y down; `north`: where north lies, degrees clockwise from the frame's up; s = -1 for a camera
seen from below, whose east lies counter-clockwise of north, +1 for a mirror imager). For a given north
and s the rest is linear: least squares for cx, cy, a, b on a 1-degree grid of north, both signs, refined to
0.05 degrees, dropping discs far off the fit (a reflection, a bright cloud) for a few rounds. The result
says where the zenith is, how the lens maps angle to radius, and where the sun must be in any frame: the sun
state reads "covered" there when no disc shows (sunstate.assess `expected`), the motion gets a compass
bearing. It lives beside the site calibration as `<calibration>.orientation.json`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from cielo.astro import sun

if TYPE_CHECKING:
    from cielo.sources.skycam.frame import Frame
    from cielo.sources.skycam.model import OctaModel

FORMAT = "cielo-orientation/1"
MIN_POINTS = 12  # sun discs on at least this many frames ...
MIN_SPAN_DEG = 30.0  # ... spread over this much azimuth, or the fit is not determined
MIN_ELEVATION = 5.0  # a sun lower than this sits in the horizon's haze and masts
MAX_RESIDUAL_DEG = 5.0  # a fit whose median miss is larger is not kept
ROUNDS = 4


@dataclass(frozen=True, slots=True)
class Orientation:
    cx: float  # the zenith, pixels of a frame `width` x `height`
    cy: float
    a: float  # r(z) = a z + b z^2, pixels, z in radians
    b: float
    north: float  # degrees clockwise from the frame's up
    sign: int  # +1: east clockwise of north (a mirror), -1: counter-clockwise (a camera looking up)
    width: int
    height: int
    frames: int  # discs the fit kept
    residual_deg: float  # their median miss, degrees of sky
    aspect: float = 1.0  # a pixel's height over its width in this frame (a 512x512 lens decoded at 160x120)

    @property
    def mirrored(self) -> bool:
        return self.sign < 0

    def where(self, elevation: float, azimuth: float, width: int, height: int) -> tuple[float, float]:
        """Where the sun (or anything) at this elevation and azimuth shows, pixels of a width x height frame."""
        z = math.radians(90.0 - elevation)
        r = self.a * z + self.b * z * z
        phi = math.radians(self.north + self.sign * azimuth)
        sx, sy = width / self.width, height / self.height
        return ((self.cx + r * math.sin(phi) + 0.5) * sx - 0.5,
                (self.cy - r * math.cos(phi) / self.aspect + 0.5) * sy - 0.5)

    def sun_at(self, ts: datetime, latitude: float, longitude: float, width: int, height: int
               ) -> tuple[float, float] | None:
        el, az = sun.position(ts, latitude, longitude)
        return None if el <= 0 else self.where(el, az, width, height)

    def horizon_px(self) -> float:
        z = math.pi / 2
        return self.a * z + self.b * z * z

    def describe(self) -> list[str]:
        proj = self.horizon_px()
        equi = self.a * math.pi / 2
        kind = "equidistant" if abs(proj - equi) < 0.03 * proj else ("compressed toward the horizon"
                                                                     if proj < equi else "stretched toward it")
        return [f"orientation: north is {self.north:.1f} deg clockwise from the frame's up, east "
                f"{'counter-clockwise' if self.sign < 0 else 'clockwise'} of it (a camera "
                f"{'looking up' if self.sign < 0 else 'over a mirror'})",
                f"zenith at ({self.cx / self.width:.3f}, {self.cy / self.height:.3f}) of the frame; horizon "
                f"{proj / self.width:.3f} of its width from it; lens {kind} (r = {self.a:.2f} z + {self.b:.2f} z^2 px)",
                f"from the sun's disc on {self.frames} frames; median miss {self.residual_deg:.2f} deg"]

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(json.dumps({"format": FORMAT, **asdict(self)}, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)


def learn(model: OctaModel, frames: list[Frame], times: list[datetime | None], latitude: float,
          longitude: float) -> tuple[Orientation | None, int]:
    """The orientation from the frames whose time is known (the sun's disc where it shows on them), and how
    many discs that was."""
    points = []
    for frame, ts in zip(frames, times, strict=True):
        if ts is None:
            continue
        v = model.judge([frame], [ts], latitude, longitude)[0]
        if v.sky is not None and v.sky.seen and v.sky.x is not None and v.sky.y is not None:
            el, az = sun.position(ts, latitude, longitude)
            points.append((v.sky.x, v.sky.y, el, az))
    if not frames:
        return None, 0
    geom = model.geometry(frames[0])
    return fit(points, model.width, model.height, geom.rx / geom.ry if geom.found else 1.0), len(points)


def beside(calibration: Path) -> Path:
    return calibration.with_name(calibration.stem + ".orientation.json")


def load(path: Path) -> Orientation | None:
    """The orientation saved at `path`; None when there is none or it cannot be read (the sun state then goes
    by what each frame shows)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.pop("format", None) != FORMAT:
            return None
        return Orientation(**{k: (int(v) if k in ("sign", "width", "height", "frames") else float(v))
                              for k, v in raw.items()})
    except (OSError, ValueError, TypeError):
        return None


def fit(points: list[tuple[float, float, float, float]], width: int, height: int, aspect: float = 1.0
        ) -> Orientation | None:
    """The orientation from (x, y, elevation, azimuth) of the sun's disc on frames `width` x `height` whose
    pixels are `aspect` times as tall as wide (the lens ellipse's rx / ry); None when the discs are too few or
    too bunched, or no fit explains them to MAX_RESIDUAL_DEG."""
    pts = np.array([p for p in points if p[2] >= MIN_ELEVATION], dtype=np.float64)
    if len(pts) < MIN_POINTS:
        return None
    pts[:, 1] *= aspect  # square pixels for the fit
    az = np.radians(pts[:, 3])
    span = math.degrees(float(np.ptp(np.unwrap(np.sort(az)))))
    if span < MIN_SPAN_DEG:
        return None
    keep = np.ones(len(pts), dtype=bool)
    best = None
    for _ in range(ROUNDS):
        best = _search(pts[keep])
        if best is None:
            return None
        miss = _miss(best, pts)
        limit = max(3 * float(np.median(miss[keep])), 1.5)
        new = miss <= limit
        if new.sum() < MIN_POINTS or (new == keep).all():
            break
        keep = new
    assert best is not None
    cx, cy, a, b, north, sign = best
    miss = _miss(best, pts[keep])
    px_per_deg = a * math.pi / 180 if a > 0 else 1.0
    residual = float(np.median(miss)) / px_per_deg
    if a <= 0 or residual > MAX_RESIDUAL_DEG:
        return None
    return Orientation(cx, cy / aspect, a, b, north % 360.0, sign, width, height, int(keep.sum()), residual,
                       aspect)


def _design(pts: np.ndarray, north: float, sign: int) -> tuple[np.ndarray, np.ndarray]:
    z = np.radians(90.0 - pts[:, 2])
    phi = np.radians(north + sign * pts[:, 3])
    s, c = np.sin(phi), np.cos(phi)
    n = len(pts)
    m = np.zeros((2 * n, 4))
    m[:n, 0], m[n:, 1] = 1, 1
    m[:n, 2], m[:n, 3] = z * s, z * z * s
    m[n:, 2], m[n:, 3] = -z * c, -z * z * c
    return m, np.concatenate([pts[:, 0], pts[:, 1]])


def _solve(pts: np.ndarray, north: float, sign: int) -> tuple[np.ndarray, float] | None:
    m, y = _design(pts, north, sign)
    try:
        coef = np.linalg.solve(m.T @ m, m.T @ y)
    except np.linalg.LinAlgError:
        return None
    return coef, float(((m @ coef - y) ** 2).sum())


def _search(pts: np.ndarray) -> tuple[float, float, float, float, float, int] | None:
    best, best_err = None, math.inf
    for sign in (-1, 1):
        for north in np.arange(0.0, 360.0, 1.0):
            got = _solve(pts, north, sign)
            if got is not None and got[0][2] > 0 and got[1] < best_err:
                best, best_err = (north, sign), got[1]
    if best is None:
        return None
    north0, sign = best
    for north in np.arange(north0 - 1.0, north0 + 1.0, 0.05):
        got = _solve(pts, north, sign)
        if got is not None and got[0][2] > 0 and got[1] < best_err:
            best, best_err = (float(north), sign), got[1]
    coef, _ = _solve(pts, best[0], best[1])  # type: ignore[misc]
    return float(coef[0]), float(coef[1]), float(coef[2]), float(coef[3]), best[0], best[1]


def _miss(fit: tuple[float, float, float, float, float, int], pts: np.ndarray) -> np.ndarray:
    cx, cy, a, b, north, sign = fit
    m, y = _design(pts, north, sign)
    r = m @ np.array([cx, cy, a, b]) - y
    n = len(pts)
    return np.hypot(r[:n], r[n:])


# File names that carry the time a frame was taken, in the camera's zone: cielo's own saved images
# (YYYY-MMDDHHMM), LenghuSky-8's and many all-sky cameras' (YYYY-MM-DD-HH-MM-SS, YYYYMMDD_HHMMSS, ...)
_STAMP = re.compile(r"(20\d\d)[-_]?(\d\d)[-_]?(\d\d)[-_T ]?(\d\d)[-_:]?(\d\d)(?:[-_:]?(\d\d))?")


def time_from_name(name: str, zone: ZoneInfo) -> datetime | None:
    m = _STAMP.search(name)
    if m is None:
        return None
    y, mo, d, h, mi, s = (int(v) if v else 0 for v in m.groups())
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=zone)
    except ValueError:
        return None
