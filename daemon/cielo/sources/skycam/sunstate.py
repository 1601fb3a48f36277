"""Is the sun shining, and how much cloud is around it: what a PV owner asks of a sky frame.

Per judged day frame, from what the octa model's per-frame maps already found (the lens, the sun's saturated
blob, the clear-sky threshold per pixel):

- the sun's state: "visible" (a saturated disc), "thin" (a saturated disc that hardly stands out from the sky
  far from it, or one that does not stand out as a clear sky's under a sky that is cloud nearly everywhere
  else, or milky, no blue left and grey in it, unless the aureole falls off as a hazy clear sky's: the sun shows
  through thin cloud), "covered" (no saturated disc where the sun is, or anywhere with the sun up), or None (the
  sun down, out of the lens, or nothing to judge by);
- the cloud fraction within 15 and 30 degrees of the sun (sky and cloud pixels only: saturated glare, masts
  and the surround left out), where the sun is known: the blob, else its computed position once the camera's
  orientation is calibrated (orientation.py);
- the frame's cloud field, small (one byte a pixel at the model's size), for the motion between consecutive
  frames (motion.py);
- with the orientation known, the cloud per compass quarter and in the sun's sector of the next hour
  (sectors.py).

Angles: a lens radius is 90 degrees (the horizon of an equidistant fisheye) unless the orientation fit says
otherwise. Figures and the rules' choice: docs/sun.md.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cielo.sources.skycam import lens, sectors

DEG_PER_RADIUS = 90.0  # an equidistant fisheye: the lens circle is the horizon
NEAR_DEG = (15.0, 30.0)  # cloud fractions around the sun, within these angles of it
OVERCAST = 0.82  # a seen disc with more cloud than this share of the octa area farther than 15 deg: "thin" ...
PALE = 0.16  # ... or with that area's 80th-percentile NRBR under this: a milky sky, the disc through thin cloud ...
GREY = 0.065  # ... but milky only with grey in it, its 20th percentile under this: a pale, hazy clear sky stays blue
# everywhere (LenghuSky-8 2018-2020 clear frames: 20th percentile 0.053 or more, 0.069-0.078 where the 80th was
# under PALE; the milky overcast ones under PALE 0.059 or less)
HAZE_FALLOFF = 1.31  # a sky milky by colour alone (the octa mask calling it clear away from the disc) is haze, not a
HAZE_ALTITUDE = 30.0  # veil, where the aureole falls off this steeply (AUREOLE_DEG) with the sun this high or higher:
# dust scatters the direct beam forward once and keeps a clear sky's steep aureole, a veil that dims the sun scatters
# it many times and flattens it (haze.FALLOFF and haze.SUN_ALTITUDE are these; chosen on
# LenghuSky-8 2018-2019 clear days; on a paler camera a clear sky passes the milky test, docs/sun.md)
STANDOUT_DEG = 45.0  # the sky the disc is measured against: farther than this from it, within the octa area
FAINT = 2.3  # a disc less than this many times as bright (min(R, G, B)) as that sky: "thin" whatever the colours
STANDS_OUT = 3.1  # a disc this many times as bright as the sky or more is a clear sky's, even where the cloud
# share or the milky test above says "thin" (LenghuSky-8 2018-2019 and TSI 2017-05-24: clear discs 2.36 or more;
# the overcast discs the colour rules missed 2.08 and 2.22, those they caught 3.04 or less; docs/sun.md)
AUREOLE_DEG = (20.0, 35.0, 60.0)  # the aureole's fall-off: the sky's brightness 20-35 deg from a seen disc over 35-60
GLOW_DEG = (8.0, 14.0)  # the aureole's near glow: the sky's brightness 8-14 deg from a seen disc over 35-60 (veil.py)
GLOW_OPEN = 0.8  # ... measured only where this share of that ring (within the lens) is unclipped sky: glare clipped
# past 8 degrees (ARM TSI's mirror) or a shadow band leaves the ring its dimmer pixels, and a clear sky's glow reads
# flat (TSI 2017-05-24 clear frames whose glow reads under veil.GLOW: 47-65 % open; LenghuSky-8 2018-2019 frames with
# a glow that flat: 91 % open or more)
MIN_NEAR_PIXELS = 8  # fewer sky pixels than this within an angle of the sun: no fraction there
CLIPPED_CHROMA = 4  # a plateau below full scale is a clipped disc when max - min of R, G, B there is this small
FAR_FROM_EXPECTED_DEG = 12.0  # a saturated blob farther than this from where the sun must be is a reflection
MOTION_RHO = 0.85  # the motion mask: cloud within this share of the lens radius (the octa area) ...
SOFT = 0.1  # ... graded over this much NRBR around the clear-sky threshold
DAYLIGHT_MEAN = 0.25  # without the sun's elevation, a frame this bright (mean max(R, G, B)) is taken for day
STARRY_DAYLIGHT = 0.43  # ... and one this bright is day even when the star rule reads speckles in it: an ARM TSI
# mirror's day frames pass as starry (TSI 2017-05-24: all 409 sampled, mean 0.55 or more), a starry night stays
# dark (LenghuSky-8 2018-2019 starry nights, contrast-stretched: 0.31 or less)


@dataclass(frozen=True, slots=True)
class SunView:
    state: str | None  # "visible" | "thin" | "covered" | None
    cloud_15: float | None  # cloud fraction within 15 degrees of the sun (0..1)
    cloud_30: float | None
    x: float | None  # where the sun is (pixels of the frame at the model's size), seen or computed
    y: float | None
    seen: bool  # the sun's saturated disc was found in the frame
    deg_per_px: float  # degrees of sky per pixel near the zenith (for motion in degrees)
    overcast: float | None = None  # cloud share of the octa area away from a seen disc (OVERCAST decides)
    mask: bytes | None = None  # cloud within MOTION_RHO, np.packbits, [H, W] ...
    sky: bytes | None = None  # ... and where that mask is sky or cloud at all
    shape: tuple[int, int] | None = None
    cover: dict[str, float | None] | None = None  # sectors.KEYS: cloud by compass quarter, in the sun's sector
    standout: float | None = None  # how many times brighter the seen disc is than the sky far from it
    falloff: float | None = None  # the aureole's fall-off around a seen disc (aureole_falloff)
    glow: float | None = None  # the aureole's near glow over the same outer band (aureole_falloff, GLOW_DEG)

    @property
    def covered(self) -> int | None:
        """`sun_covered`: 1 unless the sun is in full view (thin cloud dims the disc: not full sun)."""
        return None if self.state is None else int(self.state != "visible")

    def attrs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sun": self.state}
        for key, v in (("sun_cloud_15", self.cloud_15), ("sun_cloud_30", self.cloud_30)):
            if v is not None:
                out[key] = round(v * 100, 1)  # percent
        out.update(sectors.attrs(self.cover))
        return out

    def masks(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.mask is None or self.sky is None or self.shape is None:
            return None
        n = self.shape[0] * self.shape[1]
        cloud = np.frombuffer(self.mask, dtype=np.uint8).reshape(self.shape)
        sky = np.unpackbits(np.frombuffer(self.sky, dtype=np.uint8), count=n).reshape(self.shape)
        return cloud >= 128, sky.astype(bool)

    def field(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The soft cloud field (0 clear .. 1 cloud, float32, 0 outside the sky) and its sky (float32 0/1)."""
        if self.mask is None or self.sky is None or self.shape is None:
            return None
        n = self.shape[0] * self.shape[1]
        sky = np.unpackbits(np.frombuffer(self.sky, dtype=np.uint8), count=n).reshape(self.shape)
        cloud = np.frombuffer(self.mask, dtype=np.uint8).reshape(self.shape).astype(np.float32) / np.float32(255)
        return cloud * sky, sky.astype(np.float32)


