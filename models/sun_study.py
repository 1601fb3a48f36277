"""Validate the sun's state, the cloud around it and the cloud motion on ARM TSI frames (docs/sun.md).

    .venv/bin/python models/sun_study.py state TSI_DIR [--days 20180418,20180419] [--step 4]
    .venv/bin/python models/sun_study.py motion TSI_DIR [--days 20180418,20180419] [--step 1]

TSI_DIR holds SkyImage/ and CloudMask/ as extracted from PeterDrake/sky (models/octas.json, "datasets"). The
instrument's own masks are the reference: a yellow sun is its "sun visible" (it paints the sun only when the
disc shines on the shadowband); its cloud (opaque and thin) within 0.85 of the mirror's radius says clear
(under 10 %) or overcast (over 90 %). Rules were chosen on 2017-05-24; the tables report 2018-04-18/19.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "daemon"))

from cielo.sources.skycam import motion, sunstate
from cielo.sources.skycam.model import OctaModel

SGP = (36.605, -97.485)  # ARM SGP Central Facility, Lamont, Oklahoma
MIRROR_R = 232  # px in the 480x640 frame: the mirror's horizon (models/skydata.py)


def pairs(folder: Path, days: list[str], step: int) -> list[tuple[str, Path, Path]]:
    def stamp(p: Path, sep: str) -> str:
        return p.name.split(sep)[1][:14]

    images = {stamp(p, ".jpg."): p for p in (folder / "SkyImage").glob("*/*.jpg")}
    masks = {stamp(p, ".png."): p for p in (folder / "CloudMask").glob("*/*.png")}
    keys = sorted(k for k in set(images) & set(masks) if k[:8] in days)
    return [(k, images[k], masks[k]) for k in keys[::step]]


def truth(mask_path: Path) -> dict | None:
    try:
        m = np.asarray(Image.open(mask_path).convert("RGB")).astype(np.int32)
    except OSError:
        return None  # a few masks in the snapshot are truncated
    code = m[..., 0] * 65536 + m[..., 1] * 256 + m[..., 2]
    cloud = (code == 0xFFFFFF) | (code == 0xC0C0C0)
    clear = code == 0x0000FF
    sun = code == 0xFFFF00
    ys, xs = np.nonzero(code != 0)
    if len(ys) == 0:
        return None
    cy, cx = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2
    yy, xx = np.mgrid[0 : m.shape[0], 0 : m.shape[1]]
    inside = np.hypot(xx - cx, yy - cy) <= 0.85 * MIRROR_R
    c, k = int((cloud & inside).sum()), int((clear & inside).sum())
    out = {"fraction": c / (c + k) if c + k else float("nan"), "sun": bool(sun.sum() > 50), "cloud": cloud,
           "clear": clear, "centre": (cx, cy)}
    if out["sun"]:
        sy, sx = np.nonzero(sun)
        deg = np.hypot(xx - sx.mean(), yy - sy.mean()) * 90.0 / MIRROR_R
        for limit in sunstate.NEAR_DEG:
            a = deg <= limit
            cc, kk = int((cloud & a).sum()), int((clear & a).sum())
            out[f"near_{int(limit)}"] = cc / (cc + kk) if cc + kk > 50 else None
    return out


def when(key: str) -> datetime:
    return datetime.strptime(key, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def view(model: OctaModel, jpeg: bytes, ts: datetime):
    frame = model.decode(jpeg)
    verdict = model.judge([frame], [ts], *SGP)[0]
    return frame, verdict


def state_table(args: argparse.Namespace) -> None:
    model = OctaModel()
    rows = []
    for key, img, msk in pairs(Path(args.tsi), args.days.split(","), args.step):
        t = truth(msk)
        if t is None:
            continue
        _frame, v = view(model, img.read_bytes(), when(key))
        sv = v.sky
        if t["fraction"] < 0.1 and t["sun"]:
            sky = "clear, sun shown"
        elif t["fraction"] > 0.9:
            sky = "overcast"
        else:
            sky = "broken"
        rows.append((key, sky, t, sv, v.sun_elevation))
    print(f"{len(rows)} frames of {args.days}, every {args.step}th")
    elev_up = [r for r in rows if r[4] is not None and r[4] > 0]
    down = [r for r in rows if r[4] is not None and r[4] < 0]
    states = ("visible", "thin", "covered", None)
    print("\nsky (instrument mask) x cielo sun state, sun above the horizon")
    print(f"{'':<18}" + "".join(f"{s!s:>9}" for s in states) + f"{'right':>8}")
    for sky in ("clear, sun shown", "overcast", "broken"):
        group = [r for r in elev_up if r[1] == sky]
        c = Counter(None if r[3] is None else r[3].state for r in group)
        ok = {"clear, sun shown": {"visible"}, "overcast": {"thin", "covered"}}.get(sky)
        right = f"{sum(c[s] for s in ok) / len(group):.1%}" if ok and group else "-"
        print(f"{sky:<18}" + "".join(f"{c[s]:>9}" for s in states) + f"{right:>8}")
    c = Counter(None if r[3] is None else r[3].state for r in down)
    print(f"{'sun below horizon':<18}" + "".join(f"{c[s]:>9}" for s in states)
          + f"{(c[None] / len(down) if down else 0):>8.1%}")
    print("\ninstrument's sun (yellow painted) x cielo sun_covered, sun above 5 degrees")
    up5 = [r for r in elev_up if r[4] > 5]
    tab = Counter((r[2]["sun"], None if r[3] is None else r[3].covered) for r in up5)
    print(f"{'':<22}{'covered=0':>10}{'covered=1':>10}{'null':>6}")
    for shown in (True, False):
        print(f"{'sun painted' if shown else 'no sun painted':<22}{tab[(shown, 0)]:>10}{tab[(shown, 1)]:>10}"
              f"{tab[(shown, None)]:>6}")
    agree = sum(tab[(s, 0 if s else 1)] for s in (True, False)) / max(len(up5), 1)
    print(f"agreement {agree:.1%} of {len(up5)}")
    for lim in sunstate.NEAR_DEG:
        k = f"near_{int(lim)}"
        pts = [(r[2][k], getattr(r[3], "cloud_15" if lim == 15 else "cloud_30"))
               for r in up5 if r[2].get(k) is not None and r[3] is not None]
        pts = [(a, b) for a, b in pts if b is not None]
        if pts:
            a, b = np.array(pts).T
            print(f"cloud within {lim:.0f} deg of the sun (sun painted): MAE {np.abs(a - b).mean():.3f} over "
                  f"{len(pts)} frames (instrument mean {a.mean():.3f}, cielo {b.mean():.3f})")
    if args.verbose:
        for key, sky, t, sv, el in rows:
            print(key, sky, f"{t['fraction']:.2f}", t["sun"], el and round(el, 1), sv and sv.state,
                  sv and sv.overcast and round(sv.overcast, 2), sv and sv.cloud_15, sv and sv.seen)


def motion_table(args: argparse.Namespace) -> None:
    """The displacement cielo measures between consecutive frames against the one that best aligns the
    instrument's own masks (an exhaustive search over shifts of up to MAX px, at the model's scale)."""
    model = OctaModel()
    seq = pairs(Path(args.tsi), args.days.split(","), args.step)
    prev = None
    errs, conf, agree, n_skip, cost = [], [], [], 0, []
    for key, img, msk in seq:
        t = truth(msk)
        if t is None:
            prev = None
            continue
        ts = when(key)
        _frame, v = view(model, img.read_bytes(), ts)
        if v.sky is None or v.sun_elevation is None or v.sun_elevation < 5:
            prev = None
            continue
        small = _mask_small(t, model.width, model.height)
        if prev is not None:
            pts, pv, psmall = prev
            t0 = time.perf_counter()
            mv = motion.between(pv, v.sky, (ts - pts).total_seconds() / 60)
            cost.append(time.perf_counter() - t0)
            ref = _best_shift(psmall, small)
            if mv is None or ref is None:
                n_skip += 1
            else:
                errs.append(np.hypot(mv.dx - ref[0], mv.dy - ref[1]))
                conf.append(mv.confidence)
                agree.append(np.hypot(*ref))
        prev = (ts, v.sky, small)
    e, c = np.array(errs), np.array(conf)
    print(f"{len(errs)} consecutive pairs of {args.days} (every {args.step}th frame), {n_skip} without a motion")
    print(f"instrument-mask shift median {np.median(agree):.2f} px; cielo error median {np.median(e):.2f} px, "
          f"90th pct {np.percentile(e, 90):.2f} px, within 1 px {np.mean(e <= 1):.1%}")
    for lo in (0.0, 0.3, 0.5):
        sel = c >= lo
        if sel.any():
            print(f"  confidence >= {lo}: {sel.sum()} pairs, error median {np.median(e[sel]):.2f} px, "
                  f"within 1 px {np.mean(e[sel] <= 1):.1%}")
    print(f"motion.between: median {np.median(cost) * 1000:.2f} ms per pair")


def _mask_small(t: dict, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    cloud = Image.fromarray((t["cloud"] * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BOX)
    valid = Image.fromarray(((t["cloud"] | t["clear"]) * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BOX)
    return np.asarray(cloud) / 255.0, np.asarray(valid) >= 250


def _best_shift(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], limit: int = 6
                ) -> tuple[float, float] | None:
    """The integer shift (dx, dy) of mask a onto mask b with the least mean absolute difference, refined to a
    sub-pixel by a parabola through its neighbours."""
    (ca, va), (cb, vb) = a, b
    h, w = ca.shape
    scores = np.full((2 * limit + 1, 2 * limit + 1), np.inf)
    for dy in range(-limit, limit + 1):
        for dx in range(-limit, limit + 1):
            ys, ye = max(0, dy), min(h, h + dy)
            xs, xe = max(0, dx), min(w, w + dx)
            sa = ca[ys - dy : ye - dy, xs - dx : xe - dx]
            sb = cb[ys:ye, xs:xe]
            ok = va[ys - dy : ye - dy, xs - dx : xe - dx] & vb[ys:ye, xs:xe]
            if ok.sum() > 500:
                scores[dy + limit, dx + limit] = np.abs(sa - sb)[ok].mean()
    if not np.isfinite(scores).any():
        return None
    iy, ix = np.unravel_index(np.argmin(scores), scores.shape)
    if scores.min() < 1e-3 or np.ptp(scores[np.isfinite(scores)]) < 0.01:
        return None  # nothing to align: a clear or uniformly overcast sky

    def sub(m: float, lo: float, hi: float) -> float:
        d = lo - 2 * m + hi
        return 0.5 * (lo - hi) / d if d > 0 and np.isfinite(d) else 0.0

    fx = sub(scores[iy, ix], scores[iy, ix - 1], scores[iy, ix + 1]) if 0 < ix < 2 * limit else 0.0
    fy = sub(scores[iy, ix], scores[iy - 1, ix], scores[iy + 1, ix]) if 0 < iy < 2 * limit else 0.0
    return ix - limit + fx, iy - limit + fy


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("state", "motion"))
    p.add_argument("tsi", metavar="TSI_DIR")
    p.add_argument("--days", default="20180418,20180419")
    p.add_argument("--step", type=int, default=4)
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args()
    (state_table if args.what == "state" else motion_table)(args)


if __name__ == "__main__":
    main()
