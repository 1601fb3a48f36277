#!/usr/bin/env python3
"""The moonlit sky's texture next to the moon, on LenghuSky-8 moonlit frames the star gate passes.

A veil lit by the moon from a few degrees away (forward scattering) shows its structure brightest there, while the
whole-frame texture (`night.texture`, within 0.7 of the lens radius and under 200 levels) leaves a low moon's
neighbourhood out. Per frame: the 75th percentile of |3x3-opened brightness - its 15 px box mean| / that mean in a
ring 20-60 px (and 20-100 px) from the moon, the moon taken as the median of the frame's pixels at 250 or over
(512 px frame; pixels within 0.92 of the lit circle's radius, 12-249 levels), and the ratio of the tangential to
the radial gradient energy of that high-pass view in the same ring (rays of a sharp moon run radially: their
gradient is tangential). Last, the same texture 20-100 px (of 512) from the moon over the sky that counts only (the
model's valid map at the decoded size, eroded 4 px: no horizon, rim or obstruction edge in the window), with its
pixel count. Class and reading are the daemon's, time known (docs/design.md, "The moon's neighbourhood", session 16).

    python research/moon_near.py LENGHU_DIR --years 2018,2019
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import skydata

RINGS = ((20, 60), (20, 100))  # px from the moon on the 512 px frame
LENS_RHO = 0.92
GATE_PASS = 0.4


def near_moon(jpeg: bytes, night) -> list[float] | None:
    """[texture %, tangential / radial gradient energy] per ring; None when no pixel is saturated (no moon)."""
    top = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).max(axis=2).astype(np.float32)
    h, w = top.shape
    yy, xx = np.mgrid[:h, :w]
    lit = top > 12
    ly, lx = np.nonzero(lit)
    radius = np.sqrt(lit.sum() / np.pi)
    ys, xs = np.nonzero(top >= 250)
    if len(ys) == 0 or len(ly) == 0:
        return None
    my, mx = float(np.median(ys)), float(np.median(xs))
    d = np.hypot(yy - my, xx - mx)
    rho = np.hypot(yy - ly.mean(), xx - lx.mean()) / radius
    smooth = night.opened(top)
    mean = night.box_sum(smooth, night.STAR_WINDOW) / np.float32(night.STAR_WINDOW ** 2)
    hp = (smooth - mean) / np.maximum(mean, 1.0)
    gy, gx = np.gradient(hp)
    uy, ux = (yy - my) / np.maximum(d, 1.0), (xx - mx) / np.maximum(d, 1.0)
    radial, tangential = gy * uy + gx * ux, gx * uy - gy * ux
    out: list[float] = []
    for lo, hi in RINGS:
        sel = (d > lo) & (d < hi) & (rho < LENS_RHO) & (top > 12) & (top < 250)
        if sel.sum() < 50:
            out += [float("nan"), float("nan")]
            continue
        out += [float(np.percentile(np.abs(hp[sel]), 75) * 100),
                float((tangential[sel] ** 2).sum() / max(float((radial[sel] ** 2).sum()), 1e-9))]
    return out


def near_moon_sky(frame, valid: np.ndarray, night) -> tuple[float, int] | None:
    """(texture % 20-100 px of 512 from the moon over the eroded valid sky, pixels); None without a moon."""
    from numpy.lib.stride_tricks import sliding_window_view

    b = frame.bright.astype(np.float32)
    h, w = b.shape
    v = np.asarray(Image.fromarray(valid.astype(np.uint8) * 255).resize((w, h), Image.Resampling.NEAREST)) > 0
    v = sliding_window_view(np.pad(v, 4, constant_values=False), (9, 9)).all(axis=(2, 3))
    ys, xs = np.nonzero(b >= 250)
    if len(ys) == 0:
        return None
    yy, xx = np.mgrid[:h, :w]
    d = np.hypot(yy - np.median(ys), xx - np.median(xs)) * 512 / w
    smooth = night.opened(b)
    mean = night.box_sum(smooth, night.STAR_WINDOW) / np.float32(night.STAR_WINDOW ** 2)
    sel = (d > 20) & (d < 100) & v & (b > 12) & (b < 250)
    if sel.sum() < 50:
        return float("nan"), int(sel.sum())
    return float(np.percentile(np.abs(smooth - mean)[sel] / np.maximum(mean[sel], 1.0), 75) * 100), int(sel.sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lenghu", type=Path)
    ap.add_argument("--years", default="2018,2019")
    args = ap.parse_args()
    from cielo.sources.skycam import night, regime
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel(None)
    site = skydata.LENGHU_SITE
    years = args.years.split(",")
    samples = [s for s in skydata.load_lenghu(args.lenghu, twilight=True) if s.name[:4] in years
               and (s.octas <= 2 or s.octas >= 6)
               and regime.light(s.extra["when"], *site).regime == regime.MOONLIT]
    frames = [model.decode(s.jpeg) for s in samples]
    whens = [s.extra["when"] for s in samples]
    verdicts = model.judge(frames, whens, *site)
    print("frame                truth read right gate  tex20-60 t/r  tex20-100 t/r  sky20-100 px")
    for s, f, w, v in sorted(zip(samples, frames, whens, verdicts, strict=True), key=lambda r: (r[0].octas, r[0].name)):
        light = regime.light(w, *site)
        geom = model.geometry(f, light)
        p, _ = night.gate(f, geom)
        if p <= GATE_PASS:
            continue
        got = -1 if v.octas is None else v.octas
        right = (s.octas <= 2 and 0 <= got <= 2) or (s.octas >= 6 and got >= 6)
        near = near_moon(s.jpeg, night)
        sky = near_moon_sky(f, model.maps(f, geom, light).valid > 0, night)
        cells = "no moon"
        if near is not None and sky is not None:
            cells = " ".join(f"{x:6.2f}" for x in (*near, sky[0])) + f" {sky[1]}"
        print(f"{s.name}  {s.octas:>4} {got:>4} {'yes' if right else 'NO':>5} {p:.2f}  {cells}")


if __name__ == "__main__":
    main()