def assess(px: np.ndarray, geom: lens.Lens, maps: lens.Maps, stop: np.ndarray, elevation: float | None,
           brightness: float, starry: bool = False, expected: tuple[float, float] | None = None,
           deg_per_radius: float = DEG_PER_RADIUS, quarters: tuple[np.ndarray, ...] | None = None,
           bearing: np.ndarray | None = None, path: list[float] | None = None, tone: float = 1.0) -> SunView | None:
    """The sun's state and the cloud around it in one frame (uint8 [3, H, W]) with its maps; None when the
    frame has no lens circle (a crop: no sky geometry to speak of). `expected`: where the sun must be
    (pixels), from the camera's calibrated orientation; `elevation`: the sun's, when the frame's time is
    known. With the orientation, `quarters` (sectors.quarter_masks), `bearing` (sectors.bearings) and `path`
    (sectors.sun_path, the frame's time known) give the cloud per compass quarter and in the sector the sun
    crosses in the next hour. `tone`: the site's tone curve against the reference camera's, as the power it
    raises ratios of brightness to (veil.tone; 1 without a calibration): the standout's and the aureole's bars,
    ratios of brightness, are raised to it."""
    if not geom.found:
        return None
    _, h, w = px.shape
    rx = geom.rx
    deg_per_px = deg_per_radius / rx
    lens_disc, octa_disc = _discs(geom)
    darkest = np.minimum(np.minimum(px[0], px[1]), px[2])
    unsat = darkest < int(lens.SATURATED * 255)
    sky = lens_disc & ~stop
    ratio = lens.nrbr(px)
    below = ratio < maps.threshold
    near_sky = sky & unsat
    cloud = below & near_sky
    motion_sky = near_sky & octa_disc
    # the motion field: how far below the clear-sky threshold each pixel is, 0..1 over SOFT of NRBR (a
    # binary mask's edges alone carry too little to follow; the grading inside a cloud helps), without the
    # sun's glare, which stays put while the cloud moves
    glare = maps.valid if maps.sun is not None else motion_sky
    moving = motion_sky & (glare > 0)
    soft = np.clip((maps.threshold - ratio) / np.float32(SOFT) + np.float32(0.5), 0, 1) * moving
    packed = ((soft * 255).astype(np.uint8).tobytes(), np.packbits(moving).tobytes(), (h, w))
    cover: dict[str, float | None] | None = None
    if quarters is not None:
        # the octas' own pixels and rule, split by compass quarter; known at night too, where the octas are
        counted = maps.valid > 0
        octa_cloud = counted & below
        cover = sectors.quarters(octa_cloud, counted, quarters)
        cover[sectors.PATH_KEY] = None if not path or bearing is None else sectors.along(octa_cloud, counted,
                                                                                        bearing, path)
    if (elevation is not None and elevation < 0) or (elevation is None and _night_without_time(brightness, starry)):
        return SunView(None, None, None, None, None, False, deg_per_px, None, *packed, cover)
    sun = maps.sun
    if sun is not None and not _saturated(px, darkest, sun):
        sun = None
    if sun is None:
        sun = _tinted_sun(px, lens_disc)
    if sun is not None and expected is not None:
        off = float(np.hypot(sun[0] - expected[0], (sun[1] - expected[1]) * geom.rx / geom.ry)) * deg_per_px
        if off > FAR_FROM_EXPECTED_DEG:
            sun = None
    where = sun or expected
    if where is not None and not _in_lens(where, geom):
        return SunView(None, None, None, None, None, False, deg_per_px, None, *packed, cover)
    near: list[float | None] = [None, None]
    state, overcast, standout, falloff, glow = "covered", None, None, None, None
    if where is not None:
        deg = lens.sun_distance(geom, where) * np.float32(deg_per_radius)
        for i, limit in enumerate(NEAR_DEG):
            inside = near_sky & (deg <= limit)
            n = int(np.count_nonzero(inside))
            if n >= MIN_NEAR_PIXELS:
                near[i] = float(np.count_nonzero(cloud & inside)) / n
        if sun is not None:
            # a saturated disc under a sky that is cloud nearly everywhere away from it, or milky (no blue
            # left even in its bluest fifth, grey in its whitest): the sun shows through thin cloud, dimmed
            away = motion_sky & (deg > NEAR_DEG[0])
            n = int(np.count_nonzero(away))
            overcast = float(np.count_nonzero(cloud & away)) / n if n else 0.0
            pale = False
            if n >= MIN_NEAR_PIXELS:
                values = ratio[away]
                pale = _percentile_below(values, 80, PALE) and _percentile_below(values, 20, GREY)
            standout = _standout(_whitened(px, darkest, sun), sun,
                                 motion_sky & (deg > STANDOUT_DEG))
            ring = lens_disc & (deg >= GLOW_DEG[0]) & (deg < GLOW_DEG[1])
            glow_open = np.count_nonzero(near_sky & ring) >= GLOW_OPEN * np.count_nonzero(ring)
            falloff, glow = aureole_falloff(px, motion_sky, deg, (AUREOLE_DEG[:2], GLOW_DEG if glow_open else None))
            if pale and overcast < OVERCAST and _hazy_aureole(falloff, elevation, tone):
                pale = False  # a pale, hazy clear sky: the colour alone says milky, the aureole says haze
            # the disc itself first: one that hardly stands out from the sky is dimmed whatever the colours;
            # one that stands out as a clear sky's is not, however pale the sky reads
            milky = overcast >= OVERCAST or pale
            # a flatter tone curve raises every ratio of brightness to a power under 1: a clear disc's standout with
            # it, and the bars chosen on the reference cameras' curves with it (the site's tone, once calibrated)
            faint = standout is not None and standout < FAINT ** tone
            bright = standout is not None and standout >= STANDS_OUT ** tone
            state = "thin" if faint or (milky and not bright) else "visible"
    return SunView(state, near[0], near[1], None if where is None else float(where[0]),
                   None if where is None else float(where[1]), sun is not None, deg_per_px, overcast, *packed, cover,
                   standout, falloff, glow)


