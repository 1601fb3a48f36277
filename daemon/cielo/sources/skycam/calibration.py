"""The site's camera, learned from its own unlabelled images (`cielo calibrate`).

Two things differ from camera to camera and can be read off many frames without labels:

- the valid area: the lens circle (pixels that are dark in nearly every frame are outside it) and fixed
  obstructions such as masts, walls or trees (pixels whose colour hardly changes from frame to frame while
  the sky above changes from blue to cloud);
- the camera's colour cast (site_cast): its white balance moves every NRBR = (B - R) / (B + R) alike, the
  greyest pixels of its day frames (cloud, haze, the pale sky by the sun and the horizon) as much as the clear
  sky; where they sit off the reference camera's, the model takes the cast off each frame's pixels before any
  rule reads them (uncast), so every NRBR constant of the rules (the own-sky surface, the deck bar, the night
  rules, the yellow-cast test) sees the reference camera's colours;
- the sky/cloud threshold on NRBR: its value where the pooled distribution of all valid pixels of all frames
  separates into clear sky and cloud (Otsu on the pooled histogram). Cameras differ in how their sky renders,
  so one threshold does not fit every camera.

The result is a small JSON file (the mask bit-packed, base64). The classifier feeds it to the model through
the model's overridable initializers `site_mask` and `sky_threshold` (models/build_octas.py); a dropped-in
model without them still gets the mask, as black (out-of-area) pixels.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cielo.errors import CieloError
from cielo.sources.skycam import lens as lenses
from cielo.sources.skycam import narrow as narrowness
from cielo.sources.skycam import night as nights
from cielo.sources.skycam import regime
from cielo.sources.skycam.lens import Reference

if TYPE_CHECKING:
    from cielo.sources.skycam.frame import Frame

FORMAT = "cielo-calibration/1"
MIN_FRAMES = 5  # fewer frames say nothing reliable about the camera
LENS_REL = 0.25  # outside the lens: the frame's 90th-percentile brightness under this share of the sky's
STILL_NRBR_STD = 0.02  # an obstruction: NRBR varies less than this across frames ...
STILL_BRIGHT_STD = 0.04  # ... and brightness less than this (0..1)
MIN_FRAMES_FOR_OBSTRUCTIONS = 8
PER_FRAME_LENS = ("each frame is read on its own lens, the model's threshold, no cast (ARM TSI through the dusty dome, "
                  "calibrated: MAE 2.86 -> 0.85, on 50 frames 1.73 -> 0.67)")
# Where the plain fits miss the rim, the frames' own fits (with the faint-rim retry) give the site's lens: their
# median, where at least half the frames' own fits agree with it (centre and semi-axes each within OWN_LENS_AGREE of
# the median's semi-axes). ARM TSI's fits scatter that much anyway: untouched, 67 % of its own fits within 0.10 (47 %
# within 0.05), and 58 % of the plain fits the calibration has always taken; through the dusty dome 82 % (47 %). Their
# median there sits where the untouched frames' does (0.511, 0.484, 0.502 x 0.385 of the frame against 0.510, 0.483,
# 0.497 x 0.383; TSI 2017-05-24 and 2018-04-18). Fits that agree less show no lens the frames share: PER_FRAME_LENS.
OWN_LENS_AGREE = 0.10
MAX_OBSTRUCTED = 0.3  # more than this share of the lens "still": the frames are too alike to tell; not masked
THRESHOLD_RANGE = (-0.1, 0.4)  # a pooled threshold outside this is not a sky/cloud valley
NIGHT_CAST = -0.03  # frames whose median NRBR is under this are not used for the sky's colour
MIN_CONTRAST = 0.12  # pooled pixels whose two classes' means are closer (NRBR) are one population: no split
SPLIT_PIXELS = 2000  # fewer pooled pixels (of a band, at the model's size) keep the site's threshold
TABLE_RHO, TABLE_SUN = 4, 4  # the site's table: bands of rho (within 0.85) x distance to the sun
# A split is the site's only where its own frames pin it (pinned): each of SPLIT_HALVES halves of the day frames
# (drawn with a fixed seed) splits within SPLIT_WOBBLE of the whole; else the model's threshold, the site's surface
# decision kept, taken against the threshold used. A half strays from the whole by about the whole's own error
# (var(half - whole) = var(half) - var(whole) = var(whole) for a mean-like estimate), so the halves bound what the
# whole may be off. SPLIT_WOBBLE: one bin of valley's histogram (0.02), not two (0.04: 0.11 against 0.15 is what
# turned 3 overcast days 4-5 octas). LenghuSky-8's valley is shallow: 2018-2019 day frames, 8 random draws of
# 15-60 split anywhere from 0.07 to 0.17, and a half's 22 day frames (50 frames, as the independent check
# calibrates on) put it at 0.11; halves of them stray 0.04. ARM TSI's is deep: 2017-05-24 draws of 20-60 frames
# 0.21-0.23. From SPLIT_MANY day frames on every split found is the site's, as before: there a band's valley that
# halves disagree on is the camera's own two-sided sky (ARM TSI's halves of ~157: bands at 0.01 and 0.25 that
# halves put 0.06-0.12 off; pinned, its MAE went 0.187 -> 0.273), and LenghuSky-8's whole halves pin theirs.
SPLIT_HALVES = 6
SPLIT_WOBBLE = 0.03
# A bluer camera (more saturation, a stretched tone curve) draws its clear sky and its grey cloud apart by one
# factor, and its pooled split up with them; the model's threshold then reads its thin and broken cloud as sky (ARM
# TSI through "saturation 1.3", 50-frame halves: split 0.21, classes 0.35 apart, not pinned; the model's 0.14 read
# every cloudy octa about 1 low, calibrated MAE 0.463). The classes' contrast says how much bluer: over the reference
# camera's (CONTRAST_REF, LenghuSky-8 2018-2019 day frames: 0.19; 50-frame draws of them 0.19-0.23) by CLEAR_BAND at
# least, an unpinned split (or one a narrow sample's weather would explain, narrowness.SPLIT_MOVE) above the model's
# threshold by CLEAR_BAND is the site's where it moved no farther than that factor (BLUER_SPLIT): a split farther up
# than the contrast carries is a sample's weather (TSI, 50 frames of a clear morning: 0.23 on classes 0.27 apart).
# A sample of one daylight period (narrowness.day_spread) keeps the model's threshold still.
CONTRAST_REF = 0.19
BLUER_SPLIT = True
SPLIT_MANY = 100  # day frames
SURFACE_NEAR = 0.6  # the sky near the sun, for the surface test: out to this distance (lens radii)
MIN_JUDGED = 0.01  # a frame whose judged area (octa area, less glare, ground, obstructions) is under this share
NRBR_LO, NRBR_HI, BINS = -0.3, 0.7, 100
# The cast (site_cast): the CAST_Q-th percentile of the NRBR of the site's unsaturated day pixels (octa area,
# less ground and obstructions) is where its greyest pixels sit, white on any camera but for its white balance.
# The reference camera's (LenghuSky-8 2018-2019 day frames): -0.013; its 2020 frames -0.021, ARM TSI -0.006
# (2017-05-24, 2018-04-18: nearly all clear, the sun's and the horizon's white still there). A red x1.1, blue
# x0.9 white balance moves it to -0.11 (TSI -0.12), the reverse to +0.08 (TSI +0.06). Within CAST_BAND of the
# reference the camera is taken as the reference's (the spread of our two cameras and years: the rules were
# fitted there); beyond it, the whole offset is taken off. Read only where the pixels hold cloud (they split into
# cloud and clear sky, site_split) and the offset stays within CAST_MAX (a white balance off by some 1500 K): a
# run of cloudless frames has no white in it, and its palest sky would read as a blue cast.
CAST_Q = 2
NEUTRAL_NRBR = -0.013
CAST_BAND = 0.02
CAST_MAX = 0.15
CAST_UNSATURATED = 250  # max(R, G, B) at or over this: a clipped channel, its ratio no colour
# A frame's own cast, blind (frame_cast: no calibration, no time needed). One frame cannot tell a cast from its
# sky's colour (a clear TSI frame's greyest pixels sit at NRBR 0.11, its sun behind the shadow band), except where
# its colour is outside anything the reference cameras show by day: a frame whose greyest lit pixels (the
# FRAME_CAST_Q-th percentile of NRBR over unclipped pixels with max(R, G, B) >= FRAME_CAST_LIT) are bluer than
# FRAME_CAST_BLUE while its FRAME_COVER_Q-th percentile sits within FRAME_CAST_SPREAD of them (the median, as first
# set: below). Physically: a clear sky always spans its Rayleigh gradient (deep zenith, pale horizon and sun: median
# over greyest 0.27 on TSI 2017-05-24, 0.15 on LenghuSky-8 2018-2019 day frames, 5th percentiles), so a frame
# mostly within 0.08 of its greyest is a cloud
# cover (LenghuSky overcast: 0.03), and cloud is white on any camera but for its white balance: greyest at 0.00
# on LenghuSky overcast (5th-95th -0.04..0.01), -0.01 on TSI's cloudy frames, +0.08..0.09 through a cool white
# balance (blue x1.1, red x0.9). None of the 330 fit and 192 check day frames of our cameras passes both bars.
# Only the blue side: a frame's greyest pixels redder than white are as often a low sun's light (TSI 2017-05-24
# at sunset, -0.05..-0.09, clouds read 2-4 octas fewer when taken off) as a warm white balance.
# A quarter of the frame, not half (FRAME_COVER_Q, session 18): broken cloud is as white as a deck, and its pixels
# gather within FRAME_CAST_SPREAD of the greyest as a deck's do, while a clear sky's greyest are the thin tail of its
# gradient. Frames with greyest over FRAME_CAST_BLUE hold at most this share of their lit pixels within 0.08 of them:
# TSI 2017-05-24 0.07 (2018-04-18 0.08), LenghuSky-8 2018-2019 day 0.16 (2020 0.12), through saturation x0.7 0.19;
# TSI's broken and overcast frames (3-8 octas) through a cool balance 0.25 and more in 49 of 52 (half and more, the
# median's bar: 23). With the median, the cool camera's broken frames kept their cast and read 1-2 octas fewer.
# Past CAST_MAX a cover stays unread: a cool camera's deck there (TSI 2017-05-24 00:35-00:50 through blue x1.1, red
# x0.9: greyest +0.15) has LenghuSky-8's own twilight and dark-night skies beside it (greyest +0.16..+0.54 with a
# quarter within 0.08, untransformed), and taking CAST_MAX off those moved three of them (docs/design.md).
FRAME_CAST_Q = 2
FRAME_CAST_LIT = 0.25
FRAME_CAST_BLUE = 0.06
FRAME_CAST_SPREAD = 0.08
FRAME_COVER_Q = 25  # percent of the lit pixels
# The red side, with the sun up at the frame's known time (frame_cast's `sun_up`). A low sun's light is as red
# as a warm white balance, a high sun's is not: white cloud and the sun's aureole are then neutral, so a frame whose
# greyest lit pixels (2nd percentile) are redder than FRAME_WARM_RED, and its 5th percentile redder than
# FRAME_WARM_BULK (a cast moves every neutral pixel; a small red object, the ground or a mast, only the reddest few),
# is seen through a warm white balance. With the sun FRAME_WARM_SUN degrees up: LenghuSky-8 2018-2019 day frames'
# greyest -0.048 at the reddest (TSI 2017-05-24 -0.026), their 5th percentile never under -0.03; through red x1.1,
# blue x0.9 the greyest sit at -0.05..-0.13, 5th percentile alike. Chosen on LenghuSky-8 2018-2019 and TSI 2017-05-24.
# How low is "up": where the reference cameras' own frames start to pass both bars by the sun's light alone. With the
# sun 5-20 degrees up none does (LenghuSky-8 2018-2019: 0 of 34, reddest -0.045 / -0.037, no redder than with the sun
# higher; TSI 2017-05-24: none), under 5 degrees some do (LenghuSky-8 1 of 20, a deck lit red, -0.103 / -0.084; TSI
# two cloudy frames, 5 and 7 octas, at 3-4 degrees: -0.08..-0.09 / -0.04..-0.06). At 20 degrees, as first set, a
# warm camera's clear mornings and evenings read as decks (docs/design.md, "Other cameras by day: a darker camera's
# disc, a warm camera's low sun").
FRAME_WARM_SUN = 5.0  # degrees
FRAME_WARM_RED = -0.05
FRAME_WARM_BULK = -0.03
FRAME_WARM_Q = 5
# How blue the site's clear sky is (clear_scale): the day rules hold NRBR bars chosen on the reference camera (a frame
# shows a clear sky when its clear-sky surface's bluest tenth reaches lens.SURFACE_CLEAR; lens.deck_bar; the surface's
# floor). A camera whose colour is weaker (less saturation, scattered light in a dusty dome or lens, a flatter tone
# curve) draws every blue nearer grey by one factor, its clear sky and its decks alike, and those bars then read its
# clear days as decks. Each daylit frame with the sun in view gives its surface's bluest tenth (lens.surface_level);
# over a site's frames these split into decks and clear skies (the classes' means apart by CLEAR_SPLIT of the clear
# one's at least, a ratio: a weaker camera draws both nearer grey; cloud cover's frequency is U-shaped), and the
# median of the clear class over the reference camera's (CLEAR_BLUE_REF, the same measure on
# LenghuSky-8 2018-2019 development frames) scales the bars. Within CLEAR_BAND of 1 the camera is taken as the
# reference's (its own years, each calibrated on itself: 2018-2019 1.00, 2020 no split, 2021 0.92). The bars only follow
# a paler camera down, to CLEAR_FLOOR of the reference's at most: a bluer one keeps them (the blue side of its decks
# sits under its own pooled threshold already; raised, they took ARM TSI's clear frames with the sun behind the
# shadow band for decks: through saturation 0.7, 1.15 on one half, calibrated MAE 0.343 -> 0.356).
CLEAR_BLUE_REF = 0.26
CLEAR_SPLIT = 0.5
CLEAR_BAND = 0.15
CLEAR_FLOOR = 0.5
CLEAR_MIN_FRAMES = 5  # frames in each class at least
# Levels that do not split (a sample without decks, or a dusty dome's clear skies drawn toward its decks) are a paler
# camera's where even their bluest tenth (CLEAR_TOP_Q) sits CLEAR_BAND under the reference's clear level (session 22,
# dome22): LenghuSky-8's own 50-frame samples that do not split never read that (their bluest tenth 0.99-1.55 x
# CLEAR_BLUE_REF over 86 picks of 2018-2019, 1.04-1.35 over 67 of 2020), while their median, read so in session 15
# (CLEAR_ALONE), sat at 0.74-0.79 of it; through research/camera_shift.py's dusty dome a 50-frame half of 17 levels,
# one deck among them, reads 0.70 where it kept the reference's bars.
CLEAR_TOP_Q = 90  # percent
# How much paler, once the levels say paler (session 22): with frame times known, each of the clear levels is read
# against the reference camera's clear sky at its sun's altitude (clear_blue_at: the line through LenghuSky-8
# 2018-2019's 87 clear daylit levels, CLEAR_BLUE_AT_HORIZON with the sun at the horizon falling by CLEAR_BLUE_FALL a
# degree to CLEAR_BLUE_TOP; 0.26, CLEAR_BLUE_REF, at 55 degrees): a low sun's clear sky is bluer (0.32 under 15
# degrees, 0.26 over 30), and a sample rich in low-sun clear days read against 0.26 alone reads a dusty dome less pale
# than it is (the dusty dome's 50-frame halves: 0.71 where the look's own factor is near 0.6). Only the value: whether
# the camera is paler is read against CLEAR_BLUE_REF as before; read against the altitude's level that question fired
# on the reference's own samples (a 2018-2019 season: 0.77, eight decks read clear).
CLEAR_BLUE_AT_HORIZON = 0.312
CLEAR_BLUE_FALL = 0.00092  # NRBR per degree of the sun's altitude
CLEAR_BLUE_TOP = 70.0  # degrees
# A paler camera's pooled sky/cloud split falls with its clear sky's blue (the classes drawn toward grey by one
# factor). Where the frames' levels gave no scale (too few daylit frames with the sun in view, levels that do not
# split, or a clear class within CLEAR_BAND: 9 clear frames of a 50-frame half scatter that much), a split that the
# site pinned more than CLEAR_BAND under the model's threshold scales the day bars by their ratio, as the levels
# would: through saturation 0.7, 50-frame halves pinned 0.11 and 0.09 while their levels said 0.86 and no split, and
# 2018-2019 clear days whose bluest tenth sat at 0.15-0.17, under SURFACE_CLEAR, read as decks (5 octas).
# Few covers (session 19). narrowness.COVERED guards the blue side: a run of clear frames' palest sky (by the sun,
# the horizon) reads bluer than white. A high sun's clear sky holds nothing redder than white (a low sun's light is
# red, but few of a site's daylit frames are lit so), so a red cast is taken off without covers (RED_UNCOVERED): ARM
# TSI through "wb warm", 50-frame halves: one read -0.104 and took it off, the other -0.116 on 4 covers (one short)
# and took none, and the frames it judged read clear skies 0.5 octa high on average. No half of
# our untouched cameras reads a red cast (TSI and LenghuSky-8, 50 frames picked evenly, at random (seeds 1, 2) and
# as windows from 0, 0.25, 0.5, 0.75 of the half: greyest -0.024..+0.078, none redder than the reference's by
# CAST_BAND). A sample of one daylight period (narrowness.day_spread) still needs covers for it: one evening's
# frames are lit by its low sun (held-out TSI 2018-04-19, 5-frame halves, sun 3-12 degrees: -0.11..-0.14 read). Not
# enforced: the sun's height (fit has no site position), so evening frames of many days would still read their red.
# A blue cast the site's pixels show but too few frames confirm is taken off no frame by the site; each
# frame judged whose own cloud cover shows it (frame_cast's blue side, as without a calibration) has its own taken
# off (OWN_CAST, Calibration.frame_cast). Until session 19 a calibration switched frame_cast off altogether, so a cool
# camera calibrated on clear-heavy frames lost the rule that read its decks uncalibrated (TSI through "wb cool": one
# half read +0.105 and took it off, the other +0.102 on 3 covers and took none; the 8-octa frames it judged read
# 3.7 octas on average). The warm side of frame_cast stays off under a calibration: with it, TSI's "wb warm" read
# 0.48 not 0.42 (docs/design.md, "A camera's cast on few covers").
OWN_CAST = True
RED_UNCOVERED = True
# Frames darker than this (mean of max(R, G, B), 0..1; the model's DARK_MEAN) say nothing about the day sky:
# the lens, obstruction and colour fit leaves them out. Dark nights with stars still teach the night side.
DAY_FIT_MEAN = 0.08


class CalibrationError(CieloError):
    pass


@dataclass
class Calibration:
    height: int
    width: int
    mask: np.ndarray  # bool [H, W]: True where the sky is
    sky_threshold: float
    frames: int
    fitted_at: str
    source: str
    found: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    lens: dict[str, Any] | None = None  # the site's lens ellipse (lens.Lens.as_dict), None: per frame
    reference: Reference | None = None  # the site's clear-sky reference, None: the model's
    night: nights.NightSite | None = None  # the site's night side (learn_nights), None: the reference's
    cast: float = 0.0  # the site's greyest NRBR over the reference's (site_cast); 0: none taken off
    glow: float | None = None  # the site's glow bar for veiled days (veil.learn); None: no veil rule
    clear_scale: float = 1.0  # the site's clear sky's blue over the reference camera's (clear_scale); 1: the same
    glow_tone: bool = True  # the glow bar reads the camera's tone curve (veil.site_bar); False: for the veil alone
    frame_cast: bool = False  # a blue cast the site's frames showed but could not confirm: each frame's own (OWN_CAST)
    # clear_scale read from the site's day levels (clear_scale), not from its split alone: a paler camera (a dusty
    # dome's glare), whose night side is read paler too (night.PALE_RIM_SPAN, model.maps). The split's ratio alone
    # scales the reference's own 50-frame samples' day bars in 29 of 236 draws; the levels never (docs/design.md,
    # "A dusty dome's twilights")
    clear_paler: bool = False

    @property
    def ident(self) -> str:
        """Short content hash: readings record which calibration produced them."""
        ref = self.reference
        extra = json.dumps([self.lens, None if ref is None else ref.table, None if ref is None else ref.own_sky],
                           sort_keys=True)
        if self.night is not None:  # files without a night side keep their id
            extra += json.dumps(self.night.as_dict(), sort_keys=True)
        if self.cast:  # files without a cast keep their id
            extra += f"cast {self.cast:.4f}"
        if self.glow is not None:  # files without a glow bar keep their id
            extra += f"glow {self.glow:.4f}" + ("" if self.glow_tone else " veil only")
        if self.clear_scale != 1.0:  # files without a scale keep their id
            extra += f"clear {self.clear_scale:.4f}"
        if self.frame_cast:  # files without it keep their id
            extra += " frame cast"
        if self.clear_paler:  # files without it keep their id
            extra += " paler"
        h = hashlib.sha256(np.packbits(self.mask).tobytes() + f"{self.sky_threshold:.4f}".encode()
                           + extra.encode())
        return h.hexdigest()[:10]

    def label(self) -> str:
        where = str(self.path) if self.path else "(unsaved)"
        return f"{where} ({self.ident}, {self.frames} frames, fitted {self.fitted_at[:10]})"

    def mask_at(self, height: int, width: int) -> np.ndarray:
        """The mask at another model's input size (nearest neighbour)."""
        if (height, width) == (self.height, self.width):
            return self.mask
        rows = (np.arange(height) * self.height // height).clip(0, self.height - 1)
        cols = (np.arange(width) * self.width // width).clip(0, self.width - 1)
        return self.mask[rows][:, cols]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "fitted_at": self.fitted_at,
            "source": self.source,
            "frames": self.frames,
            "height": self.height,
            "width": self.width,
            "sky_threshold": round(self.sky_threshold, 4),
            "found": self.found,
            "lens": self.lens,
            "clear_sky_reference": None if self.reference is None else [list(r) for r in self.reference.table or []],
            "own_sky_bands": None if self.reference is None or self.reference.own_sky is None
            else [list(r) for r in self.reference.own_sky],
            "night": None if self.night is None else self.night.as_dict(),
            "cast": round(self.cast, 4),
            "veil_glow": None if self.glow is None else round(self.glow, 4),
            "veil_glow_tone": self.glow_tone,
            "clear_sky_scale": round(self.clear_scale, 4),
            "frame_cast": self.frame_cast,
            "clear_sky_paler": self.clear_paler,
            "mask_packbits_b64": base64.b64encode(np.packbits(self.mask.ravel())).decode("ascii"),
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
        self.path = path

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT:
                raise ValueError(f"format {raw.get('format')!r}, expected {FORMAT!r}")
            h, w = int(raw["height"]), int(raw["width"])
            bits = np.frombuffer(base64.b64decode(raw["mask_packbits_b64"]), dtype=np.uint8)
            mask = np.unpackbits(bits)[: h * w].reshape(h, w).astype(bool)
            table = raw.get("clear_sky_reference")
            own = raw.get("own_sky_bands")  # absent in files of cielo 3.1: the surface applies everywhere
            # absent in files of older cielos: the reference camera's day bars, as they had
            clear = float(raw.get("clear_sky_scale") or 1.0)
            ref = Reference(zenith=float(raw["sky_threshold"]),
                            table=tuple(tuple(float(v) for v in row) for row in table),
                            own_sky=tuple(tuple(bool(v) for v in row) for row in own) if own else None
                            ) if table else None
            geom = raw.get("lens")
            if geom is not None:
                geom = {"found": bool(geom["found"]), **{k: float(geom[k]) for k in ("cx", "cy", "rx", "ry")}}
            # absent in files of cielo before skyref-3.5: the reference's night constants
            site_night = nights.NightSite.from_dict(raw.get("night"))
            # absent in files of older cielos: no cast taken off, as they did
            cast = float(raw.get("cast") or 0.0)
            # absent in files of older cielos: no veil rule, as they had none
            glow = None if raw.get("veil_glow") is None else float(raw["veil_glow"])
            # absent in files of cielo before session 16: every bar they stored read the tone curve
            glow_tone = bool(raw.get("veil_glow_tone", True))
            # absent in files of cielo before session 19: no frame's own cast under a calibration, as they read
            frame_cast_kept = bool(raw.get("frame_cast", False))
            # absent in files of cielo before session 22: the night side read at the reference's, as they did
            paler = bool(raw.get("clear_sky_paler", False))
            return cls(h, w, mask, float(raw["sky_threshold"]), int(raw["frames"]), str(raw["fitted_at"]),
                       str(raw.get("source", "")), dict(raw.get("found", {})), path, geom, ref, site_night, cast,
                       glow, clear, glow_tone, frame_cast_kept, paler)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CalibrationError(f"{path}: not a usable calibration file: {exc}") from None


def clear_blue_at(altitude: float) -> float:
    """The reference camera's clear-sky level (lens.surface_level) with the sun at this altitude (degrees)."""
    return CLEAR_BLUE_AT_HORIZON - CLEAR_BLUE_FALL * min(max(altitude, 0.0), CLEAR_BLUE_TOP)


def clear_scale(levels: list[float], altitudes: list[float] | None = None) -> tuple[float, str]:
    """The site's clear sky's blue over the reference camera's (CLEAR_*), from its daylit frames' surface levels
    (lens.surface_level), and a note: 1 where the clear ones are no paler than CLEAR_BAND under the reference's, or
    the levels do not split into decks and clear skies and even their bluest tenth (CLEAR_TOP_Q) is not. `altitudes`
    (the sun's, degrees, one per level): a paler camera's scale is read against the reference's clear sky at each
    level's sun (clear_blue_at)."""
    raw = np.asarray(levels, dtype=np.float64)
    at = (np.array([clear_blue_at(a) for a in altitudes]) if altitudes is not None and len(altitudes) == raw.size
          else None)
    order = np.argsort(raw)
    v = raw[order]
    if v.size < 2 * CLEAR_MIN_FRAMES:
        return 1.0, f"{v.size} daylit frames with the sun in view (needs {2 * CLEAR_MIN_FRAMES}): the reference's bars"
    # Otsu's split of the levels (a few hundred at most: every cut tried)
    k = np.arange(1, v.size)
    c = np.cumsum(v)
    lo_mean, hi_mean = c[:-1] / k, (c[-1] - c[:-1]) / (v.size - k)
    cut = int(k[np.argmax(k * (v.size - k) * (hi_mean - lo_mean) ** 2)])
    low, high = v[:cut], v[cut:]
    if min(low.size, high.size) < CLEAR_MIN_FRAMES or float(high.mean() - low.mean()) < CLEAR_SPLIT * float(
            high.mean()):
        # Levels that do not split: their median says nothing of the camera (50 frames of a year hold 18 daylit
        # ones, decks and clear skies that do not split: docs/design.md, "A dusty dome", CLEAR_ALONE); their bluest
        # tenth does (CLEAR_TOP_Q)
        ratio = float(np.percentile(v, CLEAR_TOP_Q)) / CLEAR_BLUE_REF
        note = (f"{v.size} daylit frames' skies do not split into decks and clear skies, their bluest tenth "
                f"{ratio:.2f} of the reference camera's clear sky")
        if ratio >= 1.0 - CLEAR_BAND:
            return 1.0, note + ": the reference's bars"
        own = None if at is None else float(np.percentile(raw / at, CLEAR_TOP_Q))
    else:
        level = float(np.median(high))
        ratio = level / CLEAR_BLUE_REF
        note = (f"{high.size} of {v.size} daylit frames' skies clear, their bluest tenth NRBR {level:.3f} "
                f"({ratio:.2f} of the reference camera's {CLEAR_BLUE_REF})")
        if ratio >= 1.0 - CLEAR_BAND:
            return 1.0, note + ": the reference's day bars"
        own = None if at is None else float(np.median((raw / at)[order][cut:]))
    if own is not None and own < 1.0 - CLEAR_BAND:  # how much paler: at each level's sun (CLEAR_BLUE_AT_HORIZON)
        note += f"; {own:.2f} of the reference's at their sun's altitude"
        ratio = own
    scale = max(ratio, CLEAR_FLOOR)
    return scale, note + f": a paler camera's, the day bars scaled by {scale:.2f}"


def site_cast(values: np.ndarray) -> tuple[float, str]:
    """The camera's cast from the NRBR of its unsaturated day pixels: how far its greyest (CAST_Q-th percentile)
    sit from the reference camera's (0 within CAST_BAND, beyond CAST_MAX, without cloud, or with fewer than
    SPLIT_PIXELS values), and a note."""
    if values.size < SPLIT_PIXELS:
        return 0.0, f"{values.size} day pixels (needs {SPLIT_PIXELS}): no cast read"
    if site_split(values) is None:
        return 0.0, "the day pixels do not split into cloud and clear sky: no white to read a cast from"
    grey = float(np.percentile(values, CAST_Q))
    off = grey - NEUTRAL_NRBR
    if abs(off) > CAST_MAX:
        return 0.0, (f"the greyest day pixels at NRBR {grey:.3f}, {off:+.3f} off the reference camera's: no white "
                     f"among them (over {CAST_MAX}), no cast read")
    if abs(off) <= CAST_BAND:
        return 0.0, (f"the greyest day pixels at NRBR {grey:.3f}, within {CAST_BAND} of the reference camera's "
                     f"{NEUTRAL_NRBR}: no cast")
    return off, (f"the greyest day pixels at NRBR {grey:.3f}, {off:+.3f} off the reference camera's "
                 f"{NEUTRAL_NRBR}: a {'blue' if off > 0 else 'red'} cast, taken off every frame")


def uncast(px: np.ndarray, cast: float, clipped_white: bool = False) -> np.ndarray:
    """uint8 [3, H, W]: the pixels with the site's cast taken off: blue and red scaled in opposite ways (a white
    balance) so that a pixel at the site's neutral NRBR (NEUTRAL_NRBR + cast) lands on the reference's. A red
    cast's clipped pixels go grey at their green (the disc of a camera clipping at 217 is (239, 217, 196) through
    a warm balance): scaled, their channels no longer sit flat and equal, and lens.find_sun and sunstate no longer
    take the disc for the sun (clear LenghuSky-8 2018-2019 frames through "wb warm" read "covered": 5 -> 11 of 65,
    grey at green: 7). Only with `clipped_white` (a frame's own red cast, frame_cast): a site's cast keeps its
    clipped pixels scaled (grey there cost calibrated "wb warm" LenghuSky-8 2018-2019 416 -> 414 of 443, 2020 114 ->
    113 of 125), and the blue side (frame_cast's cool rule) keeps every real frame's answer as it was."""
    if not cast:
        return px
    site, ref = NEUTRAL_NRBR + cast, NEUTRAL_NRBR
    gain = float(np.sqrt((1 + ref) / (1 - ref) * (1 - site) / (1 + site)))  # B / R must move by gain^2
    out = px.astype(np.float32)
    out[0] /= np.float32(gain)
    out[2] *= np.float32(gain)
    if clipped_white and cast < 0:
        # a clipped pixel was white before the balance (a channel at full scale, or every channel at its own top at
        # once: a disc clipped below full scale and tinted after the clip, sunstate._tinted_sun): its green, which
        # no balance moves, on all three
        tops = px.reshape(3, -1).max(axis=1).astype(np.int16) - 2
        clipped = (px.max(axis=0) >= CAST_UNSATURATED) | ((px[0] >= tops[0]) & (px[1] >= tops[1]) &
                                                           (px[2] >= tops[2]))
        out[:, clipped] = px[1][clipped]
    return np.clip(out + np.float32(0.5), 0, 255).astype(np.uint8)


def cast_levels(px: np.ndarray, geom: lenses.Lens, stop: np.ndarray) -> tuple[float, float, float] | None:
    """The NRBR of a frame's lit, unsaturated octa-area pixels (less `stop`) that frame_cast reads: its
    FRAME_CAST_Q-th, FRAME_WARM_Q-th and FRAME_COVER_Q-th percentiles; None without a lens circle or too few
    pixels."""
    if not geom.found:
        return None
    sub = px[:, ::2, ::2]  # a colour statistic: every 4th pixel will do (~0.2 ms a frame)
    yy, xx = lenses.pixel_grid(geom.height, geom.width)
    rho2 = ((xx[::2, ::2] - geom.cx) / geom.rx) ** 2 + ((yy[::2, ::2] - geom.cy) / geom.ry) ** 2
    bright = np.maximum(np.maximum(sub[0], sub[1]), sub[2])
    area = (rho2 <= lenses.OCTA_RADIUS**2) & ~stop[::2, ::2]
    area &= (bright >= int(FRAME_CAST_LIT * 255)) & (bright < CAST_UNSATURATED)
    n = int(area.sum())
    if n < SPLIT_PIXELS // 8:
        return None
    values = lenses.nrbr(sub[:, area])  # only the pixels it reads: this runs on every frame
    at = (n * FRAME_CAST_Q // 100, n * FRAME_WARM_Q // 100, n * FRAME_COVER_Q // 100)
    grey, bulk, cover = (float(v) for v in np.partition(values, at)[list(at)])  # np.percentile: 3x slower
    return grey, bulk, cover


def frame_cast(px: np.ndarray, geom: lenses.Lens, stop: np.ndarray, sun_up: bool = False) -> float:
    """A frame's own cast (FRAME_CAST_*): its greyest lit pixels' NRBR over the reference's white where a cloud
    cover in it is bluer than any day frame of the reference cameras, or (`sun_up`: the sun FRAME_WARM_SUN degrees
    up at the frame's known time) where its greyest lit pixels are redder than a high sun's light (FRAME_WARM_*);
    else 0 (nothing told; within CAST_MAX). Whole-sky frames only: a crop (no lens circle) shows no
    zenith-to-horizon gradient, its clear sky can be even."""
    levels = cast_levels(px, geom, stop)
    if levels is None:
        return 0.0
    grey, bulk, cover = levels
    off = grey - NEUTRAL_NRBR
    if sun_up and grey < FRAME_WARM_RED and bulk < FRAME_WARM_BULK and off >= -CAST_MAX:
        return off
    if grey <= FRAME_CAST_BLUE or cover - grey >= FRAME_CAST_SPREAD or off > CAST_MAX:
        return 0.0
    return off


def uncast_frame(frame: Frame, cast: float, clipped_white: bool = False) -> Frame:
    """The frame with the site's cast taken off its pixels (its stars, lens and brightness as decoded)."""
    return frame if not cast else dataclasses.replace(frame, pixels=uncast(frame.pixels, cast, clipped_white))


def _planes(frames: list[Frame]) -> tuple[np.ndarray, np.ndarray]:
    """(NRBR, max(R, G, B) on 0..1) of every pixel of every frame, float32 [n, H, W]. The frames' float copy
    lives only in here (400 frames at the model's size: 90 MB, more than a Pi Zero 2 W should hold for long)."""
    px = np.stack([f.pixels for f in frames]).astype(np.float32) / 255.0  # [n, 3, H, W]
    r, b = px[:, 0], px[:, 2]
    return (b - r) / (b + r + 1e-3), px.max(axis=1)


def otsu_threshold(values: np.ndarray) -> tuple[float, float]:
    """Otsu's threshold of `values` on a fixed histogram, and the separability (between / total variance)."""
    hist, edges = np.histogram(np.clip(values, NRBR_LO, NRBR_HI - 1e-6), bins=BINS, range=(NRBR_LO, NRBR_HI))
    centres = (edges[:-1] + edges[1:]) / 2
    w = hist.astype(np.float64)
    w0, m0 = np.cumsum(w), np.cumsum(w * centres)
    total, mtotal = w0[-1], m0[-1]
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.nan_to_num(w0 * w1 * (m0 / w0 - (mtotal - m0) / w1) ** 2) / max(total, 1.0) ** 2
    k = int(between.argmax())
    var = float(((centres - mtotal / max(total, 1.0)) ** 2 * w).sum() / max(total, 1.0))
    return float(edges[k + 1]), float(between[k] / var) if var > 0 else 0.0


def valley(values: np.ndarray, split: float, lo_limit: float = NRBR_LO, hi_limit: float = NRBR_HI) -> float:
    """The least populated NRBR between the means of the values below and above `split` (a smoothed 50-bin
    histogram):
    where clear sky and cloud overlap least. Otsu's split sits nearer the wider mode (a blue camera's clear
    sky), which counts pale clear sky as cloud."""
    hist, edges = np.histogram(np.clip(values, NRBR_LO, NRBR_HI - 1e-6), bins=50, range=(NRBR_LO, NRBR_HI))
    smooth = np.convolve(hist.astype(np.float64), [1, 2, 3, 2, 1], mode="same")
    centres = (edges[:-1] + edges[1:]) / 2
    below, above = values[values < split], values[values >= split]
    if below.size == 0 or above.size == 0:
        return split
    lo, hi = np.searchsorted(centres, [max(float(below.mean()), lo_limit), min(float(above.mean()), hi_limit)])
    if hi - lo < 2:
        return split
    return float(centres[lo + int(smooth[lo : hi + 1].argmin())])


def site_split(values: np.ndarray, scale: float = 1.0) -> tuple[float, float] | None:
    """The sky/cloud split of pooled NRBR values: the least populated NRBR between the cloud's mean and Otsu's
    split (Otsu's split sits inside the wider mode, a blue camera's clear sky; where the histogram has no dip
    under it, as for a pale camera, the valley is Otsu's split itself), and the contrast between the two
    classes' means; None when the values do not split into cloud and a clear sky. `scale`: the site's clear sky's
    blue over the reference camera's (clear_scale): a paler camera draws its clear sky nearer its grey cloud by that
    factor, and the classes' means with it (MIN_CONTRAST scaled alike)."""
    if values.size < SPLIT_PIXELS:
        return None
    t, _ = otsu_threshold(values)
    below, above = values[values < t], values[values >= t]
    if below.size == 0 or above.size == 0:
        return None
    contrast = float(above.mean() - below.mean())
    split = valley(values, t, hi_limit=t)
    if contrast < MIN_CONTRAST * scale or not THRESHOLD_RANGE[0] <= split <= THRESHOLD_RANGE[1]:
        return None
    return split, contrast


def bluer_cap(split: float, contrast: float, default: float) -> float | None:
    """How far up a bluer camera's classes carry the threshold (`default` x their contrast over CONTRAST_REF's),
    or None where they say no bluer camera: classes not CLEAR_BAND farther apart than the reference camera's, or a
    split not CLEAR_BAND over `default`. Shared by a calibration (BLUER_SPLIT: a split over the cap is its sample's
    weather) and a frame judged without one (ownsplit.py: the threshold capped there)."""
    if contrast < CONTRAST_REF * (1.0 + CLEAR_BAND) or split <= default * (1.0 + CLEAR_BAND):
        return None
    return default * contrast / CONTRAST_REF


def halves(n: int) -> list[np.ndarray]:
    """SPLIT_HALVES halves of n frames' indices, drawn with a fixed seed (a calibration is repeatable)."""
    rng = np.random.default_rng(0)
    return [np.sort(rng.permutation(n)[: n // 2]) for _ in range(SPLIT_HALVES)]


def pinned(found: tuple[float, float] | None, nrbr: np.ndarray, where: np.ndarray, parts: list[np.ndarray],
           scale: float = 1.0) -> tuple[float, float] | None:
    """`found`, the site_split of the pixels `where` (per frame, [n, H, W]), where every half of the frames
    (`parts`) splits within SPLIT_WOBBLE of it too, else None: a valley that moves when half the frames are left
    out is theirs, not the camera's."""
    if found is None:
        return None
    for part in parts:
        half = site_split(nrbr[part][where[part]], scale)
        if half is None or abs(half[0] - found[0]) > SPLIT_WOBBLE:
            return None
    return found


def _site_split(nrbr: np.ndarray, valid: np.ndarray, rho: np.ndarray, sun_dist: np.ndarray, default: float,
                scale: float = 1.0, spread: str | None = None
                ) -> tuple[float, tuple[tuple[float, ...], ...] | None, tuple[tuple[bool, ...], ...] | None, str]:
    """The site's threshold (pooled over every valid pixel of its day frames), its table per band of rho and
    of distance to the sun (each band's own pooled split where it has one), whether each frame's own
    clear-sky surface may act (all bands or none), and a line saying what was found. The model's reference
    (table None) when the pooled pixels do not split. `scale`: the site's clear_scale (site_split)."""
    found = site_split(nrbr[valid], scale)
    if found is None:
        return default, None, None, (f"{int(valid.sum())} pooled pixels do not split into cloud and clear sky "
                                     f"(class means under {MIN_CONTRAST * scale:.3f} NRBR apart, or fewer than "
                                     f"{SPLIT_PIXELS} pixels): kept the model's reference {default:.3f}")
    contrast = found[1]
    used = np.flatnonzero(valid.reshape(len(valid), -1).any(axis=1))
    parts = [used[h] for h in halves(used.size)] if used.size < SPLIT_MANY else []
    pooled = pinned(found, nrbr, valid, parts, scale)
    # only a split the site would not keep (not pinned, or moved as a narrow sample's weather): a pinned one keeps
    # its bands as before
    dropped = pooled is None or (bool(parts) and abs(found[0] - default) > narrowness.SPLIT_MOVE)
    cap = bluer_cap(found[0], contrast, default)
    bluer = BLUER_SPLIT and dropped and spread is None and scale == 1.0 and cap is not None and found[0] <= cap
    if bluer:
        pooled = found
    # Each frame's own clear-sky surface lowers the threshold only to SURFACE_MARGIN under its clear sky: it
    # can act on clear sky only where that sits within SURFACE_MARGIN of the threshold. A site whose sky near
    # the sun (the bluest tenth of each frame there; the median frame) stays farther above gets nothing from
    # it but sunlit cloud turned clear (ARM TSI: 0.33 over a threshold of 0.17, surface off; LenghuSky-8:
    # 0.16 over 0.14, on). Against the threshold the site will use: an unpinned split of few frames (LenghuSky-8,
    # 50 re-encoded frames a half: 0.05) turned the surface off and 2020's clear days 3-8 octas.
    near = valid & (sun_dist >= lenses.SUN_GLARE) & (sun_dist < SURFACE_NEAR)
    levels = [float(np.percentile(nrbr[k][near[k]], 90)) for k in range(len(nrbr)) if near[k].sum() >= 30]
    level = float(np.median(levels)) if len(levels) >= MIN_FRAMES else None
    threshold = default if pooled is None else pooled[0]
    surface = level is not None and level < threshold + lenses.SURFACE_MARGIN
    site = pooled
    if surface:
        # the sun's side is the surface's, frame by frame: one threshold, learned where it does not reach
        # (a table by distance to the sun as well counts the same paleness twice: LenghuSky-8 dev day 1.14
        # with the table, 1.11 with one threshold over all pixels, 1.09 with it learned beyond the reach)
        far = valid & (sun_dist >= lenses.SURFACE_REACH)
        beyond = site_split(nrbr[far], scale)
        if beyond is not None:
            site = pinned(beyond, nrbr, far, parts, scale)
    moved = 0.0 if site is None else site[0] - default
    if spread is None and parts and abs(moved) > narrowness.SPLIT_MOVE and not bluer:
        spread = (f"{used.size} day frames (under {SPLIT_MANY}) put it {moved:+.3f} off the model's "
                  f"(over {narrowness.SPLIT_MOVE}): their weather's")
    if spread is not None:  # a narrow sample (narrowness): its split is its own, the surface decision kept
        site = None
        # ... and taken against the model's threshold now used, as where the split is not pinned (the surface, off
        # against a pale camera's own low split, stayed off under the model's: ARM TSI through the dusty dome, a
        # 50-frame half splitting at 0.07, the sky near the sun at 0.18: MAE 0.81 against 0.60)
        surface = level is not None and level < default + lenses.SURFACE_MARGIN
    # not pinned: the model's threshold
    threshold = default if site is None else site[0]
    rows = []
    if surface:
        rows = [tuple(round(threshold, 4) for _ in range(TABLE_SUN)) for _ in range(TABLE_RHO)]
    for i in range(0 if surface else TABLE_RHO):
        lo, hi = lenses.OCTA_RADIUS * i / TABLE_RHO, lenses.OCTA_RADIUS * (i + 1) / TABLE_RHO
        in_rho = valid & ((rho >= lo) & (rho < hi))[None]
        row = []
        for j in range(TABLE_SUN):
            glo = lenses.SUN_BAND * j
            ghi = lenses.SUN_BAND * (j + 1) if j < TABLE_SUN - 1 else 99.0
            in_band = in_rho & (sun_dist >= glo) & (sun_dist < ghi)
            # a bluer camera's split is taken from its contrast, not its frames' agreement: one threshold for all
            band = (None if site is None or bluer
                    else pinned(site_split(nrbr[in_band], scale), nrbr, in_band, parts, scale))
            row.append(round(threshold if band is None else band[0], 4))
        rows.append(tuple(row))
    own = tuple(tuple(surface for _ in range(TABLE_SUN)) for _ in range(TABLE_RHO))
    note = (f"NRBR {found[0]:.3f}, where the pooled pixels of the day frames split into cloud and clear sky "
            f"(class means {contrast:.2f} apart)")
    if level is None:
        note += (f", kept as the site's; the sun in view in {len(levels)} frames: no per-frame clear-sky "
                 f"surface")
    elif not surface:
        note += (f", kept as the site's; the sky near the sun reaches NRBR {level:.3f}, more than "
                 f"{lenses.SURFACE_MARGIN} over it: no per-frame clear-sky surface")
    else:
        note += (f"; the sky near the sun reaches NRBR {level:.3f}, within {lenses.SURFACE_MARGIN} of it: "
                 f"each frame's own clear-sky surface is on")
        if site is not None:
            note += (f", and the site's threshold is {threshold:.3f}, learned beyond {lenses.SURFACE_REACH} lens "
                     f"radii of the sun where the surface does not reach")
    if spread is not None:
        note += f"; but {spread}: the model's threshold {default:.3f} instead"
    elif bluer and site is not None:
        note += (f"; not pinned by its frames, but its classes are {contrast / CONTRAST_REF:.2f} times the reference "
                 f"camera's apart (a bluer camera): kept as the site's")
    elif site is None:
        note += (f"; not pinned (halves of the {used.size} frames split over {SPLIT_WOBBLE} off it): the model's "
                 f"threshold {default:.3f} instead")
    return threshold, tuple(rows), own, note


def fit(frames: list[Frame], source: str, default_threshold: float,
        daylit: list[bool | None] | None = None, times: list[datetime | None] | None = None,
        altitudes: list[float | None] | None = None) -> Calibration:
    """Fit the site from unlabelled frames (model input size): the lens ellipse (the median of the frames'
    own fits), fixed obstructions, and the clear-sky reference (NRBR threshold per band of distance from the
    lens centre and of distance to the sun). Frames darker than DAY_FIT_MEAN are left out here
    (learn_nights uses them). `times` (one per frame, where known): a threshold and a cast only from a sample that
    pins them (narrow). `altitudes` (the sun's at each frame's time, degrees, where known): how much paler a paler
    camera's clear sky is, read against the reference's at the sun's height (clear_scale)."""
    keep = [i for i, f in enumerate(frames) if f.brightness >= DAY_FIT_MEAN]
    # the sample's spread, on every frame it was given (a day's frames darker than DAY_FIT_MEAN still date it)
    spread = narrowness.day_spread(times, daylit if daylit is not None and len(daylit) == len(frames) else None)
    if daylit is not None:  # one per frame, in the frames' order
        daylit = [daylit[i] for i in keep] if len(daylit) == len(frames) else None
    if altitudes is not None:
        altitudes = [altitudes[i] for i in keep] if len(altitudes) == len(frames) else None
    frames = [frames[i] for i in keep]
    if len(frames) < MIN_FRAMES:
        raise CalibrationError(f"{len(frames)} usable daytime frames; calibration needs at least {MIN_FRAMES}")
    nrbr, brightest = _planes(frames)
    n, h, w = nrbr.shape

    # The lens: the median of the ellipses the frames show (a frame that sees no surround votes all-sky).
    fits = [lenses.find_lens(f.pixels, f.stop, tinted_retry=False) for f in frames]
    found = [g for g in fits if g.found]
    if len(found) >= max(3, len(fits) // 2):
        med = np.median(np.array([[g.cx, g.cy, g.rx, g.ry] for g in found]), axis=0)
        geom = lenses.Lens(float(med[0]), float(med[1]), float(med[2]), float(med[3]), w, h, True)
        lens_note = (f"ellipse centre ({geom.cx / w:.3f}, {geom.cy / h:.3f}) of the frame, semi-axes "
                     f"{geom.rx / w:.3f} x {geom.ry / h:.3f} (median of {len(found)} frames' fits)")
    else:
        geom = lenses.all_sky(w, h)
        lens_note = f"no black surround in {len(fits) - len(found)} of {len(fits)} frames: the whole frame is sky"
    # The plain fits above skip find_lens's faint-rim retry; the frames' own fits (decode) keep it. Where those
    # find a lens in most frames the plain ones missed, the camera has a rim its plain fits cannot pin (a dusty
    # dome's glare lifts it, research/camera_shift.py): the site's lens is the median of the frames' own fits where
    # they agree on it (OWN_LENS_AGREE), and the site is learned on it as any camera's; where they do not, no site
    # lens is kept, each frame is read on its own fit, and nothing that needs the lens is learned (PER_FRAME_LENS).
    owns = [f.lens.scaled(w, h) for f in frames if f.lens is not None and f.lens.found]
    own = len(owns)
    most = max(3, n // 2)
    per_frame = not geom.found and own >= most
    if per_frame:
        ell = np.array([[g.cx, g.cy, g.rx, g.ry] for g in owns])
        med = np.median(ell, axis=0)
        off = np.abs(ell - med) / np.array([med[2], med[3], med[2], med[3]])
        agree = int((off.max(axis=1) <= OWN_LENS_AGREE).sum())
        if agree >= most:
            geom = lenses.Lens(float(med[0]), float(med[1]), float(med[2]), float(med[3]), w, h, True)
            lens_note += (f"; but {own} of {n} frames' own fits find a lens, {agree} of them within "
                          f"{OWN_LENS_AGREE:.0%} of their median: ellipse centre ({geom.cx / w:.3f}, "
                          f"{geom.cy / h:.3f}) of the frame, semi-axes {geom.rx / w:.3f} x {geom.ry / h:.3f}")
            per_frame = False
        else:
            lens_note += (f"; but {own} of {n} frames' own fits find a lens, only {agree} within "
                          f"{OWN_LENS_AGREE:.0%} of their median: {PER_FRAME_LENS}")
    rho = geom.rho()
    lens = rho <= 1.0

    # Obstructions: inside the lens, pixels whose colour and brightness stay put while the sky changes,
    # and pixels that are dark or green (ground, masts, trees) in most frames.
    still = np.zeros_like(lens)
    obstruction_note = f"not looked for (fewer than {MIN_FRAMES_FOR_OBSTRUCTIONS} frames)"
    if n >= MIN_FRAMES_FOR_OBSTRUCTIONS:
        still = lens & (nrbr.std(axis=0) < STILL_NRBR_STD) & (brightest.std(axis=0) < STILL_BRIGHT_STD)
        ground = np.mean([lenses.not_sky(f.pixels) for f in frames], axis=0) > 0.6
        still |= lens & ground
        share = float(still.sum() / max(lens.sum(), 1))
        if share > MAX_OBSTRUCTED:
            obstruction_note = f"{share:.0%} of the lens never changed: frames too alike, not masked"
            still[:] = False
        else:
            obstruction_note = f"{share:.1%} of the lens masked as fixed obstructions (masts, walls, ground)"
    mask = lens & ~still
    if mask.sum() < 0.05 * h * w:
        raise CalibrationError("no sky area found: the frames are dark or identical")

    # The cast, from frames known to be daylit only (a contrast-stretched night's yellow is no white balance);
    # taken off every frame before the site's sky is learned, as the model takes it off every frame it judges.
    cast, cast_note = 0.0, "not read (frame times unknown)"
    own_cast = False
    if per_frame:
        cast_note = "not read: the lens is not pinned (the whole frame's greyest pixels are its surround's)"
    elif daylit is not None and sum(d is True for d in daylit) >= MIN_FRAMES:
        area = mask & (rho <= lenses.OCTA_RADIUS)
        greys = [nrbr[i][area & ~frames[i].not_sky() & (brightest[i] < CAST_UNSATURATED / 255)]
                 for i in range(n) if daylit[i] is True]
        cast, cast_note = site_cast(np.concatenate(greys))
        # a red cast needs no covers only from daylit frames of more than one daylight period (the spread a site
        # threshold needs): one evening's frames are lit red by its low sun (held-out TSI 2018-04-19)
        red_alone = RED_UNCOVERED and spread is None
        if cast and (cast > 0 or not red_alone) and (
                cover := narrowness.covered(greys, FRAME_CAST_SPREAD)) < narrowness.COVERED:
            own_cast = cast > 0 and OWN_CAST
            cast, cast_note = 0.0, (f"{cast_note}; but {cover} daylit frames show a cloud cover (needs "
                                    f"{narrowness.COVERED}): their greyest pixels are a clear sky's palest, none "
                                    f"taken off" + ("; each frame's own cloud cover takes its own blue cast off "
                                                    "(frame_cast), as without a calibration" if own_cast else ""))
        if cast:
            frames = [uncast_frame(f, cast) for f in frames]
            del nrbr
            nrbr = _planes(frames)[0]

    # The site's clear-sky reference: the pooled NRBR of every valid pixel of every frame splits into
    # cloud and clear sky (Otsu); the clear sky's own level per band of rho and of distance to the sun then
    # moves the threshold where this camera's clear sky is paler (horizon, around the sun).
    ref0 = Reference(zenith=default_threshold)
    per = [lenses.maps(f.pixels, geom, ref0, mask, own_sky=False) for f in frames]
    valid = np.stack([m.valid > 0 for m in per])
    judged = valid.reshape(n, -1).mean(axis=1) >= MIN_JUDGED
    if judged.sum() < max(MIN_FRAMES, n // 2):
        # the fitted lens and mask would leave (almost) nothing to judge: a calibration must never make the
        # camera unusable, so none is written and the camera keeps its per-frame lens
        raise CalibrationError(f"the fitted lens and mask leave under {MIN_JUDGED:.0%} of the frame to judge "
                               f"in {n - int(judged.sum())} of {n} frames (blown out, or not a sky camera): "
                               f"no calibration written")
    sun_dist = np.full((n, h, w), 9.0, dtype=np.float32)
    for i, m in enumerate(per):
        if m.sun is not None:
            sun_dist[i] = lenses.sun_distance(geom, m.sun)
    # frames with a yellow cast (median NRBR under -0.03: a contrast-stretched night, sodium light) say
    # nothing about the daytime sky's colour
    daylike = np.array([float(np.median(nrbr[i][valid[i]])) >= NIGHT_CAST if valid[i].any() else False
                        for i in range(n)])
    if daylike.sum() >= MIN_FRAMES:
        valid &= daylike[:, None, None]
    if daylit is not None and sum(d is True for d in daylit) >= MIN_FRAMES:
        # times known: only frames with the sun up teach the daytime threshold (an auto-exposed camera's
        # nights and twilights can look as blue as its days)
        valid &= np.array([d is not False for d in daylit])[:, None, None]
    pooled = nrbr[valid]
    table = None
    reference = None
    scale, scale_note = 1.0, "no lens circle: the reference's day bars"
    paler = False
    if not geom.found:
        threshold = default_threshold
        threshold_note = ("the lens not pinned: the model's per-frame rule, no site reference" if per_frame else
                          "an all-sky camera (no lens circle): the model's per-frame rule, no site reference")
    else:
        # frames known to be daylit where the times are known, else every day-like frame: each with the sun in view
        read = [(lenses.surface_level(nrbr[i], valid[i], rho, sun_dist[i]), None if altitudes is None
                 else altitudes[i]) for i in range(n) if per[i].sun is not None and valid[i].any()]
        read = [(v, a) for v, a in read if v is not None]
        known = [float(a) for _, a in read if a is not None]
        scale, scale_note = clear_scale([v for v, _ in read], known if len(known) == len(read) else None)
        paler = scale < 1.0  # the levels said it (not the split's ratio below)
        # a paler camera's classes lie nearer by its scale (a dusty dome's veiling glare: site_split), and the
        # model's threshold, where the site's split is not pinned, sits between them as the reference's did
        threshold, table, own, threshold_note = _site_split(nrbr, valid, rho, sun_dist, default_threshold * scale,
                                                            scale, spread)
        if table is not None:
            reference = Reference(zenith=threshold, table=table, own_sky=own)
            if scale == 1.0 and threshold < default_threshold * (1.0 - CLEAR_BAND):
                # the site's pinned split says what its day levels could not (the note under CLEAR_MIN_FRAMES)
                scale = max(threshold / default_threshold, CLEAR_FLOOR)
                scale_note += (f"; but the site's split {threshold:.3f} sits under the model's {default_threshold:.3f}"
                               f" by over {CLEAR_BAND:.0%}: the day bars scaled by {scale:.2f}")
        elif scale != 1.0:
            scale, scale_note = 1.0, scale_note + " (not applied: the model's reference, no site threshold)"
        if reference is not None and lenses.whole_sky_reach(dataclasses.replace(reference, clear_scale=scale)):
            # the judge reads it from the scale (lens.whole_sky_reach): said here, where the scale is learned
            scale_note += "; each frame's own clear-sky surface reaches the whole sky (a paler camera's glare)"
    found_info = {
        "lens": lens_note,
        "lens_share": round(float(lens.mean()), 4),
        "sky_share": round(float(mask.mean()), 4),
        "obstructions": obstruction_note,
        "cast": cast_note,
        "threshold": threshold_note,
        "pooled_clear_share": round(float((pooled >= threshold).mean()), 3) if pooled.size else 0.0,
        "clear_sky_table": None if table is None else [list(r) for r in table],
        "clear_sky_blue": scale_note,
    }
    return Calibration(h, w, mask, threshold, n, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), source,
                       found_info, None, None if per_frame else geom.as_dict(), reference, cast=cast,
                       clear_scale=scale, frame_cast=own_cast, clear_paler=paler and scale < 1.0)


def frame_lens(site: lenses.Lens, frame: Frame, light: str | None) -> lenses.Lens:
    """The lens ellipse a frame is read with under a calibration: the site's, but a dark night's own (`light`: the
    frame's regime at its known time) where it found one.

    A frame's own fit ends where its light falls under LENS_REL of its sky's; on a moonless night the lens's
    vignetted rim does (LenghuSky-8 2018-2019 dark nights: own fits 0.94 of the site's radius, 5th percentile 0.84,
    whatever the frame's mean light: the camera stretches its nights; day, twilight and moonlit frames 1.00), and the
    night rules' star bars, the horizon's fall-off and the octa area were chosen on those own fits. On the site's
    ellipse the octa area reaches into that star-poor rim and clear dark nights read 3 octas (five 2018-2020 frames,
    calibrated on 50 frames or on all). A dark night whose own fit failed, and a frame of unknown time, keep the
    site's (what the site lens is for)."""
    if light == regime.DARK and frame.lens is not None and frame.lens.found:
        return frame.lens
    return site


NIGHT_LENS_NOTE = "; dark nights are read on each frame's own fit where it finds one (frame_lens: a dark rim)"


def learn_nights(cal: Calibration, frames: list[Frame], times: list[datetime | None], latitude: float,
                 longitude: float) -> None:
    """The site's night side from its own frames whose time is known (night.site_bars, night.site_gate): the dark-night
    star bar per ring of the lens and the moonlit gate's centre. Sets `cal.night` (None when neither could be
    learned) and notes what was found."""
    geom = lenses.Lens.from_dict(cal.lens, cal.width, cal.height) if cal.lens is not None else None
    found = geom is not None and geom.found
    sky = cal.mask
    dark: list[list[float]] = []
    moonlit: list[tuple[float, float, float]] = []
    textures: list[float] = []
    rims: list[float] = []
    shifts: list[float] = []
    lit_moon: list[Frame] = []
    levels: list[float] = []
    for f, t in zip(frames, times, strict=True):
        if t is None or f.pixels.shape[1:] != (cal.height, cal.width):
            continue
        lit = regime.light(t, latitude, longitude)
        name = lit.regime
        every = None
        if found:  # every frame's rim against the reference's for its light (site_rim_all, under MIN_DARK starry)
            every = nights.rim_light(uncast_frame(f, cal.cast).pixels, geom, sky)
            if every is not None:
                shifts.append(every - nights.RIM_BANDS_REF[nights.rim_band(name, lit.sun_altitude)])
        if name == regime.DARK and found:  # every dark night's sky, starry or not: the camera's response (site_gain)
            level = nights.sky_level(f.pixels, geom, sky)
            if level is not None:
                levels.append(level)
        if name == regime.DARK and found and f.stars is not None:
            # on the ellipse the model reads the frame with (frame_lens): the bar is learned where it acts
            ring = nights.ring_density(f.stars.astype(np.float32), frame_lens(geom, f, name).rho(), sky)
            if ring is not None:
                dark.append(ring)
            if f.starry and every is not None:  # a clear dark night: its rim's light is the lens's (site_rim)
                rims.append(every)
        elif name == regime.MOONLIT and geom is not None:
            lit_moon.append(f)
    rim, rim_note = nights.site_rim(rims)
    if len(rims) < nights.MIN_DARK:  # too few starry nights to pin it: the median over frames of every light
        rim, rim_note = nights.site_rim_all(  # a paler camera's glare dims its rim less than a vignette
            shifts, nights.PALE_RIM_SPAN if cal.clear_paler else nights.RIM_SPAN)
    for f in lit_moon:  # after the rim: the gate reads its brightness unvignetted (night.unvignetted_top)
        seen = uncast_frame(f, cal.cast)  # as the model sees it
        x, _ = nights.features(seen, geom, tone_free=False, rim=rim)  # the camera's tone is what site_gate learns
        if x is not None:
            moonlit.append(x)
        tex = nights.texture(seen, geom)
        if tex is not None:
            textures.append(tex)
    bars, starry, bar_note = (nights.site_bars(dark) if found
                              else (None, None, "no lens circle: the reference's star bar"))
    mean, gate_note = nights.site_gate(moonlit)
    mean, unpinned = narrowness.gate_pinned(moonlit, mean)
    gate_note += unpinned
    texture, texture_note = nights.site_texture(textures)
    gain, gain_note = nights.site_gain(levels)
    cal.night = (None if bars is None and mean is None and texture is None and rim is None and gain is None
                 else nights.NightSite(bars, mean, starry, texture, rim, gain))
    cal.found["night"] = {"dark": bar_note, "moonlit": gate_note, "texture": texture_note, "rim": rim_note,
                          "gain": gain_note}


def describe(cal: Calibration) -> list[str]:
    f = cal.found
    table = f.get("clear_sky_table")
    rows = ("; ".join(" ".join(f"{v:.2f}" for v in row) for row in table)) if table else "the model's"
    return [
        f"frames used: {cal.frames} ({cal.source})",
        f"lens: {f.get('lens')}" + (NIGHT_LENS_NOTE if cal.lens and cal.lens.get("found") else ""),
        f"clear-sky reference (NRBR threshold per rho band, zenith first; per sun-distance band): {rows}",
        f"bands where each frame's own clear-sky surface may lower the threshold (the site's sky pales near "
        f"the sun): {_own_bands(cal)}",
        f"lens area: {f.get('lens_share', 0):.1%} of the frame; sky area used: {f.get('sky_share', 0):.1%}",
        f"obstructions: {f.get('obstructions')}",
        f"colour cast: {f.get('cast', 'not read')}",
        f"sky/cloud threshold (NRBR): {cal.sky_threshold:.3f}, {f.get('threshold')}",
        f"pooled pixels on the clear side: {f.get('pooled_clear_share', 0):.0%}",
        f"clear sky's blue: {f.get('clear_sky_blue', 'not measured (an older calibration): the reference day bars')}",
        f"dark nights: {f.get('night', {}).get('dark', 'not learned (no frame times)')}",
        f"moonlit nights: {f.get('night', {}).get('moonlit', 'not learned (no frame times)')}",
        f"moonlit cloud texture: {f.get('night', {}).get('texture', 'not learned')}",
        f"lens's rim light (twilight rise): {f.get('night', {}).get('rim', 'not learned')}",
        f"camera's response (dark-night sky): {f.get('night', {}).get('gain', 'not learned')}",
        f"veiled days: {f.get('veil', 'not learned (no frame times): no veil rule')}",
    ]


def _own_bands(cal: Calibration) -> str:
    own = None if cal.reference is None else cal.reference.own_sky
    if own is None:
        return "all (no per-band table)"
    return f"{sum(map(sum, own))} of {sum(map(len, own))}"


def load_site(path: Path) -> Calibration | None:
    """The site's calibration if `cielo calibrate` has written one at `path`, else None (model defaults)."""
    return Calibration.load(path) if path.is_file() else None
