#!/usr/bin/env python3
"""How the classifier holds up on cameras it never saw: the development frames through realistic camera changes.

Independent checks score cielo on cameras whose white balance, tone curve, saturation, JPEG quality, resolution
and vignetting differ from our two development cameras. Each transform below is applied to the decoded frame at
its own size, the frame re-encoded as a JPEG (quality 95, or the transform's own) and judged the daemon's way
(OctaModel.decode, OctaModel.judge). Per transform and part (by date, never random: fit = TSI 2017-05-24 and
LenghuSky-8 2018-2019, check = TSI 2018-04-18 and LenghuSky-8 2020):

- ARM TSI, blind (no time, as the independent checks run): MAE and the share within one octa;
- LenghuSky-8, time known: the share of clear (<= 2 octas) and overcast (>= 6) frames read in their class,
  all light and by light (day; night = twilight, moonlit and dark), and the nights judged blind (no time: no
  moonlit gate or horizon rule; colour and the dark-night star rule).

    python research/camera_shift.py --tsi DIR --lenghu DIR [--part fit|check|both] [--only NAME,NAME] [--moved]
    python research/camera_shift.py --tsi DIR --lenghu DIR --calibrated [--only NAME,NAME]

Figures are printed against `none` (the same re-encode, no change) and `original` (the camera's own bytes, as
bench/classify_regimes.py judges them). A research tool: nothing imports it.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import skydata

# A consumer camera's auto white balance misses daylight by some 1000 K either way: about a tenth more red and a
# tenth less blue (warm), or the reverse (cool); R/B moves by about a fifth. A tinted dome does the same.
WB_SHIFT = 0.10
REENCODE_QUALITY = 95
VIGNETTE_RIM = 0.30  # light lost at the lens circle's rim, falling off as rho^2 (a cheap lens)
NOISE_SIGMA = 4.0  # levels of 255: a small sensor at night gain, before its JPEG
# A dusty or aged dome: veiling glare. The dust scatters a share of all light reaching the lens forward into broad
# wings; the sun, which clips at 255 far under its real brightness, dominates it (a wide white aureole), the rest of
# the sky lifts every dark, blue pixel toward grey. DUST_GLARE: the share scattered; DUST_SUN: the energy a clipped
# pixel is given over its 255; the PSF falls as 1 / (theta^2 + DUST_CORE^2) (degrees from the source) out to
# DUST_REACH, convolved at DUST_STEP of the frame's size (cheap; the wings are smooth). DUST_SATURATION: the dome's
# own film greys what it passes. Chosen by eye on LenghuSky-8 2018-2019 clear days against the look the 2021 clear
# days were described with (pale grey sky, a bright white aureole tens of degrees wide).
DUST_GLARE = 0.35
DUST_SUN = 20.0
DUST_CORE = 3.0
DUST_REACH = 70.0
DUST_STEP = 8
DUST_SATURATION = 0.6
# ARM TSI's frame holds, outside its mirror, the instrument's white housing, clipped in sunshine: "dusty dome" gives
# it the sun's 20 x too, and its glare draws a white crescent over the mirror's rim that reads cloud (TSI 2017-05-24
# clear frames 1 octa, blind MAE 0.32 -> 0.82). A white housing is as bright as a lit cloud, not the sun: "dusty
# dome (sun in lens)" gives the sun's energy only to the clipped pixels inside the lens circle (the housing's own
# light still scatters). LenghuSky-8's frames are black outside the circle: the two looks are one there.

Transform = Callable[[Image.Image, tuple[float, float, float]], Image.Image]


def _array(im: Image.Image) -> np.ndarray:
    return np.asarray(im, dtype=np.float32)


def _image(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8), "RGB")


def white_balance(red: float, blue: float) -> Transform:
    def f(im: Image.Image, _circle: tuple[float, float, float]) -> Image.Image:
        return _image(_array(im) * np.array([red, 1.0, blue], dtype=np.float32))
    return f


def gamma(g: float) -> Transform:
    """Output = input^g on 0..1: g < 1 lifts the shadows (a flatter curve), g > 1 deepens them."""
    def f(im: Image.Image, _circle: tuple[float, float, float]) -> Image.Image:
        return _image(255.0 * (_array(im) / 255.0) ** g)
    return f


def exposure(k: float) -> Transform:
    """Every level times k (a longer or shorter exposure, or more or less gain), clipped at 255."""
    def f(im: Image.Image, _circle: tuple[float, float, float]) -> Image.Image:
        return _image(_array(im) * np.float32(k))
    return f


def saturation(k: float) -> Transform:
    def f(im: Image.Image, _circle: tuple[float, float, float]) -> Image.Image:
        return ImageEnhance.Color(im).enhance(k)
    return f


def stretch(im: Image.Image, _circle: tuple[float, float, float]) -> Image.Image:
    """Auto levels: the frame's 0.5th..99.5th percentile of all channels stretched to 0..255 (one curve for all
    three, so hue is kept; a camera's 'auto contrast')."""
    a = _array(im)
    lo, hi = np.percentile(a, (0.5, 99.5))
    return _image((a - lo) * (255.0 / max(hi - lo, 1.0)))