@functools.lru_cache(maxsize=2)
def _discs(geom: lens.Lens) -> tuple[np.ndarray, np.ndarray]:
    """Read-only bool [H, W]: within the lens circle, and within MOTION_RHO of it. With a calibrated site lens
    the fit is the same Lens frame after frame, and this spares each frame the distances and comparisons (a
    lens fitted per frame differs in its last digits: a miss, the cost as before). Two entries of two bool
    maps at the model's size (160x120: 38 KB an entry, 77 KB at most)."""
    rho = geom.rho()
    out = rho <= 1.0, rho <= MOTION_RHO
    for m in out:
        m.flags.writeable = False
    return out


def _hazy_aureole(falloff: float | None, elevation: float | None, tone: float = 1.0) -> bool:
    """The aureole of a clear sky under dust haze, not of a veil: falling off HAZE_FALLOFF or more with the sun
    HAZE_ALTITUDE or more up (lower, the aureole's bands run along the horizon, whose own glow steepens an
    overcast sky's too). A paler camera's clear sky passes the milky colour test; its aureole is still steep."""
    return (falloff is not None and falloff >= HAZE_FALLOFF ** tone and elevation is not None
            and elevation >= HAZE_ALTITUDE)


def _night_without_time(brightness: float, starry: bool) -> bool:
    """No time known: the frame's light alone says night. A starry frame is night unless it is as bright as
    no night sky is (STARRY_DAYLIGHT). A bright night without stars is not told from day by this: LenghuSky-8
    nights, contrast-stretched by the dataset's makers, overlap day frames in every measure tried (docs/sun.md)."""
    return brightness < DAYLIGHT_MEAN or (starry and brightness < STARRY_DAYLIGHT)


