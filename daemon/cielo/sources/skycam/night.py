"""Moonlit nights: the moon turns a clear night sky grey-blue and bright, so colour reads it as cloud (LenghuSky
2018-2020: clear moonlit skies read <= 2 octas 4 % of the time). Two things still tell them apart:

- true point-source stars: a pixel that is the brightest of its 3x3 neighbourhood and stands over the mean of
  the ring around it (5x5 less 3x3, the star's own spread left out) by a few levels. A bright, sharp star
  (STAR_SHARP over the ring) is what cloud hides even when thin; faint ones (STAR_FAINT) show where the sky
  is open;
- the frame's overall light: moonlit cloud scatters the moon's light back, so an overcast frame is brighter
  and greyer (NRBR nearer 0, neutral) than a clear one.

A frame whose gate (a logistic on the share of sharp stars, the median brightness and the median cast,
fitted on LenghuSky 2018-2020 moonlit frames: clear <= 2 octas against overcast >= 6) says "clear-looking"
is read by its stars: a pixel with no faint star within its window is cloud. The colour reading stays the
upper bound, so this rule only ever lowers octas. It never runs by day or at a frame of unknown time. A frame the
gate passes whose sky is lit and lumpy (texture: moonlit cloud cells, whose bright peaks pass as faint stars) keeps
its colour reading.

The constants are one fisheye's; `cielo calibrate` re-learns the night side per site from the camera's own
unlabelled night frames whose time is known (calibration.learn_nights, stored in the calibration as `night`):
the dark-night star bar per ring of the lens and the share that makes a frame starry, from the site's own
clear-night star density (site_bars), and the moonlit gate's centre when the site's moonlit frames look unlike
the reference camera's (site_gate), and the texture bar when its own smooth moonlit skies are rougher than the
reference's (site_texture). A lens whose rim the calibration found vignetted (site_rim, site_rim_all) has the
gate's brightness read with the fall-off taken off (unvignetted_top): a darkened rim made moonlit decks look clear.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from cielo.sources.skycam import lens
from cielo.sources.skycam.frame import Frame

STAR_FAINT = 6  # levels (0..255) over the ring: a star that marks open sky
STAR_SHARP = 16  # levels over the ring: a star cloud would hide (the gate counts these)
STAR_WINDOW = 15  # faint stars are counted in windows this wide (pixels of the decoded frame)
OPEN_SKY = 0.001  # a window with more than this share of faint-star pixels is open sky
SATURATED = 250  # the moon and its glare are no stars
# The steps above are the reference fisheye's levels; on a darker camera (or a rim vignetted under the reference's
# sky) a star's step shrinks with the sky's background around it and so do the bars (lens.star_gain: the physical
# reason there). The reference's darkest moonlit sky: LenghuSky 2018-2019 clear moonlit nights, the 10th percentile
# of each ring's median 74-93 levels (its moonlit frames are shorter exposures than its dark ones, so this is not
# lens.STAR_SKY_REF).
MOONLIT_SKY_REF = 72.0
# Gate: log-odds of a clear-looking frame = sum of w * (x - mean) / sd + bias, x = (ln(share of sharp-star
# pixels over the octa area at the decoded size + 1e-4), median brightness 0..1, median NRBR). Fitted on
# LenghuSky 2018-2020 moonlit frames read clear (<= 2 octas, 36) against overcast (>= 6, 67): 3000 steps of
# gradient ascent with a small ridge. It passes 86 % of the clear and 16 % of the overcast ones.
GATE_W = (0.892, -1.26, 0.513)
GATE_MEAN = (-6.629, 0.4237, 0.0378)
GATE_SD = (1.3251, 0.0647, 0.0449)
GATE_BIAS = -1.065
GATE_CLEAR = 0.4  # gate probability over this: read by the stars. LenghuSky 2018-2020 moonlit (timed) at
# 0.3 / 0.4 / 0.5 / 0.6: MAE 1.91 / 1.75 / 1.66 / 1.80, clear read <= 2 88 / 79 / 71 / 58 %,
# overcast >= 6 75 / 83 / 86 / 88 %
STAR_SHARE_FLOOR = 1e-4
# The median brightness is the camera's tone as much as the moon's (research/camera_shift.py, LenghuSky 2018-2019
# moonlit frames: exposure x0.6 puts clear / overcast at 0.22 / 0.27, x1.5 at 0.53 / 0.66, where the reference's sit
# at 0.37 / 0.45), and the gate reads it against the reference's own. Outside the reference's own range of it
# (TONE_SPAN: its moonlit frames' 5th-95th percentile) a median says more of the camera than of the sky, and the
# gate reads instead ln(p50 / p90) of the same pixels on the brightness's scale (TONE_MAP: a + b x, through the
# reference's clear and overcast medians of both, -0.593 -> 0.375 and -0.415 -> 0.447): a gain moves no ratio, and
# cloud, which spreads the moon's light, lifts the sky's middle toward its bright end.
TONE_SPAN = (0.330, 0.517)
TONE_MAP = (0.616, 0.4075)
GATE_UNSURE = (0.2, 0.7)  # a gate between these: the moonlit answer is marked uncertain


def box_sum(a: np.ndarray, k: int) -> np.ndarray:
    """Sum over the k x k window around each pixel (edges repeated)."""
    h, w = a.shape
    c = np.pad(np.pad(a, k // 2, mode="edge").cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    return c[k : k + h, k : k + w] - c[:h, k : k + w] - c[k : k + h, :w] + c[:h, :w]


def _around(b: np.ndarray, reduce: np.ufunc) -> np.ndarray:
    """`reduce` (np.maximum, np.minimum) over the 3x3 neighbourhood of each pixel, itself included (edges repeated)."""
    h, w = b.shape
    p = np.pad(b, 1, mode="edge")
    out = b.copy()
    for i, j in ((0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2)):
        reduce(out, p[i : i + h, j : j + w], out=out)
    return out


def point_sources(bright: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(faint, sharp) bool maps of stars in a brightness image (uint8 max(R, G, B)): local maxima of the 3x3
    neighbourhood standing STAR_FAINT / STAR_SHARP (times lens.star_gain where the sky is darker than the
    reference camera's) over the mean of the ring around them."""
    b = bright.astype(np.float32)
    h, w = b.shape
    top = _around(b, np.maximum)
    ring = (box_sum(b, 5) - box_sum(b, 3)) / np.float32(16.0)
    lead = b - ring
    peak = (b >= top) & (bright < SATURATED)
    gain = lens.star_gain(bright, MOONLIT_SKY_REF)
    scale = np.float32(1.0) if gain is None else lens.per_pixel(gain, h, w)
    return peak & (lead >= scale * np.float32(STAR_FAINT)), peak & (lead >= scale * np.float32(STAR_SHARP))