def scale(k: float) -> Transform:
    def f(im: Image.Image, _circle: tuple[float, float, float]) -> Image.Image:
        w, h = im.size
        return im.resize((max(1, round(w * k)), max(1, round(h * k))), Image.Resampling.BICUBIC)
    return f


def vignette(im: Image.Image, circle: tuple[float, float, float]) -> Image.Image:
    """Light falling off to 1 - VIGNETTE_RIM at the lens circle's rim (rho^2), constant beyond it."""
    a = _array(im)
    h, w = a.shape[:2]
    cx, cy, r = circle[0] * w, circle[1] * h, circle[2] * w
    yy, xx = np.mgrid[0:h, 0:w]
    rho2 = np.minimum(((xx - cx) ** 2 + (yy - cy) ** 2) / (r * r), 1.0)
    return _image(a * (1.0 - VIGNETTE_RIM * rho2)[..., None])


def noise(im: Image.Image, _circle: tuple[float, float, float]) -> Image.Image:
    rng = np.random.default_rng(0)
    a = _array(im)
    return _image(a + rng.normal(0.0, NOISE_SIGMA, a.shape).astype(np.float32))


def dusty_dome(glare: float = DUST_GLARE, sun_energy: float = DUST_SUN, sun_in_lens: bool = False) -> Transform:
    """The frame plus `glare` x its light (clipped pixels given `sun_energy` x) convolved with a heavy-winged PSF
    over the lens circle, then desaturated (see DUST_GLARE). `sun_in_lens`: only the clipped pixels inside the lens
    circle are given the sun's energy (the note under DUST_SATURATION)."""
    def f(im: Image.Image, circle: tuple[float, float, float]) -> Image.Image:
        a = _array(im)
        h, w = a.shape[:2]
        cx, cy, r = circle[0] * w, circle[1] * h, circle[2] * w
        energy = a.copy()
        clipped = a.max(axis=2) >= 250
        if sun_in_lens:
            yy, xx = np.mgrid[0:h, 0:w]
            clipped &= ((xx - cx) ** 2 + (yy - cy) ** 2) <= r * r
        energy[clipped] *= np.float32(sun_energy)
        sw, sh = max(1, w // DUST_STEP), max(1, h // DUST_STEP)
        small = np.stack([np.asarray(Image.fromarray(energy[..., c]).resize((sw, sh), Image.Resampling.BOX))
                          for c in range(3)], axis=-1)
        # the PSF on a grid twice the frame's (no wrap), degrees as the lens circle's 90 per radius
        deg = 90.0 / (r / DUST_STEP)
        yy, xx = np.mgrid[-sh:sh, -sw:sw]
        theta = np.hypot(xx, yy) * deg
        psf = np.where(theta <= DUST_REACH, 1.0 / (theta ** 2 + DUST_CORE ** 2), 0.0)
        psf = np.fft.ifftshift(psf / psf.sum())
        pad = np.zeros((2 * sh, 2 * sw, 3))
        pad[:sh, :sw] = small
        spread = np.fft.irfft2(np.fft.rfft2(pad, axes=(0, 1)) * np.fft.rfft2(psf)[..., None], s=(2 * sh, 2 * sw),
                               axes=(0, 1))[:sh, :sw]
        spread = np.stack([np.asarray(Image.fromarray(spread[..., c].astype(np.float32)).resize(
            (w, h), Image.Resampling.BILINEAR)) for c in range(3)], axis=-1)
        yy, xx = np.mgrid[0:h, 0:w]
        inside = (((xx - cx) ** 2 + (yy - cy) ** 2) <= r * r)[..., None]
        out = _image(np.where(inside, a + np.float32(glare) * spread, a))
        return ImageEnhance.Color(out).enhance(DUST_SATURATION)
    return f


def identity(im: Image.Image, _circle: tuple[float, float, float]) -> Image.Image:
    return im


# name: (transform, JPEG quality of the re-encode)
TRANSFORMS: dict[str, tuple[Transform, int]] = {
    "none": (identity, REENCODE_QUALITY),
    "original": (identity, 0),  # not re-encoded: the bench's figures
    "wb warm": (white_balance(1 + WB_SHIFT, 1 - WB_SHIFT), REENCODE_QUALITY),
    "wb cool": (white_balance(1 - WB_SHIFT, 1 + WB_SHIFT), REENCODE_QUALITY),
    "gamma 0.8": (gamma(0.8), REENCODE_QUALITY),
    "gamma 1.25": (gamma(1.25), REENCODE_QUALITY),
    "exposure x0.6": (exposure(0.6), REENCODE_QUALITY),
    "exposure x1.5": (exposure(1.5), REENCODE_QUALITY),
    "saturation 0.7": (saturation(0.7), REENCODE_QUALITY),
    "saturation 1.3": (saturation(1.3), REENCODE_QUALITY),
    "auto levels": (stretch, REENCODE_QUALITY),
    "jpeg q60": (identity, 60),
    "noise 4": (noise, 90),
    "scale 0.5": (scale(0.5), REENCODE_QUALITY),
    "scale 2": (scale(2.0), REENCODE_QUALITY),
    "vignette 30%": (vignette, REENCODE_QUALITY),
    "dusty dome": (dusty_dome(), REENCODE_QUALITY),
    "dusty dome (sun in lens)": (dusty_dome(sun_in_lens=True), REENCODE_QUALITY),
}

# lens circle per set as fractions of the frame: centre x / width, centre y / height, radius / width
# ARM TSI's frames are 480 wide and 640 high: its mirror's radius over the width (it was over the height, 640, until
# session 18: the dusty dome's glare and the vignette covered a circle of 174 px, three quarters of the mirror's 232,
# and the glare drew a step in brightness across the sky at that radius)
TSI_CIRCLE = (0.5, 0.5, skydata.TSI_MIRROR_RADIUS / 480)
LENGHU_CIRCLE = (skydata.LENGHU_LENS[0] / 512, skydata.LENGHU_LENS[1] / 512, skydata.LENGHU_LENS[2] / 512)


def part(name: str) -> str:
    if name[:4].isdigit() and name[4] == "-":  # LenghuSky: 2018-05-22-06-56-54
        return {"2018": "fit", "2019": "fit", "2020": "check"}.get(name[:4], "spent")
    return {"20170524": "fit", "20180418": "check"}.get(name[:8], "heldout")


def shifted(jpeg: bytes, t: Transform, quality: int, circle: tuple[float, float, float]) -> bytes:
    if quality == 0:  # the camera's own bytes
        return jpeg
    im = t(Image.open(io.BytesIO(jpeg)).convert("RGB"), circle)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def octas(model, samples: list[skydata.Sample], t: Transform, quality: int, circle: tuple[float, float, float],
          site: tuple[float, float], timed: bool, blind_too: bool = False) -> np.ndarray:
    """The octas read (-9: flagged); with `blind_too`, [timed, blind] from one decode."""
    frames = [model.decode(shifted(s.jpeg, t, quality, circle)) for s in samples]
    runs = [timed, False] if blind_too else [timed]
    out = [np.array([-9 if v.octas is None else v.octas for v in model.judge(
        frames, [s.extra["when"] if tm else None for s in samples], *site)]) for tm in runs]
    return np.stack(out) if blind_too else out[0]


def tsi_cell(t: np.ndarray, o: np.ndarray) -> str:
    err = np.where(o >= 0, np.abs(o - t), 8)  # a flagged frame counts as an error of 8, as the bench does
    return f"{err.mean():5.3f} {np.mean(err <= 1):6.1%}"


def right(t: np.ndarray, o: np.ndarray) -> tuple[int, int]:
    ok = np.where(t <= 2, (o >= 0) & (o <= 2), o >= 6)  # the bench's '<=2|>=6' column
    return int(ok.sum()), len(t)


def lenghu_cell(t: np.ndarray, o: np.ndarray, day: np.ndarray) -> str:
    cells = []
    for sel in (np.ones_like(day), day, ~day):
        k, n = right(t[sel], o[sel])
        cells.append(f"{k / max(n, 1):6.1%} {k:>3}/{n:<3}")
    return "  ".join(cells)


def calibrated(args: argparse.Namespace) -> None:
    """Per transform: the development frames judged after `cielo calibrate` learned the site from the transformed
    frames' other time blocks (TSI: hours; LenghuSky-8: days, every frame of 2018-2020 with its time), as
    bench/classify_regimes.py scores them: does a site calibration take a camera's change away?"""
    import dataclasses

    from bench import classify_regimes
    from cielo.sources.skycam import regime
    from cielo.sources.skycam.model import OctaModel

    names = list(TRANSFORMS) if not args.only else ["none", *[n for n in args.only.split(",") if n != "none"]]
    model = OctaModel()
    tsi = [s for s in skydata.load_tsi(args.tsi, step=10) if part(s.name) in ("fit", "check")]
    lenghu = [s for s in skydata.load_lenghu(args.lenghu, twilight=True) if part(s.name) in ("fit", "check")]
    print(f"model {model.version}; calibrated, time known: TSI dev (MAE, within 1), LenghuSky-8 clear (<= 2) and "
          "overcast (>= 6) read in their class (all, day, night), 2018-2019 and 2020")
    for name in names:
        t, q = TRANSFORMS[name]
        ts = [dataclasses.replace(s, jpeg=shifted(s.jpeg, t, q, TSI_CIRCLE)) for s in tsi]
        ls = [dataclasses.replace(s, jpeg=shifted(s.jpeg, t, q, LENGHU_CIRCLE)) for s in lenghu]
        tr = classify_regimes.evaluate(model, ts, skydata.TSI_SITE, "hour", None, args.cal_frames)["calibrated"]["all"]
        lr = classify_regimes.evaluate(model, ls, skydata.LENGHU_SITE, "group", "2020", args.cal_frames)["calibrated"]
        cells = []
        for year in ("< 2020", ">= 2020"):
            for lights in (regime.REGIMES, (regime.DAY,), regime.REGIMES[1:]):  # all, day, night
                rows = [lr[f"{li} {year}"] for li in lights if f"{li} {year}" in lr]
                k = sum(round(r["classes"] * r["n_classes"]) for r in rows if r["n_classes"])
                n = sum(r["n_classes"] for r in rows)
                cells.append(f"{k / max(n, 1):6.1%} {k:>3}/{n:<3}")
        print(f"{name:<15} TSI {tr['mae']:5.3f} {tr['within1']:6.1%}   LenghuSky <2020 {'  '.join(cells[:3])}   "
              f"2020 {'  '.join(cells[3:])}", flush=True)


def main() -> None:
    from cielo.sources.skycam import regime
    from cielo.sources.skycam.model import OctaModel

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tsi", type=Path, required=True)
    p.add_argument("--lenghu", type=Path, required=True)
    p.add_argument("--part", choices=("fit", "check", "both"), default="both")
    p.add_argument("--only", help="comma-separated transform names (default: all); `none` is always run")
    p.add_argument("--moved", action="store_true", help="list each frame whose answer a transform moved (timed; "
                   "calibrated: research/tone_loss.py --frames, with the rule that decided each)")
    p.add_argument("--calibrated", action="store_true",
                   help="instead: calibrated on the set's other time blocks, as bench/classify_regimes.py does")
    p.add_argument("--cal-frames", type=int, help="with --calibrated: calibrate on this many frames of each half, "
                   "spread evenly in time (as classify_regimes --cal-frames)")
    args = p.parse_args()
    if args.calibrated:
        if args.moved:  # the calibrated path scores through the bench's aggregates: the per-frame list is its own
            p.error("--moved with --calibrated: use research/tone_loss.py LENGHU_DIR --looks NAMES --frames")
        calibrated(args)
        return
    names = list(TRANSFORMS) if not args.only else ["none", *[n for n in args.only.split(",") if n != "none"]]
    parts = ("fit", "check") if args.part == "both" else (args.part,)
    model = OctaModel()
    tsi = [s for s in skydata.load_tsi(args.tsi, step=10) if part(s.name) in parts]
    lenghu = [s for s in skydata.load_lenghu(args.lenghu, twilight=True)
              if part(s.name) in parts and (s.octas <= 2 or s.octas >= 6)]
    lday = np.array([regime.light(s.extra["when"], *skydata.LENGHU_SITE).regime == regime.DAY for s in lenghu])
    tt = np.array([s.octas for s in tsi])
    lt = np.array([s.octas for s in lenghu])
    tpart = np.array([part(s.name) for s in tsi])
    lpart = np.array([part(s.name) for s in lenghu])
    print(f"model {model.version}; TSI blind (MAE, within 1); LenghuSky-8 timed, clear (<= 2) or overcast (>= 6) "
          "read in their class (all, day, night)")
    print(f"{'transform':<15} {'part':<5} {'TSI MAE':>7} {'<=1':>6}   {'LenghuSky all':<17} {'day':<17} "
          f"{'night':<17}  {'night blind':<17}")
    base: dict[str, np.ndarray] = {}
    for name in names:
        t, q = TRANSFORMS[name]
        to = octas(model, tsi, t, q, TSI_CIRCLE, skydata.TSI_SITE, timed=False)
        lo, lb = octas(model, lenghu, t, q, LENGHU_CIRCLE, skydata.LENGHU_SITE, timed=True, blind_too=True)
        if name == "none":
            base = {"tsi": to, "lenghu": lo}
        for pt in parts:
            ts, ls = tpart == pt, lpart == pt
            k, n = right(lt[ls & ~lday], lb[ls & ~lday])
            print(f"{name:<15} {pt:<5} {tsi_cell(tt[ts], to[ts])}   {lenghu_cell(lt[ls], lo[ls], lday[ls])}   "
                  f"{k / max(n, 1):6.1%} {k:>3}/{n:<3}", flush=True)
        if args.moved and name != "none":
            for s, a, b in zip(tsi, base["tsi"], to, strict=True):
                if a != b:
                    print(f"    TSI {s.name} true {s.octas}: {a} -> {b}")
            for s, a, b, d in zip(lenghu, base["lenghu"], lo, lday, strict=True):
                if (a <= 2) != (b <= 2) or (a >= 6) != (b >= 6):
                    print(f"    LenghuSky {s.name} ({'day' if d else 'night'}) true {s.octas}: {a} -> {b}")


if __name__ == "__main__":
    main()