def _saturated(px: np.ndarray, darkest: np.ndarray, sun: tuple[float, float]) -> bool:
    """The blob is a clipped disc: saturated (min(R, G, B) over SUN_LEVEL), or clipped below full scale
    (lens.find_sun's plateau) with its channels equal, as clipping leaves them, or tinted by a white balance
    applied after the clip: every channel flat over the 3x3, the brightest over SUN_LEVEL. A bright cloud that a
    plateau search takes for the sun keeps its colour noise (or, at the model's size, is not every channel's top:
    _tinted_sun)."""
    ys, xs = _disc(sun, darkest.shape)
    if int(darkest[ys, xs].max()) >= int(lens.SUN_LEVEL * 255):
        return True
    patch = px[:, ys, xs].astype(np.int16)
    if float(np.median(patch.max(axis=0) - patch.min(axis=0))) <= CLIPPED_CHROMA:
        return True
    # a white balance applied after the sensor clipped tints the disc, (255, 255, 229) or (204, 226, 249), but leaves
    # each channel as flat as clipping made it, one of them near full scale
    return _flat(patch) and int(patch.max()) >= int(lens.SUN_LEVEL * 255)


def _flat(patch: np.ndarray) -> bool:
    """Every channel of the [3, 3, 3] patch as flat as a clip leaves it (max - min CLIPPED_CHROMA or less)."""
    per = patch.reshape(3, -1)
    return int((per.max(axis=1) - per.min(axis=1)).max()) <= CLIPPED_CHROMA