# The site's night side (site_bars, site_gate). Dark nights: the site's clear-night star density per ring of the lens
# (BANDS: rho where each ring starts; the last runs on), the CLEAR_NIGHT_Q-th percentile over its dark-night frames
# that show stars, against the reference camera's (REF_CLEAR_NIGHT). The reference's own bar (lens.horizon_bar, over
# each ring's area) is SITE_BAR of its clear-night density in every ring (0.18-0.22; LenghuSky 2018-2019 dark
# nights, each frame on its own lens fit as the model reads it), so a site's bar is SITE_BAR of its own density.
# Like the gate's centre, the density moves with the weather as much as with the camera: a run of mostly overcast
# nights puts the percentile among cloud. The reference camera's own samples of MIN_DARK frames (2018-2019, drawn
# 2000 times) read 0.67-1.11 of REF_CLEAR_NIGHT (1st-99th percentile; 0.56 at 8 frames, whose percentile is their
# second-best night), all of 2020 0.82: only a density outside REF_CLEAR_SPAN of the reference's says the camera
# differs (another sensor, exposure or lens: the star counts move by factors), and only then are the bars its own.
# Tried first, per ring at 0.15 of the site's density whatever it was: on the reference camera, fitted on one time
# half and scored on the other, dark overcast nights read 4-5 (five at 50 frames a calibration, four with all).
BANDS = (0.0, 0.3, 0.5, 0.65, 0.75)
CLEAR_NIGHT_Q = 80
SITE_BAR = 0.2
REF_CLEAR_NIGHT = 0.0277  # the rings' mean of their CLEAR_NIGHT_Q-th percentiles (36.6 33.0 27.0 23.3 18.3 per mille)
REF_CLEAR_SPAN = 2.0  # a site's density within this factor of REF_CLEAR_NIGHT: the reference's bars
MIN_DARK = 12  # fewer dark-night frames with stars say nothing about the site's clear nights
# A night frame is starry (the star rule applies) over lens.STARRY_FRAME of star pixels: 0.22 of the reference's
# clear-night density (LenghuSky 2018-2020, the rings' mean of their 80th percentiles: about 27 per mille). A
# site whose clear nights show fewer stars (a smaller sensor, a softer lens) gets the same share of its own.
STARRY_SHARE = 0.3
MIN_CLEAR_NIGHT = 0.002  # a site whose clear nights show fewer star pixels than this never sees a starry sky
# Moonlit (site_gate): the gate features' mean over the reference's clear and overcast moonlit frames
# (LenghuSky 2018-2020, read <= 2 and >= 6 octas: the frames GATE_* was fitted on); a site's median outside
# the span between them moves the gate's centre by the excess.
REF_CLEAR = (-5.816, 0.3759, 0.0572)
REF_OVERCAST = (-7.066, 0.4493, 0.0273)
MIN_MOONLIT = 10
MAX_SHIFT = 4.0  # the most the centre moves, in the gate's standard units per feature
# The median brightness is the camera's tone curve as much as the moon's light (research/camera_shift.py: through
# gamma 1.25 the reference's clear and overcast moonlit frames both darken by about 0.08), and a darker curve's site
# median sits between its own clear and overcast, so the excess over the span above caught only 0.03 of it. The
# site's clearest-looking moonlit skies, its LOW_Q-th percentile of brightness, follow the curve instead (given one
# moonlit frame in ten clear): LenghuSky 2018-2019, all moonlit frames, REF_LOW (2018 / 2019 apart 0.356 / 0.343);
# through gamma 1.25 0.271, gamma 0.8 0.435, exposure x1.5 0.504. The median still says whether the camera differs
# (a site of overcast nights only has a bright percentile but a median inside the span); the percentile says by how
# much, when it points the same way.
LOW_Q = 10
REF_LOW = 0.3504


