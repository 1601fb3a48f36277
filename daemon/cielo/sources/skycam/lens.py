"""Where the sky is in a frame: the lens circle (an ellipse where pixels are not square), the sun, and the
per-pixel geometry the octa model needs (distance from the lens centre, angle to the sun).

Pure numpy on the decoded frame (uint8 [3, H, W]); used by the classifier before the ONNX call and by
`cielo calibrate` (which fits the same ellipse on many frames of one camera).

The lens circle is found from the inside out: rays from a first guess of the centre run until they meet
pixels that cannot be sky (dark: the black surround of a fisheye, or green: the ground ring of a mirror
imager); the ray ends are fitted with an axis-aligned ellipse, dropping ends that fall short of it (masts,
huts, the shadow band) and ends at the frame's border (a clipped circle). A frame whose rays mostly reach the
border has no surround: it is all sky.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

RAYS = 72
DARK_REL = 0.25  # a pixel darker than this share of the sky's level ends a ray ...
DARK_ABS = 0.03  # ... or darker than this (0..1)
GREEN = 0.04  # ... or green over both red and blue by this much: grass and trees, never sky ...
GREEN_CHROMA = 0.1  # ... and by this share of its brightness (a whitish cloud with a green cast is sky)
# TINTED_SKY: in the octa area a green pixel is ground only with its blue under its red. Foliage reflects less
# blue than red; a mirror's or dome's green tint keeps sky and cloud blue-green (ARM TSI's cloud reads (185, 218,
# 191): 6 % of its octa area, nearly all cloud, went as ground, and broken cloud read 1-2.5 octas low). Rays still
# stop at any green: a mirror's teal edge is what ends them on a clear day (tried: TSI clear <= 2 97 -> 92 %).
# ... and a frame with this share of it tinted sky has its lens fitted a second time, through the tint (find_lens):
# TSI's clear frames show 2-3 % (the mirror's teal rim), its cloudy ones up to 27 %; LenghuSky's nights under 2 %
RETRY_TINTED = 0.03
MIN_EDGE_RAYS = 0.3  # fewer rays than this share ending inside the frame: no surround, all sky
FAR_ENDS = 0.4  # the second start of a fit: the ray ends beyond this quantile of their distance from the start
RESCUE_SUPPORT = 0.15  # ... and one the farther ends gave, this share (TSI's rescued rings: 14-28 of 72 rays; a
# crop's tinted patches, tests/sources/skycam/test_lens_tinted.py: 8)
MIN_SUPPORT = 0.4  # a fit kept alone needs this share of the rays ending on it (within 0.93..1.1 of it)
SATURATED = 0.94  # min(R, G, B) over this: the sun or its glare
SUN_LEVEL = 0.94  # the sun: the densest blob of pixels with min(R, G, B) over this
# A camera whose JPEG white sits low (or a darker one: research/camera_shift.py "exposure x0.6") clips its disc at
# 0.6: at a bar of 0.7 the disc was lost and its glare read as cloud (LenghuSky 2018-2019 timed strict 354 -> 372 of
# 443 at 0.5, TSI 2017-05-24 blind MAE 0.71 -> 0.44; untransformed frames of both cameras unchanged, the ratio to
# the sky's median and the plateau's colourless top still guard against a bright cloud)
# By daylight at a known time the bar in levels is dropped and the ratio alone decides: a bar in levels reads the
# camera's exposure, the ratio does not (LenghuSky-8 clips a high sun's disc at 0.76-0.89; through "exposure x0.6"
# the 2018-2019 clear days it lost clipped at 0.46-0.49: no disc, no glare left out, no surface; read 3-7). By night
# or at an unknown time the bar stays: a star or the moon in a dark frame stands as far over its sky (docs/design.md,
# "Other cameras by day: a darker camera's disc, a warm camera's low sun").
CLIPPED_SUN = 0.5  # no saturated blob: the brightest plateau is the sun when min(R, G, B) is over this ...
CLIPPED_RATIO = 1.8  # ... and this many times the sky's median
BLOWN_OUT = 0.97  # ... in a frame without a lens circle (a crop: no sun to look for)
OCTA_RADIUS = 0.85  # octas are counted within this share of the lens radius
FAINT_GREEN = 0.5  # a frame without a surround at the green bar is fitted again at this share of it (find_lens)
FAINT_TONE = 0.5  # ... and with the dark bar's share of the sky's level raised to this power (find_lens)


@dataclass(frozen=True, slots=True)
class Lens:
    cx: float  # centre, pixels of the frame it was fitted on
    cy: float
    rx: float  # semi-axes, pixels
    ry: float
    width: int  # the frame's size
    height: int
    found: bool  # False: no surround seen, the whole frame is sky

    def scaled(self, width: int, height: int) -> Lens:
        sx, sy = width / self.width, height / self.height
        return Lens((self.cx + 0.5) * sx - 0.5, (self.cy + 0.5) * sy - 0.5, self.rx * sx, self.ry * sy,
                    width, height, self.found)

    def rho(self) -> np.ndarray:
        """Distance from the centre in lens radii, [H, W]; for an all-sky frame, 0 everywhere. Read-only: built once
        per lens (_rho), as the octa maps, the day-like test and the sun's state each ask for it."""
        return _rho(self)

    def as_dict(self) -> dict:
        return {"found": self.found, "cx": round(self.cx / self.width, 4), "cy": round(self.cy / self.height, 4),
                "rx": round(self.rx / self.width, 4), "ry": round(self.ry / self.height, 4)}

    @classmethod
    def from_dict(cls, d: dict, width: int, height: int) -> Lens:
        return cls(float(d["cx"]) * width, float(d["cy"]) * height, float(d["rx"]) * width,
                   float(d["ry"]) * height, width, height, bool(d["found"]))


@functools.lru_cache(maxsize=4)
def _rho(geom: Lens) -> np.ndarray:
    # (a Lens holds Python floats, whoever builds it: equal lenses give equal distances)
    if not geom.found:
        out = np.zeros((geom.height, geom.width), dtype=np.float32)
    else:
        yy, xx = pixel_grid(geom.height, geom.width)
        out = np.sqrt(((xx - geom.cx) / geom.rx) ** 2 + ((yy - geom.cy) / geom.ry) ** 2)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=4)
def pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Read-only float32 (y, x) coordinates of every pixel: built once per frame size, not twice per frame."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy.flags.writeable = xx.flags.writeable = False
    return yy, xx


def sun_distance(geom: Lens, sun: tuple[float, float]) -> np.ndarray:
    """float32 [H, W]: each pixel's distance to the sun (x, y), in lens radii (half the frame without one).
    Read-only: built once per lens and sun (the octa maps' glare and the sun's state ask for the same one)."""
    return _sun_distance(geom, sun[0], sun[1])


# typed: a numpy float64 sun (an orientation's) computes in float64 where a Python float's computes in float32
@functools.lru_cache(maxsize=4, typed=True)
def _sun_distance(geom: Lens, x: float, y: float) -> np.ndarray:
    yy, xx = pixel_grid(geom.height, geom.width)
    rx, ry = (geom.rx, geom.ry) if geom.found else (geom.width / 2, geom.height / 2)
    out = np.sqrt(((xx - x) / rx) ** 2 + ((yy - y) / ry) ** 2)
    out.flags.writeable = False
    return out