def _tinted_sun(px: np.ndarray, area: np.ndarray) -> tuple[float, float] | None:
    """A clipped disc tinted after the clip, which the plateau search in min(R, G, B) misses or places off its core:
    where every channel is at its own top at once (the tint moves each channel's clip to its own level), then flat
    in every channel. Looked for only where the blob of lens.find_sun (which the octas' glare mask keeps)
    is missing or refused: the octa maps are not touched."""
    if not area.any():
        return None
    tops = [int(px[c][area].max()) for c in range(3)]
    if min(tops) < lens.CLIPPED_SUN * 255:
        return None
    # as the plateau search in min(R, G, B): a clipped channel is the sun's (the saturated blob, each channel within
    # SUN_LEVEL of its own top), a top below full scale (within 2 levels of it) only where its min(R, G, B) stands far
    # above the sky's
    clipped = max(tops) >= int(lens.SUN_LEVEL * 255)
    floor = [int(lens.SUN_LEVEL * t) if clipped else t - 2 for t in tops]
    plateau = area & (px[0] >= floor[0]) & (px[1] >= floor[1]) & (px[2] >= floor[2])
    if int(np.count_nonzero(plateau)) < 3:
        return None
    darkest = np.minimum(np.minimum(px[0], px[1]), px[2])
    if not clipped and min(tops) < lens.CLIPPED_RATIO * _median_u8(darkest[area]):
        return None
    sun = lens.find_sun(np.where(plateau, 255, 0).astype(np.uint8), area)
    if sun is None:
        return None
    # every channel's top at once and flat there, at whatever level the clip and the gain left it ((235, 214, 193) on
    # a camera clipping at 0.84): a cloud flat at the model's size is not the top of a clear sky's blue
    ys, xs = _disc(sun, darkest.shape)
    return sun if _flat(px[:, ys, xs].astype(np.int16)) else None


def _whitened(px: np.ndarray, darkest: np.ndarray, sun: tuple[float, float]) -> np.ndarray:
    """min(R, G, B) with each channel scaled so the disc reads white: a white balance applied after the clip tints
    the disc by its gains, and the sky by the same. A disc saturated in min(R, G, B) or grey (as the reference
    cameras give it) is read as it is."""
    ys, xs = _disc(sun, darkest.shape)
    disc = px[:, ys, xs].reshape(3, -1).max(axis=1).astype(np.float32)
    if int(darkest[ys, xs].max()) >= int(lens.SUN_LEVEL * 255) or disc.max() - disc.min() <= CLIPPED_CHROMA:
        return darkest
    gain = disc.max() / np.maximum(disc, 1)
    out = np.minimum(np.minimum(px[0] * gain[0], px[1] * gain[1]), px[2] * gain[2])
    return np.clip(out, 0, 255).astype(np.uint8)