@dataclass(frozen=True, slots=True)
class NightSite:
    """What `cielo calibrate` learned of the site's nights; None: the reference's constants."""

    star_bars: tuple[float, ...] | None = None  # dark-night window bar per ring (BANDS)
    gate_mean: tuple[float, float, float] | None = None  # the moonlit gate's centre on this camera
    starry: float | None = None  # share of star pixels that makes a night frame starry (lens.STARRY_FRAME)
    texture: float | None = None  # the moonlit texture bar on this camera (TEXTURE_BAR)
    rim: float | None = None  # ln of the rim's light against the reference camera's (site_rim)
    gain: float | None = None  # a darker camera's dark-night sky against the reference's (site_gain)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "star_bars": None if self.star_bars is None else [round(v, 6) for v in self.star_bars],
            "gate_mean": None if self.gate_mean is None else [round(v, 4) for v in self.gate_mean],
            "starry": None if self.starry is None else round(self.starry, 6)}
        if self.texture is not None:  # written only when learned: a calibration without it keeps its id
            out["texture"] = round(self.texture, 5)
        if self.rim is not None:  # likewise
            out["rim"] = round(self.rim, 4)
        if self.gain is not None:  # likewise
            out["gain"] = round(self.gain, 4)
        return out

    @property
    def texture_bar(self) -> float:
        return TEXTURE_BAR if self.texture is None else self.texture

    @property
    def starry_share(self) -> float:
        return lens.STARRY_FRAME if self.starry is None else self.starry

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> NightSite | None:
        if not raw:
            return None
        bars, mean = raw.get("star_bars"), raw.get("gate_mean")
        if bars is not None and len(bars) != len(BANDS):
            raise ValueError(f"night.star_bars: {len(bars)} values, expected {len(BANDS)}")
        if mean is not None and len(mean) != 3:
            raise ValueError("night.gate_mean: expected 3 values")
        starry, texture, rim, gain = raw.get("starry"), raw.get("texture"), raw.get("rim"), raw.get("gain")
        return cls(None if bars is None else tuple(float(v) for v in bars),
                   None if mean is None else (float(mean[0]), float(mean[1]), float(mean[2])),
                   None if starry is None else float(starry), None if texture is None else float(texture),
                   None if rim is None else float(rim), None if gain is None else float(gain))

    def bar_map(self, rho: np.ndarray) -> np.ndarray | None:
        """float32 [H, W]: the star bar at each pixel (None: the reference's one bar)."""
        if self.star_bars is None:
            return None
        ring = np.clip(np.searchsorted(np.asarray(BANDS), rho, side="right") - 1, 0, len(BANDS) - 1)
        return np.asarray(self.star_bars, dtype=np.float32)[ring]


def features(frame: Frame, geom: lens.Lens, tone_free: bool = True, rim: float | None = None
             ) -> tuple[tuple[float, float, float] | None, np.ndarray | None]:
    """The gate's inputs (ln sharp-star share, median brightness, median NRBR over the octa area) and the
    faint stars at the decoded size; (None, None) when the frame has too little sky. `tone_free`: a median outside
    the reference's range (TONE_SPAN) read from the sky's own spread instead (TONE_MAP); without it the median as
    it stands, which is what a calibration learns the camera's tone from (site_gate). `rim`: the site's vignette
    (NightSite.rim), whose fall-off is taken off the brightness before its median (unvignetted_top)."""
    if frame.bright is None:
        return None, None
    bright = frame.bright
    h, w = bright.shape
    area = geom.scaled(w, h).rho() <= lens.OCTA_RADIUS if geom.found else np.ones((h, w), dtype=bool)
    faint, sharp = point_sources(bright)
    usable = area & (bright < SATURATED)
    if usable.sum() < 100:
        return None, None
    share = float(sharp[usable].mean())
    px = frame.pixels
    octa = (geom.rho() <= lens.OCTA_RADIUS) if geom.found else np.ones(px.shape[1:], dtype=bool)
    top = np.maximum(np.maximum(px[0], px[1]), px[2])
    small = octa & (top < SATURATED)
    if not small.any():
        return None, None
    top = unvignetted_top(top, geom, rim)
    level = float(np.median(top[small])) / 255.0
    if tone_free and not TONE_SPAN[0] <= level <= TONE_SPAN[1]:
        mid, high = np.percentile(top[octa], (50, 90))  # the moon's clipped disc in: a gain clips no more of it
        if high < SATURATED:  # (a clipped bright end is the white's, not the sky's: the median stays)
            level = TONE_MAP[0] + TONE_MAP[1] * math.log(max(float(mid), 1.0) / float(high))
    return (math.log(share + STAR_SHARE_FLOOR), level, float(np.median(lens.nrbr(px)[small]))), faint


# A vignetted lens (site_rim / site_rim_all: NightSite.rim) darkens the octa area's outer rings, and with them the
# gate's median brightness: through research/camera_shift.py's "vignette 30%" LenghuSky 2018-2019 moonlit overcast
# decks read 0.04-0.06 darker, like the reference's clear skies, and passed the gate (tone21: 6 frames, each read by
# its "stars"). The rim the calibration learned is taken off each pixel before the median, on the same surface the
# horizon rise is fitted with (1 + d rho^2: the rim's light exp(rim) of the zenith's at rho 1). A site without a
# learned rim (the reference's own 50-frame draws: 0.6 % / 4 %, docs/design.md rim21) reads as before.
def unvignetted_top(top: np.ndarray, geom: lens.Lens, rim: float | None) -> np.ndarray:
    """The brightness `top` with the site's vignette (`rim`, ln) divided out over the lens; `top` itself without one."""
    if rim is None or not geom.found:
        return top
    fall = 1.0 + (math.exp(rim) - 1.0) * np.minimum(geom.rho(), 1.0) ** 2
    return top.astype(np.float32) / fall.astype(np.float32)