def nonzero2d(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.nonzero of a 2-D mask (rows, columns), from its flat indices: the same arrays, ~7x faster than numpy's
    2-D nonzero (0.045 -> 0.007 ms on a sun's blob at 160x120)."""
    return np.divmod(np.flatnonzero(mask), mask.shape[1])


def all_sky(width: int, height: int) -> Lens:
    return Lens((width - 1) / 2, (height - 1) / 2, width / 2, height / 2, width, height, False)


def not_sky(px: np.ndarray, dark_too: bool = True, tinted_sky: bool = False, faint: bool = False) -> np.ndarray:
    """bool [H, W]: pixels that end a ray (dark or green; green only with `dark_too` False). `tinted_sky` (the
    octa area): a green pixel with its blue at least its red is sky (TINTED_SKY). `faint`: green by FAINT_GREEN
    of the margins (a camera with less colour, find_lens)."""
    # Integer arithmetic on the uint8 planes: this runs twice per frame on every capture and backfill image.
    r, g, b = px[0], px[1], px[2]
    bright = np.maximum(np.maximum(r, g), b)
    # green over red and blue, by a margin that grows with brightness: a whitish cloud in a greenish JPEG is
    # sky. (g - max(r, b)) / 255 > max(GREEN, GREEN_CHROMA * bright / 255), times 255 / GREEN_CHROMA = 10:
    lead = (g.astype(np.int16) - np.maximum(r, b)) * np.int16(round(1 / GREEN_CHROMA))
    if faint:  # (the same margins times FAINT_GREEN: the lead counted 1 / FAINT_GREEN times over)
        lead = lead * np.int16(round(1 / FAINT_GREEN))
    green = lead > np.maximum(np.int16(round(GREEN * 255 / GREEN_CHROMA)), bright)
    if tinted_sky:
        green &= b < r
    if not dark_too:
        return green
    h, w = bright.shape
    centre = bright[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].ravel()
    k = (centre.size - 1) * 3 // 4
    level = float(np.partition(centre, k)[k])  # the 75th percentile (0..255), without np.percentile's cost
    return green | (bright < max(DARK_ABS * 255, (DARK_REL ** FAINT_TONE if faint else DARK_REL) * level))


@functools.lru_cache(maxsize=4)
def _ray_samples(h: int, w: int, cx: float, cy: float, rays: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where the rays from (cx, cy) sample a frame: x, y [rays, steps], inside the frame, flat pixel index,
    last step inside. Read-only; cached because every frame starts its first rays from its centre."""
    dx, dy = _ray_steps(h, w, rays)
    xs = cx + dx
    ys = cy + dy
    inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
    last_in = inside.sum(axis=1) - 1
    # the steps are as long as the frame's diagonal, but rays from near the centre leave the frame in about half of
    # them: past the last step any ray takes inside, every sample is outside (no hit, no sky), so cutting them there
    # (one all-outside step kept) changes no ray's end (ray_ends from the centre at 160x120: 0.071 -> 0.054 ms). Kept
    # whole when a ray never enters the frame: its end is then the last step's
    if (last_in >= 0).all():
        steps = int(np.flatnonzero(inside.any(axis=0))[-1]) + 2
        xs, ys, inside = xs[:, :steps], ys[:, :steps], inside[:, :steps]
    xi = np.clip(np.rint(xs), 0, w - 1).astype(np.intp)
    yi = np.clip(np.rint(ys), 0, h - 1).astype(np.intp)
    out = (xs, ys, inside, yi * w + xi, last_in)
    for a in out:
        a.flags.writeable = False
    return out


@functools.lru_cache(maxsize=4)
def _ray_steps(h: int, w: int, rays: int) -> tuple[np.ndarray, np.ndarray]:
    """float32 [rays, steps]: each ray's steps from its start, x and y; the same for every start in a frame size
    (a fitted centre misses _ray_samples' cache: two to four starts a frame)."""
    steps = np.arange(1, int(np.hypot(w, h)), dtype=np.float32)
    ang = np.linspace(0, 2 * np.pi, rays, endpoint=False, dtype=np.float32)
    out = (np.cos(ang)[:, None] * steps[None], np.sin(ang)[:, None] * steps[None])
    for a in out:
        a.flags.writeable = False
    return out


def ray_ends(stop: np.ndarray, cx: float, cy: float, rays: int = RAYS) -> tuple[np.ndarray, np.ndarray]:
    """Where rays from (cx, cy) first meet a run of 2 stopping pixels: points [k, 2] (x, y) and a flag per
    ray, True when the ray left the frame instead (no edge there)."""
    h, w = stop.shape
    xs, ys, inside, flat, last_in = _ray_samples(h, w, float(cx), float(cy), rays)
    hit = np.ravel(stop).take(flat) & inside
    run = hit[:, :-1] & hit[:, 1:]
    run = np.concatenate([run, np.zeros((rays, 1), dtype=bool)], axis=1)
    # the ray starts where it first sees sky (a run of 3): a camera or mount at the centre is skipped
    sky = ~hit & inside
    sky3 = sky[:, :-2] & sky[:, 1:-1] & sky[:, 2:]
    start = np.where(sky3.any(axis=1), sky3.argmax(axis=1), 0)
    run &= np.arange(run.shape[1])[None] >= start[:, None]
    first = np.where(run.any(axis=1), run.argmax(axis=1), -1)
    left = first < 0
    k = np.where(left, last_in, first)
    return np.stack([xs[np.arange(rays), k], ys[np.arange(rays), k]], axis=1), left


def fit_ellipse(pts: np.ndarray) -> tuple[float, float, float, float] | None:
    """Axis-aligned ellipse A x^2 + B y^2 + C x + D y = 1 by least squares: (cx, cy, rx, ry)."""
    if len(pts) < 5:
        return None
    ox, oy = _mean32(pts[:, 0]), _mean32(pts[:, 1])
    sc = float(np.abs(pts - [ox, oy]).max()) or 1.0
    x, y = (pts[:, 0] - ox) / sc, (pts[:, 1] - oy) / sc
    m = np.empty((len(x), 4), dtype=x.dtype)  # np.stack's layout and values, without its checks (5 -> 2 us)
    m[:, 0], m[:, 1], m[:, 2], m[:, 3] = x * x, y * y, x, y
    try:  # the normal equations: 4 unknowns (lstsq's SVD costs more, and more of OpenBLAS in memory)
        a, b, c, d = np.linalg.solve(m.T @ m, m.T @ np.ones_like(x))
    except np.linalg.LinAlgError:
        return None
    if a <= 0 or b <= 0:
        return None
    cx, cy = -c / (2 * a), -d / (2 * b)
    g = 1 + a * cx * cx + b * cy * cy
    if g <= 0:
        return None
    return float(cx * sc + ox), float(cy * sc + oy), float(np.sqrt(g / a) * sc), float(np.sqrt(g / b) * sc)


def _mean32(values: np.ndarray) -> float:
    """float(values.mean()) of a vector, for float32 (the ray ends) as numpy computes it (its float32 sum over the count
    in float64, rounded to float32) without np.mean's wrapper: 5 -> 1.3 us, and a frame's ~17 ellipse fits take two."""
    if values.dtype != np.float32:
        return float(values.mean())
    return float(np.float32(float(np.add.reduce(values)) / len(values)))


def robust_fit(pts: np.ndarray, rounds: int = 4) -> tuple[float, float, float, float] | None:
    """The ellipse of the outer envelope: ends well inside the fit (obstructions) are dropped, and a few far
    outside (a lit hut, a label in the surround) too."""
    keep = np.ones(len(pts), dtype=bool)
    fit = None
    for _ in range(rounds):
        fit = fit_ellipse(pts[keep])
        if fit is None:
            return None
        cx, cy, rx, ry = fit
        rho = np.hypot((pts[:, 0] - cx) / rx, (pts[:, 1] - cy) / ry)
        new = (rho > 0.93) & (rho < 1.1)
        if np.count_nonzero(new) < 8 or (new == keep).all():
            break
        keep = new
    return fit


def find_lens(px: np.ndarray, stop: np.ndarray | None = None, tinted_retry: bool = True) -> Lens:
    """The lens ellipse of one frame (uint8 [3, H, W]), or all-sky when the frame has no surround.

    The rays start from the frame's centre, then again from the first fit's centre; of the two fits the one
    more ray ends agree with wins: a second start inside a mount at the centre (TSI's camera arm) stops half
    the rays at once and would pull the ellipse off the mirror.

    A frame with green-tinted sky (TINTED_SKY) is fitted twice, with rays that stop at any green and with rays
    that run through the tinted pixels, and the fit more ray ends of the second kind agree with wins: a
    mirror's tinted cloud ends rays short of its edge (ARM TSI cloudy frames: semi-axes off by a fifth), while
    on a clear day its tinted horizon is what ends them. `tinted_retry` False: the first fit only, of every
    ray end (no second fit of the farther ends, _best_fit): calibration's median over many frames needs no
    rescue of a hard frame, and the rescued fits moved it (TSI 2018-04-18 calibrated 0.24 -> 0.38 octas)."""
    stop = not_sky(px) if stop is None else stop
    found = _fit_lens(px, stop, far_start=tinted_retry)
    if not tinted_retry:
        return found
    found = _tinted_fit(px, stop, found)
    if found.found:
        return found
    # No surround at the full green bar: either none (a crop) or one whose colour this camera renders faintly.
    # A camera with less colour than ours (a flatter picture style: saturation 0.7, gamma 0.8) shows ARM TSI's
    # teal mirror rim under the bar, every ray runs through the ground ring to the border, and the ring is
    # read as sky (research/camera_shift.py: 138 of 151 TSI frames of 2018-04-18 lost their lens, MAE 0.7 ->
    # 2.6). Saturation scales every colour difference alike, so the rim stands out at a fraction of the bar;
    # such a fit stands only when MIN_SUPPORT of its rays agree with it, as any lone fit must.
    # The fit through the tinted sky can win on tinted ray ends and still fail the lone-fit bar, where the plain
    # faint fit passes it (the clear afternoon of TSI 2018-04-18 at saturation 0.7: 47-55 of 72 rays on the
    # plain fit, 11-19 on the tinted one; the ring was read as cloud, 3-4 octas for 0-1): either stands alone.
    # At half the bar only the rim's most coloured pixels count: a line one pixel wide with gaps (JPEG keeps colour
    # at half resolution, smeared over the rim's neighbours), which a ray, stopping at a run of 2 such pixels, runs
    # through to the ground ring's far edge; the ends split between the two rings, and no fit stands (23 of 23
    # such TSI 2018-04-18 frames at saturation 0.7 tried: 15-28 rays on the plain fit; on the rim grown by a
    # pixel, 53-65). Grown only when the thin rim gave nothing: grown, a night frame's dark specks end rays short
    # too (a LenghuSky-8 2020 clear night through a cool white balance lost its lens, read 7).
    faint = not_sky(px, faint=True)
    for mask in (faint, _grown(faint)):
        plain = _fit_lens(px, mask)
        for other in (_tinted_fit(px, mask, plain, faint=True), plain):
            if other.found and _support(mask, other) >= MIN_SUPPORT * RAYS:
                return other
    return found


def _grown(mask: np.ndarray) -> np.ndarray:
    """`mask` grown by one pixel to each side (4-neighbours)."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def _tinted_fit(px: np.ndarray, stop: np.ndarray, found: Lens, faint: bool = False) -> Lens:
    """`found`, or the fit through the tinted sky when more ray ends agree with it (find_lens)."""
    tinted = not_sky(px, tinted_sky=True, faint=faint)
    if np.count_nonzero(stop & ~tinted) < RETRY_TINTED * stop.size:  # (almost) no tinted sky: one fit
        return found
    other = _fit_lens(px, tinted)
    if not other.found:
        return found
    if not found.found:
        # the first fit failed outright when tinted cloud ended most rays near the centre (ARM TSI broken
        # cloud: an ellipse a fifth of the frame wide, refused, and the whole frame, ground ring too, read as
        # sky): the second stands only when most of its rays agree with it, as a lone fit must (MIN_SUPPORT)
        return other if _support(tinted, other) >= MIN_SUPPORT * RAYS else found
    return other if _support(tinted, other) > _support(tinted, found) else found


def _support(stop: np.ndarray, geom: Lens) -> int:
    """How many rays from the ellipse's centre end on it."""
    pts, left = ray_ends(stop, geom.cx, geom.cy)
    return _on_ellipse(pts[~left], geom.cx, geom.cy, geom.rx, geom.ry)


def _on_ellipse(ends: np.ndarray, cx: float, cy: float, rx: float, ry: float) -> int:
    """How many ray ends lie on the ellipse (within 0.93..1.1 of it)."""
    rho = np.hypot((ends[:, 0] - cx) / rx, (ends[:, 1] - cy) / ry)
    return np.count_nonzero((rho > 0.93) & (rho < 1.1))


def _fit_lens(px: np.ndarray, stop: np.ndarray, far_start: bool = True) -> Lens:
    _, h, w = px.shape
    cx, cy = (w - 1) / 2, (h - 1) / 2
    best, best_support, rescued = None, -1, False
    for _ in range(2):
        pts, left = ray_ends(stop, cx, cy)
        fit, support, farther = _best_fit(pts[~left], cx, cy, w, h, far_start) \
            if (~left).mean() >= MIN_EDGE_RAYS else (None, -1, False)
        if fit is None:
            # the second start failing keeps the first fit only when most rays agreed with it: a dark
            # crop's patches stop rays too, and give a loose fit
            if best is None or best_support < MIN_SUPPORT * RAYS:
                return all_sky(w, h)
            break
        rescued |= farther
        if support > best_support:
            best, best_support = fit, support
        cx, cy = fit[0], fit[1]
    assert best is not None
    if rescued and best_support < RESCUE_SUPPORT * RAYS:
        # a crop's patches (no surround) would otherwise lend their farthest ends an ellipse
        return all_sky(w, h)
    return Lens(best[0], best[1], best[2], best[3], w, h, True)


def _best_fit(ends: np.ndarray, cx: float, cy: float, w: int, h: int, far_start: bool = True
              ) -> tuple[tuple[float, float, float, float] | None, int, bool]:
    """(fit, how many ends lie on it, whether the farther ends gave it): the robust fit of the ray ends, or of
    the farther of them when more ends agree with that one:
    a mount across the lens (TSI's shadow band from the centre to the rim, with the sun at its end) stops a run of
    rays short, and a first fit through all of them can land far off the ring, where the trimming never recovers
    it (8 of 325 TSI frames had no lens, the ground ring read as sky: 2-4 octas off)."""
    dist = np.hypot(ends[:, 0] - cx, ends[:, 1] - cy)
    best, best_support, farther = None, -1, False
    subsets = [ends, ends[dist >= quantile(dist, FAR_ENDS)]] if far_start and len(ends) else [ends]
    for i, subset in enumerate(subsets):
        fit = robust_fit(subset)
        if fit is None:
            continue
        ncx, ncy, rx, ry = fit
        if not (0 <= ncx < w and 0 <= ncy < h) or min(rx / w, ry / h) < 0.2 or max(rx / w, ry / h) > 0.75:
            continue
        support = _on_ellipse(ends, *fit)
        if support > best_support:
            best, best_support, farther = fit, support, i > 0
    return best, best_support, farther


def find_sun(darkest: np.ndarray, valid: np.ndarray, clipped: float = CLIPPED_SUN, bloom: bool = False
             ) -> tuple[float, float] | None:
    """The sun's position (x, y), pixels: the centre of the largest saturated blob, or None. `darkest`: min(R,
    G, B) of the uint8 frame, [H, W]; `clipped`: the least level (0..1) a plateau below full scale may be the
    disc at (CLIPPED_SUN); `bloom`: over SPREAD_CLIPPED saturated pixels, the densest spot whose light stays
    brightest all round it (_bloomiest): the blind path alone (on the timed and calibrated paths it moved TSI
    calibrated 0.190 -> 0.238)."""
    sat = (darkest >= int(SUN_LEVEL * 255)) & valid
    n = np.count_nonzero(sat)
    if n < 3 and valid.any():
        # a camera that clips below full scale (its sun a flat top at, say, 0.8): the brightest plateau,
        # when it stands far above the sky's typical level
        inside = darkest[valid]
        top = int(inside.max())
        if top >= clipped * 255 and top >= CLIPPED_RATIO * float(np.median(inside)):
            sat = (darkest >= top - 2) & valid
            n = np.count_nonzero(sat)
    if n < 3:
        return None
    ys, xs = nonzero2d(sat)
    # the densest saturated spot: weight each saturated pixel by its saturated neighbours within ~4 px
    if n > 150:
        pick = np.linspace(0, n - 1, 150).astype(int)
        ys, xs = ys[pick], xs[pick]
    # in int32 (a distance squared is under 2^31 for any frame): the 150 x 150 squares cost 5x as much in int64
    x32, y32 = xs.astype(np.int32), ys.astype(np.int32)
    d2 = (x32[:, None] - x32[None]) ** 2 + (y32[:, None] - y32[None]) ** 2
    near = d2 < 25
    score = near.sum(axis=1)
    best = int(score.argmax())
    if bloom and n > SPREAD_CLIPPED:
        best = _bloomiest(darkest, valid, xs, ys, near, score)
    return float(xs[near[best]].mean()), float(ys[near[best]].mean())


SPREAD_CLIPPED = 300  # saturated pixels: over this, a bright camera's clipped cloud or horizon vies with the disc
SPOTS = 5  # ... and the densest spots, each apart from the ones before, are held against each other
BLOOM_MARGIN = 20.0  # levels of min(R, G, B): what the bloomiest spot must beat the densest one's bloom by
BLOOM_RADII = (5, 8)  # pixels: the disc's bloom, bright at these distances in every direction
_ANGLES = np.linspace(0, 2 * np.pi, 8, endpoint=False)
_RAY_X = np.array(BLOOM_RADII, dtype=np.float64)[:, None] * np.cos(_ANGLES)[None]  # [radius, ray] offsets, pixels
_RAY_Y = np.array(BLOOM_RADII, dtype=np.float64)[:, None] * np.sin(_ANGLES)[None]


def _bloomiest(darkest: np.ndarray, valid: np.ndarray, xs: np.ndarray, ys: np.ndarray, near: np.ndarray,
               score: np.ndarray) -> int:
    """Of the densest saturated spots, the one whose surroundings stay brightest in every direction (the sum over
    BLOOM_RADII of the darkest of 8 rays' min(R, G, B)): the sun's bloom falls off slowly all round it, a clipped
    lit cloud or horizon patch meets blue sky or ground on some side. Main's densest spot alone ties over a
    large clipped area (every subsampled pixel as dense) and settles on its first, the frame's top."""
    h, w = darkest.shape
    left = np.ones(len(xs), dtype=bool)
    spots, cx, cy = [], [], []
    for _ in range(SPOTS):
        i = int(np.where(left, score, -1).argmax())
        spots.append(i)
        cx.append(xs[near[i]].mean())
        cy.append(ys[near[i]].mean())
        left &= ~near[i]
        if not left.any():
            break
    px = np.clip(np.rint(np.array(cx)[:, None, None] + _RAY_X[None]).astype(np.intp), 0, w - 1)
    py = np.clip(np.rint(np.array(cy)[:, None, None] + _RAY_Y[None]).astype(np.intp), 0, h - 1)
    # rays leaving the lens circle are skipped (a ring with none inside scores nothing)
    ring = np.where(valid[py, px], darkest[py, px].astype(np.float32), np.float32(np.inf)).min(axis=2)
    ring[~np.isfinite(ring)] = -np.inf
    bloom = ring.sum(axis=1)
    best = int(bloom.argmax())
    # flat clipped patches (no bloom) differ by a few levels where their rays leave them: the densest spot stands
    return spots[best] if bloom[best] - bloom[0] >= BLOOM_MARGIN else spots[0]


@dataclass(frozen=True, slots=True)
class Reference:
    """The clear sky's NRBR, (B - R) / (B + R), as a threshold: below it a pixel is cloud. A clear sky is
    bluest at the zenith far from the sun; it pales toward the horizon (by `horizon` x rho^2) and toward the
    sun (by `sun` x exp(-distance / `sun_scale`), distance in lens radii). `cielo calibrate` replaces the
    defaults with the site's own (its table: the threshold per band of rho and of distance to the sun)."""

    zenith: float = 0.14
    horizon: float = 0.0
    sun: float = 0.0
    sun_scale: float = 0.25
    table: tuple[tuple[float, ...], ...] | None = None  # [rho band][sun band] thresholds, from calibration
    own_sky: tuple[tuple[bool, ...], ...] | None = None  # [rho band][sun band]: the frame's surface may lower it
    all_sky: float = 0.25  # a frame without a lens circle (a crop, a plain camera): the hybrid rule's base
    # the site's clear sky, as blue as the reference camera's times this (calibration.clear_scale): the day bars
    # that hold an absolute NRBR (SURFACE_CLEAR, the deck bar's step, SURFACE_FLOOR) scale with it
    clear_scale: float = 1.0

    def threshold(self, rho: np.ndarray, gam: np.ndarray | None, found: bool = True) -> np.ndarray:
        if self.table is not None:
            return self._per_band(self.table, rho, gam).astype(np.float32)
        if not found:
            return np.full(rho.shape, self.all_sky, dtype=np.float32)
        thr = np.float32(self.zenith) - np.float32(self.horizon) * rho * rho
        if gam is not None:
            thr = thr - np.float32(self.sun) * np.exp(-gam / np.float32(self.sun_scale))
        return thr.astype(np.float32)

    def own_sky_allowed(self, rho: np.ndarray, gam: np.ndarray | None) -> np.ndarray | bool:
        """Where the frame's own clear-sky surface may lower the threshold: everywhere, unless a calibration
        says per band (its bands where the site's clear sky is bluer than the model's keep the site's)."""
        if self.table is None or self.own_sky is None:
            return True
        return self._per_band(self.own_sky, rho, gam).astype(bool)

    @staticmethod
    def _per_band(table: tuple[tuple[float | bool, ...], ...], rho: np.ndarray, gam: np.ndarray | None
                  ) -> np.ndarray:
        t = np.asarray(table)
        ri = np.clip((rho / OCTA_RADIUS * t.shape[0]).astype(np.intp), 0, t.shape[0] - 1)
        if gam is None:
            gi = np.full(rho.shape, t.shape[1] - 1, dtype=np.intp)
        else:
            gi = np.clip((gam / SUN_BAND).astype(np.intp), 0, t.shape[1] - 1)
        return t[ri, gi]


SUN_BAND = 0.25  # calibration table: bands of distance to the sun, lens radii (the last band: farther)
SUN_GLARE = 0.25  # pixels this close to the sun (lens radii) are glare, neither sky nor cloud (0.08, 0.15, 0.25
# measured on TSI and LenghuSky day: 0.25 best on both)


def nrbr(px: np.ndarray) -> np.ndarray:
    """float32 [H, W]: (B - R) / (B + R) of a uint8 frame, as the graph computes it (eps 1e-3 of 0..1)."""
    r, b = px[0].astype(np.float32), px[2].astype(np.float32)
    return (b - r) / (b + r + np.float32(0.255))


@dataclass(frozen=True, slots=True)
class Maps:
    valid: np.ndarray  # float32 [H, W], 1 where a pixel counts toward the octas
    threshold: np.ndarray  # float32 [H, W], the clear-sky reference
    sun: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class Counted:
    """What maps() finds before any threshold: it depends on the frame, its lens, the site's mask and the light alone,
    not on the reference (read-only arrays: maps() never writes them)."""

    px: np.ndarray  # uint8 [3, H, W]: the frame
    rho: np.ndarray  # float32 [H, W]: Lens.rho
    valid: np.ndarray  # bool [H, W]: the pixels that count
    sun: tuple[float, float] | None
    gam: np.ndarray | None  # float32 [H, W]: distance to the sun (sun_distance), None without a sun
    memo: dict = field(default_factory=dict)  # what ratio() and surface() found, once per Counted

    def ratio(self) -> np.ndarray:
        """nrbr of the frame, computed once."""
        if "ratio" not in self.memo:
            out = nrbr(self.px)
            out.flags.writeable = False
            self.memo["ratio"] = out
        return self.memo["ratio"]

    def surface(self, clear_bar: float) -> np.ndarray | None:
        """clear_sky_surface of the frame over its counted pixels, computed once per bar (a second threshold on the
        frame, model.py's own split, asks the same question again)."""
        key = ("surface", clear_bar)
        if key not in self.memo:
            out = clear_sky_surface(self.ratio(), self.valid, self.rho, self.gam, clear_bar)
            if out is not None:
                out.flags.writeable = False
            self.memo[key] = out
        return self.memo[key]


def counted(px: np.ndarray, geom: Lens, site: np.ndarray | None = None, daylit: bool = False,
            bloom: bool = False) -> Counted:
    """maps()'s pixels that count, its sun and geometry (Counted). `bloom`: the frame judged without its time
    (find_sun's bloom pick)."""
    rho = geom.rho()
    area = rho <= OCTA_RADIUS
    lens_area = rho <= 1.0
    darkest = np.minimum(np.minimum(px[0], px[1]), px[2])
    # saturated: the sun and its glare; without a lens circle, only the fully blown out (the hybrid rule's)
    unsat = darkest < int((SATURATED if geom.found else BLOWN_OUT) * 255)
    # without a lens circle (a crop, a plain camera) a dark or tinted pixel may be night sky: the graph's
    # own brightness test decides, as in the hybrid rule
    valid = area & unsat
    if geom.found:
        valid &= ~not_sky(px, tinted_sky=True)
    if site is not None:
        valid &= site
    # by daylight (the time known) the plateau is held against the sky's own level alone (CLIPPED_SUN)
    sun = find_sun(darkest, lens_area, 0.0 if daylit else CLIPPED_SUN, bloom=bloom) if geom.found else None
    gam = None
    if sun is not None:
        gam = sun_distance(geom, sun)
        if daylit or sunlit(px, sun):
            valid |= white_cloud(area & ~unsat, gam) & (site if site is not None else True)
        valid &= gam > SUN_GLARE
    for a in (rho, valid) if gam is None else (rho, valid, gam):
        a.flags.writeable = False
    return Counted(px, rho, valid, sun, gam)


def maps(px: np.ndarray, geom: Lens, ref: Reference, site: np.ndarray | None = None,
         stars: np.ndarray | None = None, own_sky: bool = True,
         daylit: bool = False, star_bar: np.ndarray | None = None, starry_share: float | None = None,
         hazy: bool = False, seen: Counted | None = None) -> Maps:
    """Per pixel: which pixels count (the octa area, less ground, dark obstructions, glare and the site's
    fixed obstructions; a green-tinted sky counts, TINTED_SKY) and the clear-sky threshold there: the
    reference's, lowered to just under the frame's own clear-sky surface where it has one (`own_sky`,
    clear_sky_surface), and raised to the clear sky's bar (deck_bar) in a `daylit` frame without one
    (a deck). In a night frame with stars (`stars`: the star density at this size), a pixel among
    stars is clear whatever its colour (threshold -1);
    among stars: over STARS_CLEAR, or over the site's bar at that pixel (`star_bar`, calibrated); a night with
    stars: over `starry_share` of star pixels (STARRY_FRAME, or the site's). `hazy` (haze.py: a clear sky
    under dust haze): the frame's own surface is its clear sky however pale, over the whole sky. `seen`: what
    counted() gave for the same frame, lens, site and `daylit` (a second threshold on one frame: model.py's own
    split)."""
    seen = counted(px, geom, site, daylit) if seen is None else seen
    rho, valid, sun, gam = seen.rho, seen.valid, seen.sun, seen.gam
    threshold = ref.threshold(rho, gam, geom.found)
    # the star rule never acts on a daylit frame (the sun above the horizon at its known time, or in view):
    # sunlit cloud texture at a small scale looks like stars there
    starry_at = STARRY_FRAME if starry_share is None else starry_share
    starry, share = False, 0.0
    if stars is not None and geom.found and not daylit and valid.any():  # a day frame's share is never read
        share = float(stars[valid].mean())
        starry = share > starry_at and not sunlit(px, sun)
    surface_due = own_sky and gam is not None and geom.found and valid.any()
    # by day (the time known) a frame whose sun a deck hides is asked the same question: any clear sky in it?
    deck_due = own_sky and daylit and gam is None and geom.found and valid.any()
    if not (starry or surface_due or deck_due):  # most frames of calibration: no colour needed
        return Maps(valid.astype(np.float32), threshold, sun)
    ratio = seen.ratio()
    if starry and float(np.median(ratio[valid])) < STARRY_MAX_NRBR:  # not a blue day sky: a night with stars
        bar = horizon_bar(rho) if star_bar is None else star_bar
        if share < THIN_VEIL * starry_at:  # a veil or a broken sky: only a gap's full star density is clear
            bar = bar * np.float32(VEIL_BAR)
        threshold = np.where(stars > bar, np.float32(-1.0), threshold).astype(np.float32)
    elif surface_due or deck_due:
        surface = seen.surface(-np.inf if hazy else SURFACE_CLEAR * ref.clear_scale)
        if surface is None and daylit:
            # no clear sky anywhere in a daylit frame (its bluest tenth under SURFACE_CLEAR): what is bluer than
            # the reference is the blue side of a deck (LenghuSky's grey stratus spreads over NRBR 0.01-0.19,
            # across the 0.14 reference: half an overcast read 4-5 octas), so a pixel is sky only as blue as
            # a clear sky's envelope has to be
            threshold = np.maximum(threshold, np.float32(deck_bar(ref))).astype(np.float32)
        elif surface is not None and gam is not None:
            # never under the colour of grey or sunlit cloud: a surface fitted through cloud on the sun's
            # side would otherwise call that cloud clear
            low = np.maximum(np.minimum(threshold, surface - np.float32(SURFACE_MARGIN)),
                             np.float32(SURFACE_FLOOR * ref.clear_scale))
            low = np.minimum(low, threshold)
            # haze pales the whole sky, not only the sun's side; so does a pale camera's veiling glare (a dusty
            # dome: calibration.clear_scale under 1), over the whole mirror (whole_sky_reach)
            reach = np.inf if hazy or whole_sky_reach(ref) else SURFACE_REACH
            threshold = np.where((gam < reach) & ref.own_sky_allowed(rho, gam), low, threshold)
            threshold = threshold.astype(np.float32)
    return Maps(valid.astype(np.float32), threshold, sun)


# By daylight a white-clipped pixel (every channel over SATURATED) is the sun's glare only while the clipped light
# runs on from the sun's disc: elsewhere it is sunlit cloud (a clear sky away from the sun is blue; a brighter camera,
# research/camera_shift.py "exposure x1.5", clips the cloud's every channel). Left out as glare, a cloud deck's lit
# side was not counted at all (TSI 2017-05-24 through exposure x1.5: a third of the octa area, read 1-3 octas low);
# counted, its NRBR (0) reads cloud. The glare is the clipped blob that touches the disc's SUN_GLARE circle, however
# far it runs (a bright camera's bloom spreads past that circle on a clear day: 2018-04-18's clear frames read 3).


def white_cloud(white: np.ndarray, gam: np.ndarray) -> np.ndarray:
    """bool [H, W]: the white-clipped pixels (`white`) that are no part of the sun's glare blob: those outside
    SUN_GLARE of the sun (`gam`, lens radii) not joined to it through other white pixels (4-neighbours)."""
    outside = white & (gam > SUN_GLARE)
    if not outside.any():  # most frames: nothing clipped but the disc's own glare, no fill to pay for
        return outside
    ys, xs = nonzero2d(white)  # the fill runs over the clipped pixels' box only
    box = (slice(int(ys.min()), int(ys.max()) + 1), slice(int(xs.min()), int(xs.max()) + 1))
    white, gam = white[box], gam[box]
    reach = white & (gam <= SUN_GLARE)
    if not reach.any():
        return outside
    outside[box] &= ~_joined(white, reach)
    return outside


def _joined(white: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """bool: the pixels of `white` joined to `seed` (within it) through white 4-neighbours. Whole runs of white along
    the rows, then along the columns, are taken at once until nothing is added: the same set as growing the seed a
    pixel at a time (a bloom across a clipped deck took 20-40 of those steps, about 3 ms of a TSI frame)."""
    reach = seed
    rows, cols = _runs(white), _runs(white.T)
    while True:
        grown = _fill(rows, reach)
        grown = _fill(cols, grown.T).T
        if np.array_equal(grown, reach):
            return reach
        reach = grown


def _runs(mask: np.ndarray) -> np.ndarray:
    """int [H, W]: a number per maximal run of True along each row (1, 2, ...), 0 off the mask."""
    starts = mask.copy()
    starts[:, 1:] &= ~mask[:, :-1]
    return np.cumsum(starts.ravel(), dtype=np.intp).reshape(mask.shape) * mask


def _fill(runs: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """bool: every run (_runs) that holds a pixel of `reach`, whole."""
    hit = np.zeros(int(runs.max()) + 1, dtype=bool)
    hit[runs[reach]] = True
    hit[0] = False
    return hit[runs]


# A white-clipped region the maps count is lit cloud when unclipped pixels ring it (its own edge); clipped clear sky's
# glow (a bright camera's horizon ring round the mirror, a dusty dome's aureole) runs on into white the maps do not
# count: past the octa circle toward the rim, or into the sun's blob. Measured per region on TSI 2017-05-24 (exposure
# x1.5 blind, dusty dome blind and calibrated on 50 frames) and LenghuSky-8 2018-2019 (exposure x1.5): the share of a
# region's 2-pixel border in such white, px-weighted p90 of cloud 0.19-0.30, p10 of clear sky 0.37-0.52; a region
# at GLOW_BORDER or over is kept out of the graph's feed (docs/design.md, "Clipped sky told from lit cloud").
GLOW_BORDER = 0.4
GLOW_STEPS = 2  # the border: this many 4-neighbour steps round the region


def glow_white(fed: np.ndarray, white: np.ndarray) -> np.ndarray:
    """bool [H, W]: the pixels of `fed` (clipped pixels the maps count) in 8-connected regions whose border
    (GLOW_STEPS) lies in `white` pixels outside `fed` (clipped, not counted) for GLOW_BORDER of it or more."""
    out = np.zeros_like(fed)
    if not fed.any():
        return out
    ys, xs = np.flatnonzero(fed.any(axis=1)), np.flatnonzero(fed.any(axis=0))
    h, w = fed.shape
    m = GLOW_STEPS
    box = (slice(max(int(ys[0]) - m, 0), min(int(ys[-1]) + m + 1, h)),
           slice(max(int(xs[0]) - m, 0), min(int(xs[-1]) + m + 1, w)))
    near = white[box]
    for _ in range(m):  # no uncounted white within the border of any region (most lit cloud): nothing to keep out
        near = _grown(near)
    if not (near & fed[box]).any():
        return out
    region = _regions(fed[box])
    grown = _ringed(region, m)
    ring = (grown > 0) & (region == 0)
    n = int(region.max()) + 1
    border = np.bincount(grown[ring], minlength=n)
    glow = np.bincount(grown[ring & white[box]], minlength=n)
    drop = glow >= GLOW_BORDER * np.maximum(border, 1)
    drop[0] = False
    out[box] = drop[region]
    return out


# The same glow with one or two channels clipped, not all three: a brighter camera's pale sky by the horizon or the
# sun clips its blue (and green) first, so its NRBR falls toward the red's and it reads cloud (ARM TSI 2017-05-24
# through research/camera_shift.py "exposure x1.5", calibrated on 50 frames: 16 of every 17 clear-sky pixels that
# read cloud on its clear frames have a channel at PART_WHITE or over: 1.6 % of the counted area, 0.2 %
# untransformed). Lit cloud clips the same channels, but it is grey: its part-clipped pixels that read cloud sit a
# median 0.115 under the threshold (p90 0.071), the clear sky's 0.046 (the same day's pixels). A region of them that
# reads cloud is kept out of the graph (as a clipped pixel is) where its border runs on into uncounted white
# (GLOW_BORDER) and its mean NRBR sits within PART_PALE of the threshold: pale sky, not grey cloud (docs/design.md,
# "A brighter camera's part-clipped glow").
PART_WHITE = 0.98
PART_PALE = 0.06


def _excess(px: np.ndarray, mask: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """float32 [N]: NRBR less the threshold at the pixels of `mask` of a feed batch's frame (`px`, float [3, H, W]
    0..1): under 0 reads cloud."""
    r, b = px[0][mask], px[2][mask]
    return (b - r) / (b + r + np.float32(1e-6)) - threshold[mask]


def part_glow(px: np.ndarray, part: np.ndarray, threshold: np.ndarray, white: np.ndarray) -> np.ndarray:
    """bool [H, W]: the pixels of `part` (counted, a channel of `px`, float [3, H, W] 0..1, at PART_WHITE or over but
    not all at the feed's white) that read cloud (NRBR under `threshold`), in 8-connected regions whose border lies in
    `white` (clipped, not counted) for GLOW_BORDER or more and whose mean NRBR sits within PART_PALE of the
    threshold."""
    out = np.zeros(part.shape, dtype=bool)
    if not part.any():
        return out
    part = part.copy()
    excess = _excess(px, part, threshold)
    cloud = excess < 0
    if not cloud.any():
        return out
    part[part] = cloud
    glow = glow_white(part, white)
    if not glow.any():
        return out
    region = _regions(glow)
    n = int(region.max()) + 1
    ex = excess[cloud]
    sel = glow[part]
    count = np.bincount(region[glow], minlength=n)
    mean = np.bincount(region[glow], weights=ex[sel], minlength=n) / np.maximum(count, 1)
    pale = mean >= -PART_PALE
    pale[0] = False
    return pale[region] & glow


# The sun's glare blob (white_cloud: the white joined to the disc's SUN_GLARE circle) on a brighter camera runs on into
# clipped lit cloud: a cloud deck by the sun clips whole, and all of it joined to the disc is left out as glare (ARM TSI
# 2017-05-24 through research/camera_shift.py "exposure x1.5": 16-20 % of a 4-8 octa frame's octa area). Where the blob
# past the glare circle ends, lit cloud goes on as grey cloud (its edge unclipped, well under the threshold); a clear
# sky's clipped aureole fades into pale or blue sky (docs/design.md, "The sun's blob told from the lit cloud it
# touches"). A region of the blob outside SUN_GLARE whose border's counted pixels read grey cloud (GREY_EDGE under the
# threshold) for GREY_BORDER of them or more is counted as cloud, the frame's time known (OctaModel._glare_cloud).
GREY_EDGE = PART_PALE  # the part-clipped pixels' grey / pale split, above
GREY_BORDER = 0.5
GREY_STEPS = 2
# ... and only in a frame whose counted pixels read grey for GREY_FRAME of them: a clear morning's low sun lights pale
# sky round its blob that reads this grey too (chose day: 24 more clear frames read one high without it)
GREY_FRAME = 0.15


def glare_cloud(px: np.ndarray, blob: np.ndarray, threshold: np.ndarray, counted_: np.ndarray) -> np.ndarray:
    """bool [H, W]: the pixels of `blob` (white the maps do not count, past the glare circle, in the octa area) in
    8-connected regions whose border (GREY_STEPS) holds counted pixels (`counted_`) of which GREY_BORDER or more
    read GREY_EDGE or more under `threshold` (NRBR of `px`, float [3, H, W] 0..1), in a frame whose counted pixels
    read so for GREY_FRAME of them or more."""
    out = np.zeros(blob.shape, dtype=bool)
    if not blob.any():
        return out
    counted_excess = _excess(px, counted_, threshold)
    if np.count_nonzero(counted_excess <= -GREY_EDGE) < GREY_FRAME * counted_excess.size:
        return out
    region = _regions(blob)
    grown = _ringed(region, GREY_STEPS)
    ring = (grown > 0) & (region == 0) & counted_
    if not ring.any():
        return out
    grey = _excess(px, ring, threshold) <= -GREY_EDGE
    n = int(region.max()) + 1
    border = np.bincount(grown[ring], minlength=n)
    greys = np.bincount(grown[ring][grey], minlength=n)
    keep = (greys >= GREY_BORDER * border) & (border > 0)
    keep[0] = False
    return keep[region]


def _ringed(region: np.ndarray, steps: int) -> np.ndarray:
    """`region` (numbers per region, 0 off them) grown `steps` 4-neighbour steps: each ring pixel takes a neighbouring
    region's number (where two meet, the larger); the regions keep their own."""
    grown = region
    for _ in range(steps):
        g = grown.copy()
        np.maximum(g[1:], grown[:-1], out=g[1:])
        np.maximum(g[:-1], grown[1:], out=g[:-1])
        np.maximum(g[:, 1:], grown[:, :-1], out=g[:, 1:])
        np.maximum(g[:, :-1], grown[:, 1:], out=g[:, :-1])
        grown = np.where(region > 0, region, g)
    return grown


def _regions(mask: np.ndarray) -> np.ndarray:
    """int [H, W]: a number per 8-connected region of `mask` (not consecutive), 0 off it. The row runs (_runs) that
    touch across two rows (diagonals too) are joined: the larger root points to the smaller, and the pointers are
    followed to their roots (a few rounds however long a region's chain of runs: a thin ring round the rim)."""
    runs = _runs(mask)
    up, down = runs[:-1], runs[1:]
    above, below = mask[:-1], mask[1:]
    both = above & below
    a, b = [up[both]], [down[both]]
    for cut_up, cut_down in ((np.s_[:, 1:], np.s_[:, :-1]), (np.s_[:, :-1], np.s_[:, 1:])):
        both = above[cut_up] & below[cut_down]
        a.append(up[cut_up][both])
        b.append(down[cut_down][both])
    a, b = np.concatenate(a), np.concatenate(b)
    lab = np.arange(int(runs.max()) + 1)
    while a.size:
        ra, rb = lab[a], lab[b]
        apart = ra != rb
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]
        np.minimum.at(lab, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:
            root = lab[lab]
            if np.array_equal(root, lab):
                break
            lab = root
    return lab[runs]


def horizon_bar(rho: np.ndarray) -> np.ndarray:
    """float32 [H, W]: STARS_CLEAR at the zenith, falling with the airmass toward the horizon (STAR_EXTINCTION)."""
    cos_z = np.cos(np.minimum(rho, np.float32(1.0)) * np.float32(np.pi / 2))
    airmass = np.minimum(np.float32(1.0) / np.maximum(cos_z, np.float32(1.0 / MAX_AIRMASS)), np.float32(MAX_AIRMASS))
    return (np.float32(STARS_CLEAR) * np.exp(np.float32(-STAR_EXTINCTION) * (airmass - np.float32(1.0)))).astype(
        np.float32)


def uniform_sky(px: np.ndarray, valid: np.ndarray) -> bool:
    """The sky's colour and light hardly vary over the octa area (NRBR's 10th to 90th percentile within
    UNIFORM_SPREAD, and its brightness's within UNIFORM_LIGHT of the median): at twilight, an overcast sky (a
    clear one keeps its glow-to-zenith gradient, in colour and in light)."""
    sel = valid > 0
    if sel.sum() < 50:
        return False
    lo, hi = np.percentile(nrbr(px)[sel], [10, 90])
    if float(hi - lo) >= UNIFORM_SPREAD:
        return False
    top = np.maximum(np.maximum(px[0], px[1]), px[2])[sel]
    dim, mid, lit = np.percentile(top, [10, 50, 90])
    return float(lit - dim) < UNIFORM_LIGHT * max(float(mid), 1.0)


# LenghuSky 2018-2020 twilight, time known (79 frames: 42 clear, 22 overcast), MAE / clear read <= 2 / overcast
# read >= 6: NRBR spread alone under 0.07 (skyref-3.3): 1.886 / 98 / 50 %; 0.09 alone: 64 / 86 % (clear lost).
# With the light's spread too (a clear twilight keeps its brightness gradient): 0.09 and 0.6: 1.582 / 98 / 64 %;
# 0.08 / 0.1 with 0.6: 1.684 / 98 / 59 % and 1.582 / 95 / 68 %; 0.09 with 0.55 / 0.65: 1.785 / 98 / 55 %, 1.684
# / 95 / 64 %.
UNIFORM_SPREAD = 0.09
UNIFORM_LIGHT = 0.6


def sunlit(px: np.ndarray, sun: tuple[float, float] | None) -> bool:
    """The sun in view of a bright frame: daylight (a moon is a saturated spot in a dark frame; TSI's starry-
    looking day frames average 0.5 or more, LenghuSky's contrast-stretched nights under 0.35)."""
    if sun is None:
        return False
    bright = np.maximum(np.maximum(px[0], px[1]), px[2])
    return float(bright.mean()) >= SUNLIT_MEAN * 255


SUNLIT_MEAN = 0.45  # a frame with a sun in it this bright (mean of max(R, G, B), 0..1) is daylit
SURFACE_FLOOR = 0.04  # ... and never under this (NRBR): grey and sunlit cloud sit at 0..0.03 (0, 0.04, 0.08 measured)
SURFACE_MARGIN = 0.1  # a pixel is cloud only this far (NRBR) below the frame's own clear-sky surface ...
SURFACE_CLEAR = 0.18  # ... when that surface is a clear sky: its bluest tenth reaches this NRBR
SURFACE_REACH = 1.0  # ... and only on the sun's side of the sky: within this distance of it (lens radii)
SURFACE_SUN_SCALE = 0.8  # the surface's circumsolar term decays over this distance (lens radii)
SURFACE_ROUNDS = 4
DECK_ABOVE = 0.04  # a deck's bar over the reference's zenith: SURFACE_CLEAR over the model's default 0.14


def whole_sky_reach(ref: Reference) -> bool:
    """Whether the frame's own clear-sky surface lowers the threshold over the whole sky, not only within
    SURFACE_REACH of the sun: at a site whose calibrated clear sky is paler than the reference camera's
    (`clear_scale` under 1). A dusty dome's veiling glare draws the whole mirror's sky toward grey, the horizon most
    (ARM TSI through research/camera_shift.py "dusty dome", 50-frame calibrations: the clear sky 0.28 NRBR at the
    zenith, 0.14 by the horizon, against a site threshold of 0.09), as haze does; beyond the reach one threshold
    read the pale horizon of its clear frames as cloud (docs/design.md, "A dusty dome's pale horizon")."""
    return ref.clear_scale < 1.0


def deck_bar(ref: Reference) -> float:
    """The NRBR a daylit frame's sky must reach to count as clear once the frame shows no clear sky at all
    (a deck): SURFACE_CLEAR, or less at a site whose calibrated clear sky is paler than the model's default
    (its zenith threshold lower): an absolute bar would read every clear frame of such a camera overcast."""
    return min(SURFACE_CLEAR * ref.clear_scale, ref.zenith + DECK_ABOVE * ref.clear_scale)


def clear_sky_surface(nrbr: np.ndarray, valid: np.ndarray, rho: np.ndarray, gam: np.ndarray | None,
                      clear_bar: float = SURFACE_CLEAR) -> np.ndarray | None:
    """The frame's own clear sky, NRBR = a + b rho^2 (+ c exp(-gam / scale) with the sun in view), fitted to
    its upper envelope (pixels far below the fit, cloud, are dropped and the fit redone), or None when that
    surface is not a clear sky (an overcast frame's envelope is grey cloud).

    A low sun pales half a clear sky smoothly, far beyond its glare (LenghuSky-8 mornings: NRBR under 0.1 over
    the sun's half of the lens), which one threshold reads as cloud; cloud sits below the smooth surface that
    the clear sky around it draws."""
    found = _envelope(nrbr, valid, rho, gam)
    if found is None or found[2] < clear_bar:
        return None
    cols, coef, _ = found
    out = np.zeros(rho.shape, dtype=np.float32)
    for c, k in zip(cols, coef, strict=True):
        out += np.float32(k) * c
    return out


def surface_level(nrbr: np.ndarray, valid: np.ndarray, rho: np.ndarray, gam: np.ndarray | None) -> float | None:
    """The bluest tenth of the frame's clear-sky surface (what SURFACE_CLEAR is held against), None: no fit."""
    found = _envelope(nrbr, valid, rho, gam)
    return None if found is None else found[2]


def _envelope(nrbr: np.ndarray, valid: np.ndarray, rho: np.ndarray, gam: np.ndarray | None
              ) -> tuple[list[np.ndarray], np.ndarray, float] | None:
    """clear_sky_surface's fit: its columns, coefficients and the bluest tenth of the fit over the pixels it was
    fitted on; None when too few pixels or a degenerate fit."""
    cols = [np.ones_like(rho), rho * rho]
    if gam is not None:
        cols.append(np.exp(-gam / np.float32(SURFACE_SUN_SCALE)))
    # a smooth surface: every 4th pixel fits it as well, 4x cheaper (picked from the every-2nd-row-and-column views:
    # the same pixels in the same order as a full-size mask picks them, for a quarter of the indexing)
    fit_on = np.asarray(valid[::2, ::2], dtype=bool)
    a = np.stack([c[::2, ::2][fit_on] for c in cols], axis=1).astype(np.float64)
    y = nrbr[::2, ::2][fit_on].astype(np.float64)
    keep = np.ones(len(y), dtype=bool)
    for _ in range(SURFACE_ROUNDS):
        if np.count_nonzero(keep) < 3 * a.shape[1]:
            return None
        ak = a[keep]
        try:
            coef = np.linalg.solve(ak.T @ ak, ak.T @ y[keep])
        except np.linalg.LinAlgError:  # degenerate: every pixel at one distance
            return None
        fit = a @ coef
        kept = y > fit - SURFACE_MARGIN
        if np.array_equal(kept, keep):  # the same pixels again: every later round would give this fit
            break
        keep = kept
    return cols, coef, quantile(fit, 0.9)


def quantile(values: np.ndarray, q: float) -> float:
    """float(np.quantile(values, q)) of a float vector, step for step as numpy's linear method takes it, without
    np.quantile's wrapper (0.045 -> 0.01 ms; the lens fit asks 3-8 times a frame): the two order statistics around
    (n - 1) q and their interpolation, from the lower one under half way and from the upper one past it, in the
    values' own precision (numpy 2 computes a float32 vector's quantile in float32; an older numpy, in float64:
    there numpy's own is called)."""
    kind = values.dtype.type
    if values.ndim != 1 or values.size == 0 or not (kind is np.float64 or (kind is np.float32 and _QUANTILE_AS_DATA)):
        return float(np.quantile(values, q))
    n = values.size
    at = (n - 1) * kind(q)
    if at >= n - 1:
        return float(np.max(values))
    lo = int(np.floor(at))
    part = np.partition(values, sorted({lo, lo + 1, n - 1}))
    if np.isnan(part[-1]):  # numpy's answer with a NaN among the values
        return math.nan
    a, b = part[lo], part[lo + 1]
    t = at - kind(lo)
    d = b - a
    return float(a + d * t if t < 0.5 else b - d * (1 - t))


def median_at_least(values: np.ndarray, bar: float) -> bool:
    """float(np.median(values)) >= bar for a float32 vector, by counting the values under the bar instead of
    partitioning them all (0.12 -> 0.005 ms at 10,000 values): the middle value(s) are on either side only when the
    count says so, and then numpy's float32 mean of the two is taken as numpy takes it."""
    if values.dtype != np.float32 or values.ndim != 1 or values.size == 0:
        return float(np.median(values)) >= bar
    # the least float32 at or over the bar: v >= it in float32 <=> float(v) >= bar
    at = np.float32(bar)
    if float(at) < bar:
        at = np.nextafter(at, np.float32(np.inf))
    n = values.size
    under = values < at
    below = np.count_nonzero(under)
    if below + np.count_nonzero(values >= at) != n:  # NaN among them: numpy's median is NaN
        return float(np.median(values)) >= bar
    h = n // 2
    if n % 2 or below != h:  # odd: the middle value is the h-th; even: both middle values on one side
        return below <= h
    low, high = values[under].max(), values[~under].min()  # the two middle values, one on each side
    return float((low + high) / 2) >= bar


# numpy 2 takes a float q in the data's own float type (a float32 vector's quantile is float32 arithmetic)
_QUANTILE_AS_DATA = np.quantile(np.zeros(2, dtype=np.float32), 0.5).dtype == np.float32


STAR_PROMINENCE = 0.08  # a star: a pixel brighter than each of its 8 neighbours, by this over their mean (0..1);
# 0.06 let noise speckles of overcast nights pass. LenghuSky 2018-2020 dark nights at 0.06 / 0.07 / 0.08 / 0.09 /
# 0.1: overcast read >= 6 51 / 65 / 72 / 84 / 88 %, clear read <= 2 97 / 93 / 90 / 86 / 83 %, MAE 1.30 / 1.11 /
# 1.12 / 1.23 / 1.39
STAR_WINDOW = 15  # stars are counted in windows this wide (pixels of the decoded frame, before resizing)
# ... and by this many times the frame's own pixel noise (the median |lead| over its lit pixels): a contrast-
# stretched overcast night's colour noise throws speckles over the 0.08 bar that pass as stars; real stars stand
# far above the noise. LenghuSky 2018-2019 dark nights: see docs/design.md
STAR_NOISE_K = 6.0
NOISE_LIT = 12  # pixels over this level (0..255) measure the noise
# ... but for a pixel at white (WHITE: a clipped star) never over HEADROOM_SHARE of its headroom, 8 x 255 less its
# neighbours' sum: a brighter camera clips its stars (LenghuSky's contrast-stretched clear nights through
# research/camera_shift.py "exposure x1.5": sky 190-225 levels, star steps down from a median 276 to 229 while the
# noise, and so the floor above, grew 1.3x: a third of the stars lost, clear nights read 3-8). A clipped star's
# step is all the headroom white leaves it. Chosen on LenghuSky 2018-2019 dark nights (docs/design.md, Clipped
# stars): the cap on every pixel near white too won two more x1.5 frames but moved an untransformed overcast night.
HEADROOM_SHARE = 0.5
WHITE = 250
STARRY_FRAME = 0.006  # a frame with more star pixels than this share of its area ...
# ... but under THIN_VEIL times that share (0.008, 0.3 of the reference's clear-night density of about 27 per mille:
# the share night.STARRY_SHARE gives a calibrated site) it is seen through a veil or broken: thin cloud over the
# whole sky dims every star and lets a few through everywhere (LenghuSky 2018-2019 overcast dark nights read 4-5
# octas at 6.1-8.4 per mille; clear ones show 9 or more), while a broken sky's gaps show a clear night's density.
# There a window is clear only over VEIL_BAR times the bar. LenghuSky 2018-2019 dark nights, overcast read >= 6 /
# clear read <= 2 / MAE at VEIL_BAR 1 / 1.5 / 2 / 3 / no window clear: 25 / 27 / 29 / 29 / 29 of 30, 57 of 59 each,
# 0.755 / 0.706 / 0.696 / 0.667 / 0.647; the smallest that wins them all is kept (3 and over, scored on 2020 too,
# turned a 2020 clear frame: docs/design.md)
THIN_VEIL = 4 / 3
VEIL_BAR = 2.0
STARRY_MAX_NRBR = 0.2  # ... and a sky less blue than this (median NRBR) is a night sky with stars
STARS_CLEAR = 0.0075  # ... and there, a window with more than this share of star pixels is clear sky
# ... at the zenith: toward the horizon the air a star's light crosses grows (airmass X = sec z; z = rho x 90 deg on
# an equidistant fisheye) and dims every star, so fewer pass STAR_PROMINENCE on a clear night (LenghuSky 2018-2019
# clear dark nights, per ring from the zenith to rho 0.75-0.85: 1, 0.92, 0.78, 0.66, 0.52 of the zenith's density,
# about exp(-0.35 (X - 1)) in every ring). The window bar follows the same fall, so a clear sky's star-poor rim
# (extinction, all round) is not read as cloud; calibrated sites learn their own bar per ring (night.site_bars).
STAR_EXTINCTION = 0.35
MAX_AIRMASS = 5.0  # 78 deg from the zenith; beyond the octa area (76.5 deg) anyway
# Under this share of star pixels over the whole frame no rule can use them: a starry frame needs STARRY_FRAME
# / 2 over the frame and STARRY_FRAME over its octa area, which would have to be under an eighth of the frame
STARLESS = STARRY_FRAME / 8


# Another camera's stars: the step a star makes over its ring is its light times the camera's response at that spot
# (gain and exposure, the lens's vignette, the tone curve's slope), and the bars above are steps in levels of the
# reference fisheye. The night sky's own light changes far less between sites than that response does, so the sky's
# background around a star measures it: where the background is darker than the reference camera's darkest night
# sky (STAR_SKY_REF, levels), a star's step shrinks in proportion and so does its bar, down to STAR_GAIN_FLOOR of it
# (below that JPEG quantisation makes peaks). A brighter background never raises a bar (a brighter night, a moonlit
# or lit cloud deck: the reference's own bars held there), so the reference camera's nights keep their stars.
# LenghuSky 2018-2019 clear dark nights: the 10th percentile of each ring's median sky 117-122 levels. Tried and not
# kept: the bar also following the sky down from 0.85-1 of the frame's own central sky (a vignetted rim on a bright
# camera): untransformed calibrated dark overcast nights read >= 6 fell 30 -> 28 of 32 (2018-2019), and through
# gamma 1.25 or exposure x1.5 a clipped or steepened centre lowered the rim's bar onto cloud (docs/design.md).
STAR_SKY_REF = 115.0
STAR_GAIN_FLOOR = 0.5
SKY_BLOCK = 16  # pixels of the decoded frame: the background is the mean of a block's lit pixels (stars are few)


def star_gain(bright: np.ndarray, reference: float) -> np.ndarray | None:
    """float32 [h / SKY_BLOCK, w / SKY_BLOCK] (rounded up): the share of the reference camera's star step expected in
    each block of a brightness image (uint8): its sky background over `reference`, within STAR_GAIN_FLOOR..1; None
    where it is 1 everywhere (the reference camera's nights, every daylit frame: no per-pixel bar to pay for)."""
    h, w = bright.shape
    k = SKY_BLOCK
    hb, wb = -(-h // k), -(-w // k)
    # every 2nd row and column: the background is smooth, and this runs on every frame
    half = k // 2
    every = bright[::2, ::2]  # (k is even: the same pixels as padding first, without a full-size copy)
    padded = np.pad(every, ((0, hb * half - every.shape[0]), (0, wb * half - every.shape[1])))  # zeros are unlit
    lit = padded > NOISE_LIT
    # the block's rows first (whole rows added), then its columns on the 8x smaller array: numpy reduces a short
    # last axis slowly, and integer sums are the same in any order
    total = (padded * lit).reshape(hb, half, wb, half).sum(axis=1, dtype=np.uint32).sum(axis=2)
    count = lit.reshape(hb, half, wb, half).sum(axis=1, dtype=np.uint32).sum(axis=2)
    # a block without lit pixels (the lens surround) keeps the reference's bar: no sky, no stars to find there
    sky = np.where(count > 0, total.astype(np.float32) / np.maximum(count, 1), np.float32(reference))
    gain = np.clip(sky / np.float32(reference), STAR_GAIN_FLOOR, 1.0).astype(np.float32)
    return None if float(gain.min()) >= 1.0 else gain


def per_pixel(blocks: np.ndarray, h: int, w: int) -> np.ndarray:
    """A per-block map (star_gain's shape) at [h, w]."""
    return np.repeat(np.repeat(blocks, SKY_BLOCK, axis=0), SKY_BLOCK, axis=1)[:h, :w]


def noise_lit(bright: np.ndarray, total: np.ndarray) -> np.ndarray:
    """bool: the pixels a noise measure reads (_noise): lit, and not a clipped plateau (a pixel at white whose
    8 neighbours, summed in `total`, are at white on average)."""
    return (bright > NOISE_LIT) & ((bright < WHITE) | (total < 8 * WHITE))


def _noise(lead: np.ndarray, bright: np.ndarray, total: np.ndarray) -> float:
    """The frame's own pixel noise, 8x (as `lead`): the median |lead| over its lit pixels (every 2nd row and column;
    the lens surround's black would pull it to 0), less a clipped plateau: a pixel at white among neighbours at
    white on average (`total`, their sum) stands 0 over them by the clip, not by a smooth sky. A brighter camera
    clips its zenith (LenghuSky's overcast dark nights through research/camera_shift.py "exposure x1.5": 11-15 % of
    the lit pixels), the plateau's zeros pulled the median under the sky's own noise, and the unclipped rim's
    texture, grown 1.5x, passed the floor as stars (docs/design.md, darkstar17)."""
    step = lead[::2, ::2][noise_lit(bright[::2, ::2], total[::2, ::2])]
    if step.size < 100:
        return 0.0
    a = np.abs(step)
    k = a.size // 2
    return float(np.partition(a, k)[k])


def star_density(bright: np.ndarray, camera: float = 1.0) -> np.ndarray | None:
    """float32 [h, w]: the share of star pixels (point sources) around each pixel of a brightness image
    (uint8, max(R, G, B)); None when star pixels are too few for any rule to use them (STARLESS: most clean
    daytime frames), which spares the window sums. `camera`: a darker camera's response against the reference's
    (calibration's night.gain, under 1): the bars are its share of the reference's, and the sky it sees is read on
    the reference's scale.

    A clear night sky is dark with stars; cloud hides them and glows grey or lit. Stars survive the JPEG
    and a 2x reduction as single bright pixels; cloud edges and noise do not stand out this far."""
    h, w = bright.shape
    p = np.pad(bright, 1, mode="edge")
    top = p[0:h, 0:w].copy()
    total = p[0:h, 0:w].astype(np.int16)
    for i, j in ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2)):
        near = p[i : i + h, j : j + w]
        np.maximum(top, near, out=top)
        total += near
    # Integer arithmetic (this runs on every frame): brighter than the mean of its 8 neighbours by
    # STAR_PROMINENCE of full scale <=> 8 bright - their sum > STAR_PROMINENCE * 8 * 255 (163.2)
    lead = bright.astype(np.int16) * np.int16(8) - total
    floor = STAR_NOISE_K * _noise(lead, bright, total)
    gain = star_gain(bright, STAR_SKY_REF * camera)
    if camera < 1.0:  # every star's step is the camera's share of the reference's (night.site_gain)
        gain = np.float32(camera) * (np.ones((1, 1), np.float32) if gain is None else gain)
    least: np.ndarray | np.int16 = np.int16(STAR_PROMINENCE * 8 * 255)
    if gain is None:
        bar: np.ndarray | np.int16 = np.int16(max(STAR_PROMINENCE * 8 * 255, floor))
    elif gain.shape == (1, 1):
        least = np.int16(float(gain[0, 0]) * STAR_PROMINENCE * 8 * 255)
        bar = np.int16(max(float(gain[0, 0]) * STAR_PROMINENCE * 8 * 255, floor))
    else:  # a darker camera (or the vignetted rim): the bar follows its response down, never under the noise
        least = per_pixel((gain * np.float32(STAR_PROMINENCE * 8 * 255)).astype(np.int16), h, w)
        bar = per_pixel(np.maximum(gain * np.float32(STAR_PROMINENCE * 8 * 255), np.float32(floor)).astype(np.int16),
                        h, w)
    if floor > STAR_PROMINENCE * 8 * 255 * (1.0 if gain is None else float(gain.min())):  # (else: nothing to cap)
        # a star clipped at white stands no further over its neighbours than white lets it: over HEADROOM_SHARE of
        # that headroom it counts under the noise floor too, never under the least bar
        headroom = np.where(bright >= WHITE, np.int16(8 * 255) - total, np.int16(8 * 255))
        bar = np.maximum(np.minimum(bar, (headroom * np.float32(HEADROOM_SHARE)).astype(np.int16)), least)
    stars = (bright > top) & (lead > bar)
    if np.count_nonzero(stars) <= STARLESS * h * w:
        return None
    return window_share(np.pad(stars, STAR_WINDOW // 2, mode="edge"), STAR_WINDOW)


def window_share(padded: np.ndarray, k: int) -> np.ndarray:
    """float32: the share of True in each k x k window of a bool image padded by k // 2 on each side. Sums of runs of
    2, 4, 8 ... rows added by the bits of k, then the same along the rows: uint8 holds every count (k * k <= 255),
    and these adds vectorise where a running sum (cumsum) does not; the integer counts are the same."""
    counts = _run_sums(_run_sums(padded.view(np.uint8), k, 0), k, 1)
    return counts.astype(np.float32) / np.float32(k * k)


def _run_sums(a: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Sums of every run of k consecutive rows (`axis` 0) or columns (1) of `a` (uint8, sums under 256). Along the
    columns in place, not on a transposed copy: slices of whole rows stay contiguous (0.18 -> 0.11 ms at 240x320)."""
    def part(x: np.ndarray, start: int | None, stop: int | None) -> np.ndarray:
        return x[start:stop] if axis == 0 else x[:, start:stop]

    n = a.shape[axis] - k + 1
    runs = [a]  # runs[j][i]: the sum of rows i .. i + 2^j - 1
    while 2 ** len(runs) <= k:
        half = 2 ** (len(runs) - 1)
        runs.append(part(runs[-1], None, -half) + part(runs[-1], half, None))
    out, at = None, 0
    for j in range(len(runs) - 1, -1, -1):
        if k & (1 << j):
            run = part(runs[j], at, at + n)
            out = run.copy() if out is None else out + run
            at += 1 << j
    assert out is not None
    return out