def _standout(darkest: np.ndarray, sun: tuple[float, float], far: np.ndarray) -> float | None:
    """How many times brighter the disc is than the sky far from it, in min(R, G, B): the sky's red under a
    clear sky is dark and the disc stands out 2.4-5 times; thin cloud lights the whole sky (and a clipping
    camera caps the disc), mostly 1.5-2.5. None without enough sky there."""
    if int(np.count_nonzero(far)) < MIN_NEAR_PIXELS:
        return None
    disc = int(darkest[_disc(sun, darkest.shape)].max())
    return disc / max(_median_u8(darkest[far]), 1.0)


def aureole_falloff(px: np.ndarray, sky: np.ndarray, deg: np.ndarray,
                    nears: Sequence[tuple[float, float] | None] = (AUREOLE_DEG[:2],)) -> list[float | None]:
    """Per band of `nears` (degrees from the sun; None: not read), the sky's median brightness (mean of R, G, B)
    there over that 35-60 degrees from the sun (AUREOLE_DEG; `sky`: unsaturated sky pixels, `deg`: each pixel's
    angle to the sun); by default 20-35 degrees, the fall-off. The aureole is the direct beam scattered forward
    once: a strong beam through dust haze keeps it steep, a veil thick enough to be overcast scatters the light
    many times over and flattens it. None for a band without enough sky in it or in the outer band."""
    c, d = AUREOLE_DEG[1:]
    outer = sky & (deg >= c) & (deg < d)
    if int(np.count_nonzero(outer)) < MIN_NEAR_PIXELS:
        return [None] * len(nears)
    light = px[0].astype(np.uint16) + px[1] + px[2]
    far = max(_median_u8(light[outer], 3 * 255 + 1), 1.0)
    out: list[float | None] = []
    for band in nears:
        inner = None if band is None else sky & (deg >= band[0]) & (deg < band[1])
        out.append(None if inner is None or int(np.count_nonzero(inner)) < MIN_NEAR_PIXELS
                   else _median_u8(light[inner], 3 * 255 + 1) / far)
    return out


def _median_u8(values: np.ndarray, levels: int = 256) -> float:
    """np.median of uint8 values (or of small integers under `levels`: the aureole's sums of R, G and B), exactly,
    from their histogram (a sort of the far sky cost ~0.2 ms a frame; the aureole's three, ~0.1 ms)."""
    n = values.size
    below = np.cumsum(np.bincount(values, minlength=levels))
    upper = float(np.searchsorted(below, n // 2, side="right"))  # the value at sorted index n // 2
    if n % 2:
        return upper
    return (float(np.searchsorted(below, n // 2 - 1, side="right")) + upper) / 2


def _percentile_below(values: np.ndarray, q: float, bar: float) -> bool:
    """float(np.percentile(values, q)) < bar, mostly from a count: the order statistics it interpolates
    between both under the bar, or both not; only where the bar falls between them is it computed (a
    percentile's sort cost ~0.3 ms a frame)."""
    n = values.size
    lo = int(np.floor((n - 1) * (q / 100)))
    under = int(np.count_nonzero(values < np.float64(bar)))  # as float(percentile) compares: in float64
    if under > min(lo + 1, n - 1):
        return True
    if under <= lo:
        return False
    return float(np.percentile(values, q)) < bar


def _disc(sun: tuple[float, float], shape: tuple[int, ...]) -> tuple[slice, slice]:
    """The 3x3 pixels at the blob's centre (clipped to the frame): where the disc is read."""
    h, w = shape[-2:]
    x, y = round(sun[0]), round(sun[1])
    return slice(max(0, y - 1), min(h, y + 2)), slice(max(0, x - 1), min(w, x + 2))


def _in_lens(p: tuple[float, float], geom: lens.Lens) -> bool:
    return float(np.hypot((p[0] - geom.cx) / geom.rx, (p[1] - geom.cy) / geom.ry)) <= 1.0