def gate(frame: Frame, geom: lens.Lens, site: NightSite | None = None) -> tuple[float, np.ndarray | None]:
    """(probability the frame is a clear moonlit sky, the faint stars at the decoded size or None)."""
    learned = site is not None and site.gate_mean is not None  # (a site's own centre reads its own tone)
    x, faint = features(frame, geom, tone_free=not learned, rim=None if site is None else site.rim)
    if x is None:
        return 0.0, None
    mean = site.gate_mean if learned else GATE_MEAN
    z = GATE_BIAS + sum(wi * (xi - m) / s for wi, xi, m, s in zip(GATE_W, x, mean, GATE_SD, strict=True))
    return 1.0 / (1.0 + math.exp(-z)), faint


def open_sky(faint: np.ndarray, height: int, width: int) -> np.ndarray:
    """Share of faint-star pixels in the STAR_WINDOW around each pixel, at the model's size."""
    density = box_sum(faint.astype(np.float32), STAR_WINDOW) / np.float32(STAR_WINDOW * STAR_WINDOW)
    if density.shape != (height, width):
        density = np.asarray(Image.fromarray(density, mode="F").resize((width, height), Image.Resampling.BOX))
    return density


def moonlit_read(frame: Frame, geom: lens.Lens, valid: np.ndarray, site: NightSite | None = None
                 ) -> tuple[int | None, float]:
    """(octas read by the stars when the frame looks like a clear moonlit sky, None: keep the colour reading;
    the gate's probability, which decided it)."""
    p, faint = gate(frame, geom, site)
    sel = valid > 0
    if p <= GATE_CLEAR or faint is None or not sel.any():
        return None, p
    tex = texture(frame, geom)
    if tex is not None and tex > (TEXTURE_BAR if site is None else site.texture_bar):
        return None, p  # lit, lumpy cloud: its bright cells are no stars
    density = open_sky(faint, *valid.shape)
    cloud = float((density[sel] <= OPEN_SKY).mean())
    return math.floor(cloud * 8 + 0.5), p


# Moonlit cloud is lit and lumpy: the moon's light scattered by a deck's cells and billows makes a brightness texture
# at a few pixels' to a window's scale, and its bright cells throw local maxima over STAR_FAINT that pass as faint
# stars (a broken or cirrocumulus sky read 0-1 octas by its "stars"). A clear moonlit sky is smooth at that scale (the
# moon's glow spreads over tens of degrees) but for its point stars, which a 3x3 opening takes out. TEXTURE: the
# TEXTURE_Q-th percentile, over the sky within TEXTURE_RHO of the lens radius (unlit and glare pixels left out), of
# |opened - its STAR_WINDOW box mean| / that mean. A frame the gate calls clear-looking but textured over TEXTURE_BAR is
# not read by its stars. LenghuSky 2018-2019 moonlit frames the gate passes: clear (<= 2 octas) 0.8-4.4 %, the
# overcast (>= 6) it read 0-2 octas 2.3-6.6 % (four of them 5.0-6.6 %). The bar sits over the clear ones through
# research/camera_shift.py's changes too (2018-2019: auto levels lifts them to 4.85 %, white balance to 4.3 %;
# gamma 1.25 to 5.4 %, which the site's own floor takes up below) and under the four (docs/design.md).
TEXTURE_Q = 75
TEXTURE_RHO = 0.7
TEXTURE_LIT = (12, 200)  # levels: darker is no sky (the surround), brighter the moon's glare
TEXTURE_BAR = 0.049
# The texture is a camera's as much as its sky's: sharpening, JPEG blocks, noise and a steeper tone curve roughen a
# smooth sky (research/camera_shift.py: through gamma 1.25 the reference's clear moonlit frames reach 5.4 %). A site
# learns it from its own moonlit frames (site_texture): their TEXTURE_FLOOR_Q-th percentile is its smooth skies, the
# camera's floor (LenghuSky 2018-2019: REF_TEXTURE). The weather moves it too: the reference's two time halves of
# 2018-2020 (unlabelled, as `calibrate` sees them) read 1.94 and 2.41 %, at most 1.09 times REF_TEXTURE, so only a
# floor over TEXTURE_SPAN times the reference's raises the bar, in proportion; a smoother camera keeps it.
TEXTURE_FLOOR_Q = 25
REF_TEXTURE = 0.0221
TEXTURE_SPAN = 1.1


def opened(b: np.ndarray) -> np.ndarray:
    """3x3 grey opening (min, then max, over each neighbourhood): point sources taken out, broader light kept."""
    return _around(_around(b, np.minimum), np.maximum)


def texture(frame: Frame, geom: lens.Lens) -> float | None:
    """The moonlit sky's texture (TEXTURE above) at the decoded size; None without brightness or with too little sky."""
    if frame.bright is None:
        return None
    bright = frame.bright
    h, w = bright.shape
    smooth = opened(bright.astype(np.float32))
    mean = box_sum(smooth, STAR_WINDOW) / np.float32(STAR_WINDOW * STAR_WINDOW)
    sel = (bright > TEXTURE_LIT[0]) & (bright < TEXTURE_LIT[1])
    if geom.found:
        sel &= geom.scaled(w, h).rho() <= TEXTURE_RHO
    if sel.sum() < 100:
        return None
    rel = np.abs(smooth - mean)[sel] / np.maximum(mean[sel], np.float32(1.0))
    return float(np.percentile(rel, TEXTURE_Q))


def gate_unsure(p: float) -> bool:
    """The moonlit gate could not tell a clear look from an overcast one: the answer is weak."""
    return GATE_UNSURE[0] < p < GATE_UNSURE[1]


def site_gate(xs: Sequence[tuple[float, float, float]], least: int = MIN_MOONLIT
              ) -> tuple[tuple[float, float, float] | None, str]:
    """The moonlit gate's centre for a site from its moonlit frames' features, and a note; None: the reference's.

    The site's median of each feature depends on its weather as much as on its camera: any mix of clear and
    overcast nights puts it between the reference's clear and overcast centres (REF_CLEAR, REF_OVERCAST). Only
    a median outside that span says the camera differs (exposure, white balance, sharpness), and the gate's
    centre moves by the excess; the brightness's by the shift of the site's clearest skies (LOW_Q) when that
    points the same way: a tone curve moves clear and overcast skies alike, further than the median's excess."""
    if len(xs) < least:
        return None, f"{len(xs)} moonlit frames (needs {least}): the reference's gate"
    med = np.median(np.asarray(xs, dtype=np.float64), axis=0)
    lo, hi = np.minimum(REF_CLEAR, REF_OVERCAST), np.maximum(REF_CLEAR, REF_OVERCAST)
    excess = med - np.clip(med, lo, hi)
    low = float(np.percentile(np.asarray(xs, dtype=np.float64)[:, 1], LOW_Q)) - REF_LOW
    if low * excess[1] > 0:
        excess[1] = low
    shift = np.clip(excess, -MAX_SHIFT * np.asarray(GATE_SD), MAX_SHIFT * np.asarray(GATE_SD))
    if not shift.any():
        return None, f"{len(xs)} moonlit frames look like the reference camera's: the reference's gate"
    mean = tuple(float(m + d) for m, d in zip(GATE_MEAN, shift, strict=True))
    return (mean[0], mean[1], mean[2]), (f"{len(xs)} moonlit frames; medians {' '.join(f'{v:.3g}' for v in med)} "
                                         f"(ln star share, brightness, NRBR): gate centre moved by "
                                         f"{' '.join(f'{d:+.3g}' for d in shift)}")


def site_texture(textures: Sequence[float]) -> tuple[float | None, str]:
    """The moonlit texture bar for a site from its moonlit frames' texture (TEXTURE_FLOOR_Q), and a note; None: the
    reference's bar."""
    if len(textures) < MIN_MOONLIT:
        return None, f"{len(textures)} moonlit frames (needs {MIN_MOONLIT}): the reference's texture bar"
    floor = float(np.percentile(np.asarray(textures, dtype=np.float64), TEXTURE_FLOOR_Q))
    ratio = floor / REF_TEXTURE
    if ratio <= TEXTURE_SPAN:
        return None, (f"smooth moonlit skies at {floor * 100:.2f} % texture ({ratio:.2f} of the reference's): the "
                      f"reference's texture bar")
    bar = TEXTURE_BAR * ratio
    return bar, (f"smooth moonlit skies at {floor * 100:.2f} % texture ({ratio:.2f} of the reference's): a lumpy sky "
                 f"over {bar * 100:.2f} % is not read by its stars")


def site_bars(densities: Sequence[Sequence[float]]) -> tuple[tuple[float, ...] | None, float | None, str]:
    """The dark-night star bar per ring from the dark-night frames' mean star density per ring (frames that
    show stars), the share of star pixels that makes a frame starry there (never over lens.STARRY_FRAME), and a
    note; (None, None, note) with too few frames or a site whose nights show no starry sky."""
    if len(densities) < MIN_DARK:
        return None, None, (f"{len(densities)} dark-night frames with stars (needs {MIN_DARK}): the reference's "
                            f"star bar")
    clear = np.percentile(np.asarray(densities, dtype=np.float64), CLEAR_NIGHT_Q, axis=0)
    if float(clear.max()) <= MIN_CLEAR_NIGHT:
        return None, None, (f"the site's clear nights show {clear.max():.4f} of star pixels (under {MIN_CLEAR_NIGHT}: "
                            f"no starry sky): the reference's star bar")
    # a ring without a clear night's stars (the lens rim) keeps the previous ring's bar
    for i in range(1, len(clear)):
        if clear[i] <= 0:
            clear[i] = clear[i - 1]
    ratio = float(clear.mean()) / REF_CLEAR_NIGHT
    density = f"{len(densities)} dark-night frames; clear-night star density per ring " + " ".join(
        f"{c * 1000:.1f}" for c in clear) + f" per mille ({ratio:.2f} of the reference camera's)"
    if 1 / REF_CLEAR_SPAN <= ratio <= REF_CLEAR_SPAN:
        return None, None, f"{density}, within {REF_CLEAR_SPAN:g}x of it: the reference's star bar"
    bars = tuple(float(SITE_BAR * c) for c in clear)
    starry = min(lens.STARRY_FRAME, STARRY_SHARE * float(clear.mean()))
    return bars, starry, f"{density}; bar {SITE_BAR} of it; starry over {starry * 1000:.1f} per mille"


def ring_density(stars: np.ndarray, rho: np.ndarray, sky: np.ndarray) -> list[float] | None:
    """Mean star density per ring (BANDS) within the octa area; None when a ring has no sky."""
    out = []
    edges = (*BANDS, lens.OCTA_RADIUS)
    for lo, hi in itertools.pairwise(edges):
        sel = sky & (rho >= lo) & (rho < hi)
        if not sel.any():
            return None
        out.append(float(stars[sel].mean(dtype=np.float32)))
    return out


# Twilight (model.py: a frame known to be in twilight): the sky's light per position, fitted over the octa area as
# a + b x + c y + d rho^2 (x, y, rho in lens radii). A clear twilight sky brightens toward the horizon (the glow on
# the sun's side and the longer air path all round: d well over 0), an overcast one is lit from above and dims
# toward it (the CIE overcast sky: the horizon about a third of the zenith). The x, y terms take up the glow's side,
# so only the rise all round counts. HORIZON_RISE chosen on LenghuSky 2018-2019 twilight frames (see docs/design.md).
HORIZON_RISE = 0.3  # d / a under this: the sky does not brighten toward the horizon: overcast
# The sun's glow still lights the sky's rim a little below nautical twilight: a night frame without stars is judged
# by the horizon's rise too while the sun is above this (degrees). Below it the rise no longer separates clear from
# overcast on LenghuSky 2018-2019 (clear starless nights at -15 dim toward the horizon).
SUN_GLOW = -14.0


# The rise away from the glow: a glow is concentrated toward its side of the rim, not linear, so on an overcast deck
# lit through a gap at one rim (light from under the deck's edge) the x, y terms cannot take it all up and the rise over
# the whole sky reads clear. A clear sky brightens toward the horizon all round, on the side away from the glow too; an
# overcast one does not. The fit is redone on the half of the sky away from the glow (opposite the first fit's x, y
# slope). AWAY_RISE chosen on LenghuSky 2018-2019 twilight frames (docs/design.md).
AWAY_RISE = 0.05  # d / a there under this: overcast

# A vignette (a cheap lens: light falling toward the rim) multiplies the sky's light by the same fall in every frame,
# so every rise above reads low: 1 + rise times the rim's share of light. LenghuSky 2018-2020 through
# research/camera_shift.py "vignette 30%": ln(1 + rise) falls by 0.2-0.33 in every light (twilight, moonlit, dark),
# clear twilights read as decks. The weather moves a site's rises more than that (clear-only against overcast-only
# frames 0.53 apart), but its clear dark nights (frames with stars) show the camera alone: their median ln(1 + rise)
# (rim_light), RIM_REF on the reference (LenghuSky 2018-2019's starry dark frames on the ellipse a calibration on all
# of 2018-2019 fitted, as learn_nights measures them). A calibration whose own starry dark nights (MIN_DARK or more, as
# the star bar) read a rim dimmer than RIM_SPAN under it reads every rise on the reference's scale (site_rim,
# unvignetted). Those nights vary by themselves (the Milky Way, a town's light): the reference's own samples of 12
# read within 0.22 under RIM_REF (1st percentile), the vignette's 0.38 under it (median); a rim brighter than the
# reference's is never the lens's (see docs/design.md, "A vignetted camera's twilight rise").
RIM_REF = -0.263
RIM_SPAN = 0.2
RIM_FLOOR = 0.05  # 1 + rise under this (a black rim): held here, no log of zero


def _rise_fit(a: np.ndarray, top: np.ndarray) -> np.ndarray | None:
    """The coefficients of top ~ a + b x + c y + d (x^2 + y^2), `a` its design matrix; None when it cannot be
    fitted or the sky is black."""
    try:
        coef = np.linalg.solve(a.T @ a, a.T @ top)
    except np.linalg.LinAlgError:
        return None
    return coef if coef[0] > 1.0 else None


# A clipped rim (a brighter exposure or gain: a clear twilight's glowing horizon at white) flattens the rise it should
# show: a clear sky read as a deck. A pixel whose brightest channel is at CLIPPED or over is censored: its light is that
# or more. Its value is replaced by the fit's expectation above the clip (a normal with the unclipped pixels' scatter:
# a Tobit fit by a few EM rounds) before the fit is redone. Frames without clipped pixels fit exactly as before.
# Chosen on LenghuSky 2018-2019 twilight through exposure x1.5 (docs/design.md, "A clipped twilight rim").
CLIPPED = 250.0  # levels: JPEG ringing spreads a white 255 down to about here
CENSORED_ROUNDS = 5


def _censored_fit(a: np.ndarray, top: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """_rise_fit with the clipped pixels censored (above), and the brightness it fitted (clipped pixels filled)."""
    clip = top >= CLIPPED
    if not clip.any() or int((~clip).sum()) < 50:
        return _rise_fit(a, top), top
    ar, rest, ac, tc = a[~clip], top[~clip], a[clip], top[clip]
    coef = _rise_fit(ar, rest)
    try:
        inv = np.linalg.inv(a.T @ a)
    except np.linalg.LinAlgError:
        return None, top
    base, lift = a.T @ top, np.zeros_like(tc)
    for _ in range(CENSORED_ROUNDS):
        if coef is None:
            break
        res = rest - ar @ coef
        sd = max(math.sqrt(float(res @ res) / len(res)), 1.0)
        mu = ac @ coef
        z = (CLIPPED - mu) / sd
        # the normal's mean above z in sd, the inverse Mills ratio, as (z + sqrt(z^2 + 8 / pi)) / 2: exact at 0, at
        # most 0.22 sd off (over, where the fit is already above the clip); no scipy in the daemon
        lift = np.maximum(mu + sd * (z + np.sqrt(z * z + 8.0 / np.pi)) / 2.0 - tc, 0.0)
        coef = inv @ (base + ac.T @ lift)
        coef = coef if coef[0] > 1.0 else None
    filled = top.copy()
    filled[clip] += lift
    return coef, filled


def rises(px: np.ndarray, valid: np.ndarray, geom: lens.Lens) -> tuple[float | None, float | None]:
    """(d / a of the brightness fit above over the valid pixels, d / a of the same fit on the half of the sky
    away from the glow), every 2nd row and column (a smooth surface), clipped pixels censored (CLIPPED); None
    without a lens circle or with too little sky."""
    if not geom.found:
        return None, None
    sel = np.zeros(valid.shape, dtype=bool)
    sel[::2, ::2] = valid[::2, ::2] > 0
    yy, xx = lens.nonzero2d(sel)
    if len(yy) < 50:
        return None, None
    x = (xx.astype(np.float64) - geom.cx) / geom.rx
    y = (yy.astype(np.float64) - geom.cy) / geom.ry
    top = np.maximum(np.maximum(px[0], px[1]), px[2])[sel].astype(np.float64)
    a = np.stack([np.ones_like(x), x, y, x * x + y * y], axis=1)
    whole, top = _censored_fit(a, top)
    if whole is None:
        return None, None
    away = x * whole[1] + y * whole[2] < 0
    part = _rise_fit(a[away], top[away]) if away.sum() >= 50 else None
    return float(whole[3] / whole[0]), None if part is None else float(part[3] / part[0])


def rim_light(px: np.ndarray, geom: lens.Lens, sky: np.ndarray | None = None) -> float | None:
    """ln(1 + the whole sky's rise) (rises) over the octa area of a frame (less `sky`'s obstructions and clipped
    pixels): how much brighter its rim is than its zenith; None without a lens circle or with too little sky."""
    if not geom.found:
        return None
    top = np.maximum(np.maximum(px[0], px[1]), px[2])
    valid = (geom.rho() <= lens.OCTA_RADIUS) & (top < CLIPPED)
    if sky is not None:
        valid &= sky
    rise, _ = rises(px, valid.astype(np.float32), geom)
    return None if rise is None else math.log(max(1.0 + rise, RIM_FLOOR))


def site_rim(rims: Sequence[float]) -> tuple[float | None, str]:
    """The site's rim light against the reference camera's (ln, RIM_REF) from its clear dark nights' rim_light, and
    a note; None: the reference's (too few frames, or within RIM_SPAN of it)."""
    if len(rims) < MIN_DARK:
        return None, f"{len(rims)} dark nights with stars (needs {MIN_DARK}): the reference's horizon rise"
    shift = float(np.median(np.asarray(rims, dtype=np.float64))) - RIM_REF
    ratio = f"the rim at {math.exp(shift):.2f} of the reference's light"
    if shift >= -RIM_SPAN:  # a lens only dims its rim: a brighter one is the sky's (glow, town light)
        return None, f"{len(rims)} dark nights with stars: {ratio}, within its span: the reference's horizon rise"
    return shift, f"{len(rims)} dark nights with stars: {ratio} (a vignette): the horizon rise read on the reference's"


# Fewer than MIN_DARK starry dark nights (a calibration on ~50 frames holds 4-8) cannot pin the rim that way, but
# every frame carries the lens's fall-off: its ln(1 + rise) (rim_light) against the reference's median for its light
# (day by the sun's altitude, twilight, moonlit, dark: RIM_BANDS_REF), the median over all the site's frames
# (site_rim_all). The weather moves one frame by far more than a vignette, but the median over 50 frames of every
# light holds it: LenghuSky 2018-2019 through research/camera_shift.py, 50-frame draws at random / consecutive, the
# reference's 5th-95th percentile -0.11..+0.10 / -0.15..+0.16, vignette 30 % -0.47..-0.22 / -0.52..-0.16; the tone
# looks (gamma 0.8, 1.25, exposure x0.6, x1.5) centred on 0 as the reference; TSI's mirror reads its rim brighter
# (+0.63), never a vignette. Under -RIM_SPAN: 0.6 % / 4 % of the reference's draws, 97 % / 88 % of the vignette's
# (docs/design.md, "A vignetted lens learned from ~50 frames").
RIM_DAY_EDGES = (10.0, 25.0, 45.0)  # the sun's altitude (degrees) parting the day bands
# the reference's median rim_light per band: LenghuSky 2018-2019 on a calibration fitted on all of it, as
# learn_nights measures them (31 / 43 / 77 / 73 day frames, 69 twilight, 78 moonlit, 102 dark)
RIM_BANDS_REF = {"day 0": 0.715, "day 1": 0.272, "day 2": 0.059, "day 3": -0.308,
                 "twilight": 0.621, "moonlit night": 0.44, "dark night": -0.365}
MIN_RIM_FRAMES = 20  # fewer frames with a rim read: the reference's rim


def rim_band(light: str, sun_altitude: float) -> str:
    """The RIM_BANDS_REF key of a frame's light (regime name) and the sun's altitude."""
    if light != "day":
        return light
    return f"day {sum(sun_altitude >= e for e in RIM_DAY_EDGES)}"


# A paler camera (a dusty or aged dome: its day levels read paler, calibration.Calibration.clear_paler) is no
# reference camera whose weather could feign a dim rim: its glare lifts the zenith under every light (the light
# spread over the sky), and a clear twilight's rise through research/camera_shift.py's dusty dome reads like a
# deck's. LenghuSky 2018-2019 through it, every frame's rim_light less the untransformed frame's (median): twilight
# -0.23, moonlit -0.23, dark -0.11, day -0.07..-0.22; the median over 50 random frames of the shifts site_rim_all
# reads -0.16 (5th-95th -0.25..-0.05): under RIM_SPAN in a fifth of the draws. At such a site any dimmer rim is read
# as the lens's (PALE_RIM_SPAN). The reference's own 50-frame draws never read paler from their levels (0 of 236)
# and keep RIM_SPAN: their median reaches -0.12 / -0.15 (random / consecutive, 5th percentile; docs/design.md,
# "A dusty dome's twilights").
PALE_RIM_SPAN = 0.0


def site_rim_all(shifts: Sequence[float], span: float = RIM_SPAN) -> tuple[float | None, str]:
    """The site's rim light against the reference's (ln) from all its frames' rim_light less RIM_BANDS_REF for their
    light; None: the reference's (too few frames, or within `span` of it, or brighter). `span`: RIM_SPAN, or
    PALE_RIM_SPAN at a site learned paler."""
    if len(shifts) < MIN_RIM_FRAMES:
        return None, f"{len(shifts)} frames with a rim read (needs {MIN_RIM_FRAMES}): the reference's horizon rise"
    shift = float(np.median(np.asarray(shifts, dtype=np.float64)))
    ratio = f"the rim at {math.exp(shift):.2f} of the reference's light"
    if shift >= -span:
        return None, f"{len(shifts)} frames of every light: {ratio}, within its span: the reference's horizon rise"
    why = "a vignette" if shift < -RIM_SPAN else "a paler camera's glare"
    return shift, f"{len(shifts)} frames of every light: {ratio} ({why}): the horizon rise read on the reference's"


def unvignetted(measured: tuple[float | None, float | None], rim: float | None
                ) -> tuple[float | None, float | None]:
    """rises() as the reference camera would measure them: 1 + each rise over the site's rim light (site_rim)."""
    if rim is None:
        return measured
    k = math.exp(-rim)
    return tuple(None if r is None else (1.0 + r) * k - 1.0 for r in measured)  # type: ignore[return-value]


def rises_overcast(measured: tuple[float | None, float | None]) -> bool:
    """A twilight sky that does not brighten toward the horizon (the whole sky's rise under HORIZON_RISE), or not on
    the side away from its glow (that half's rise under AWAY_RISE): overcast. `measured`: rises()."""
    rise, away = measured
    return (rise is not None and rise < HORIZON_RISE) or (away is not None and away < AWAY_RISE)


# A darker camera's stars (session 21, dim21): a star's step is its light times the camera's response, and
# lens.star_gain lowers the bar only where a frame's sky is under STAR_SKY_REF, the reference's darkest clear
# nights; the reference's median dark night sits at REF_DARK_SKY, so through exposure x0.6 a clear night's sky
# reads 82 levels, its bar 0.71 of the reference's while its steps are 0.6: a quarter of its stars lost. The
# median of the calibration's dark-night skies (clear and overcast alike: LenghuSky 2018-2019 dark nights, median
# of max(R, G, B) over the octa area, clear 138 / overcast 160 / all 145) against REF_DARK_SKY is the camera's
# response; under GAIN_BAR the star bars are that share of the reference's (lens.star_density's `camera`), and a
# night frame is too dark to judge under that share of model.NIGHT_JUDGE_MEAN. A sky under lens.STAR_GAIN_FLOOR of
# the reference's is another sensor or exposure altogether (most cameras' nights sit at 20-40 levels), where JPEG
# quantisation makes peaks of its own: the reference's steps (or site_bars', with MIN_DARK starry nights).
REF_DARK_SKY = 145.0
GAIN_BAR = 0.7
MIN_GAIN_FRAMES = 5


def sky_level(px: np.ndarray, geom: lens.Lens, sky: np.ndarray | None = None) -> float | None:
    """The median of max(R, G, B) over the octa area's lit pixels (uint8 [3, H, W]); None without sky."""
    bright = px.max(axis=0)
    sel = (geom.rho() < lens.OCTA_RADIUS) & (bright > lens.NOISE_LIT)
    if sky is not None:
        sel &= sky
    return float(np.median(bright[sel])) if np.count_nonzero(sel) >= 100 else None


def site_gain(levels: Sequence[float]) -> tuple[float | None, str]:
    """The camera's response against the reference's from its dark nights' sky levels, and a note; None: the
    reference's (too few frames, or not darker by GAIN_BAR)."""
    if len(levels) < MIN_GAIN_FRAMES:
        return None, f"{len(levels)} dark-night frames (needs {MIN_GAIN_FRAMES}): the reference's star steps"
    gain = float(np.median(levels)) / REF_DARK_SKY
    note = f"{len(levels)} dark-night skies at {gain:.2f} of the reference's"
    if gain >= GAIN_BAR:
        return None, f"{note}: the reference's star steps"
    if gain < lens.STAR_GAIN_FLOOR:  # another sensor or exposure altogether, not a dimmer reference (site_bars')
        return None, f"{note} (under {lens.STAR_GAIN_FLOOR}: not a dimmer reference camera): the reference's star steps"
    return gain, f"{note} (under {GAIN_BAR}): star bars at that share of the reference's"
