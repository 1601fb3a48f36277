"""Validate the sun's state, the cloud around it and the cloud motion on ARM TSI frames (docs/sun.md).

    .venv/bin/python models/sun_study.py state TSI_DIR [--days 20180418,20180419] [--step 4]
    .venv/bin/python models/sun_study.py motion TSI_DIR [--days 20180418,20180419] [--step 1]
    .venv/bin/python models/sun_study.py lenghu LENGHU_DIR [--years 2020,2021] [--transform "saturation 0.7"]
    .venv/bin/python models/sun_study.py orientation TSI_DIR [--train 20170524 --test 20180418,20180419]
    .venv/bin/python models/sun_study.py orientation LENGHU_DIR --train 201907,201908 --test 201909,201910
    .venv/bin/python models/sun_study.py epochs LENGHU_DIR
    .venv/bin/python models/sun_study.py disc LENGHU_DIR --years 2018,2019 [--days 20170524 --tsi-dir TSI_DIR]

TSI_DIR holds SkyImage/ and CloudMask/ as extracted from PeterDrake/sky (models/octas.json, "datasets"). The
instrument's own masks are the reference: a yellow sun is its "sun visible" (it paints the sun only when the
disc shines on the shadowband); its cloud (opaque and thin) within 0.85 of the mirror's radius says clear
(under 10 %) or overcast (over 90 %). Rules were chosen on development frames (TSI 2017-05-24, 2018-04-18;
LenghuSky-8 2018-2020); TSI 2018-04-19 and LenghuSky-8 2021 are held out (LENGHU_DIR: its 2018-2021 LabelMe
JSONs only). `epochs`: the orientation per setup period of LenghuSky-8's camera, against its makers' history.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "daemon"), str(Path(__file__).resolve().parent)]

from cielo.sources.skycam import motion, sunstate  # noqa: E402
from cielo.sources.skycam.model import OctaModel  # noqa: E402

SGP = (36.605, -97.485)  # ARM SGP Central Facility, Lamont, Oklahoma
MIRROR_R = 232  # px in the 480x640 frame: the mirror's horizon (models/skydata.py)
STILL_DEG = 35.0  # the reference motion leaves out the instrument's mask this near the sun


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
           "clear": clear, "centre": (cx, cy), "still": ~inside}
    if out["sun"]:
        sy, sx = np.nonzero(sun)
        deg = np.hypot(xx - sx.mean(), yy - sy.mean()) * 90.0 / MIRROR_R
        # the instrument calls much of the aureole cloud, and it follows the sun, not the wind
        out["still"] = ~inside | (deg <= STILL_DEG)
        for limit in sunstate.NEAR_DEG:
            a = deg <= limit
            cc, kk = int((cloud & a).sum()), int((clear & a).sum())
            out[f"near_{int(limit)}"] = cc / (cc + kk) if cc + kk > 50 else None
    return out


def when(key: str) -> datetime:
    return datetime.strptime(key, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def through(args: argparse.Namespace, jpeg: bytes, camera: str) -> bytes:
    """`--transform NAME`: the frame as another camera would give it (research/camera_shift.py's TRANSFORMS, at its
    own size, re-encoded); `camera`: "tsi" or "lenghu", whose lens circle a vignette needs."""
    if not args.transform:
        return jpeg
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "research"))
    import camera_shift

    t, quality = camera_shift.TRANSFORMS[args.transform]
    circle = camera_shift.TSI_CIRCLE if camera == "tsi" else camera_shift.LENGHU_CIRCLE
    return camera_shift.shifted(jpeg, t, quality, circle)


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
        frame, v = view(model, through(args, img.read_bytes(), "tsi"), when(key))
        sv = v.sky
        # as `cielo classify` without --at judges it: the sun's state from the frame's light alone
        blind = model.judge([frame], [None], *SGP)[0].sun_state
        if t["fraction"] < 0.1 and t["sun"]:
            sky = "clear, sun shown"
        elif t["fraction"] > 0.9:
            sky = "overcast"
        else:
            sky = "broken"
        rows.append((key, sky, t, sv, v.sun_elevation, blind))
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
    c = Counter(r[5] for r in elev_up)
    print("no time given (classify without --at), sun above the horizon: "
          + ", ".join(f"{s} {c[s]}" for s in states) + f"; said None (sun down) {c[None]}/{len(elev_up)}")
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
        for key, sky, t, sv, el, _blind in rows:
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
            ref = _mask_shift(psmall, small)
            if mv is None or ref is None:
                n_skip += 1
            else:
                errs.append(np.hypot(mv.dx - ref[0], mv.dy - ref[1]))
                conf.append(mv.confidence)
                agree.append(np.hypot(*ref))
        prev = (ts, v.sky, small)
    e, c, ref = np.array(errs), np.array(conf), np.array(agree)
    print(f"{len(errs)} consecutive pairs of {args.days} {args.step * 30} s apart, sun above 5 deg "
          f"({n_skip} more where either side found nothing to follow)")
    print(f"{'true shift (px)':<16}{'pairs':>6}{'error median':>14}{'90th pct':>10}{'within 1 px':>13}"
          f"{'confidence':>12}")
    for lo, hi in ((0, 1), (1, 3), (3, 6), (6, 99), (0, 99)):
        sel = (ref >= lo) & (ref < hi)
        if sel.any():
            print(f"{f'{lo}-{hi}' if hi < 99 else (f'>= {lo}' if lo else 'all'):<16}{sel.sum():>6}"
                  f"{np.median(e[sel]):>14.2f}{np.percentile(e[sel], 90):>10.2f}{np.mean(e[sel] <= 1):>13.1%}"
                  f"{np.median(c[sel]):>12.2f}")
    print(f"motion.between: median {np.median(cost) * 1000:.2f} ms per pair")


def _mask_small(t: dict, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    cloud = Image.fromarray((t["cloud"] * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BOX)
    ok = (t["cloud"] | t["clear"]) & ~t["still"]
    valid = Image.fromarray((ok * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BOX)
    return np.asarray(cloud) / 255.0, np.asarray(valid) >= 250


def _mask_shift(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], limit: int = 20
                ) -> tuple[float, float] | None:
    """The shift of the instrument's mask a onto b: the least mean absolute difference over the pixels both
    cover, every integer shift within `limit`, refined by a parabola (an estimator independent of cielo's)."""
    return _best_shift(a, b, limit)


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


def lenghu_table(args: argparse.Namespace) -> None:
    """Sun state on LenghuSky-8 2018-2021 whole fisheye frames (none used to choose a rule): clear (labelled
    cloud under 10 %) and overcast (over 90 %) frames with the sun up, and night frames, judged as an
    independent check does (no time given) and with the frame's time (as the daemon knows it)."""
    from skydata import LENGHU_SITE, load_lenghu

    model = OctaModel()
    years = tuple(args.years.split(","))
    samples = [s for s in load_lenghu(Path(args.tsi)) if s.name.startswith(years)]
    print(f"{len(samples)} LenghuSky-8 frames of {args.years} (twilight left out)")
    want = {"clear, sun up": {"visible"}, "overcast, sun up": {"thin", "covered"}, "night": {None}}
    for timed in (False, True):
        tab: dict[str, Counter] = {k: Counter() for k in want}
        for smp in samples:
            el = smp.extra["sun_elevation"]
            if smp.extra["night"]:
                kind = "night"
            elif el > 0 and smp.fraction < 0.1:
                kind = "clear, sun up"
            elif el > 0 and smp.fraction > 0.9:
                kind = "overcast, sun up"
            else:
                continue
            ts = datetime.strptime(smp.name, "%Y-%m-%d-%H-%M-%S").replace(tzinfo=UTC) - timedelta(hours=8)
            frame = model.decode(through(args, smp.jpeg, "lenghu"))
            v = model.judge([frame], [ts if timed else None], *LENGHU_SITE)[0]
            tab[kind][v.sun_state] += 1
        print(f"\n{'with the frame time' if timed else 'no time given (classify without --at)'}")
        print(f"{'':<18}" + "".join(f"{s!s:>9}" for s in ("visible", "thin", "covered", None)) + f"{'right':>8}")
        right = total = 0
        for kind, c in tab.items():
            n = sum(c.values())
            ok = sum(c[s] for s in want[kind])
            right, total = right + ok, total + n
            print(f"{kind:<18}" + "".join(f"{c[s]:>9}" for s in ("visible", "thin", "covered", None))
                  + f"{(ok / n if n else 0):>8.1%}")
        print(f"all: {right}/{total} right, {right / max(total, 1):.1%}")


def _sun_points(model: OctaModel, shots, site: tuple[float, float]) -> list[tuple[float, float, float, float]]:
    """(x, y, elevation, azimuth) of the sun's disc on each (jpeg, UTC time) where one shows."""
    from cielo.astro import sun
    from cielo.sources.skycam import orientation

    out = []
    for jpeg, ts in shots:
        el, az = sun.position(ts, *site)
        if el < orientation.MIN_ELEVATION:
            continue
        frame = model.decode(jpeg)
        v = model.judge([frame], [ts], *site)[0]
        if v.sky is not None and v.sky.seen:
            out.append((v.sky.x, v.sky.y, el, az))
    return out


def orientation_table(args: argparse.Namespace) -> None:
    """The camera's orientation fitted from the sun's disc on the frames of --train (their times from the
    file names: TSI UTC; LenghuSky-8 UTC+8), then checked on --test: the miss between where the fit puts
    the sun and where its disc shows, in degrees of sky. DIR: a TSI folder, or LenghuSky-8's JSONs."""
    from cielo.sources.skycam import orientation

    model = OctaModel()
    folder = Path(args.tsi)
    if (folder / "SkyImage").is_dir():
        site = SGP
        shots = [(key, img.read_bytes(), when(key)) for key, img, _ in pairs(folder, args.train.split(",")
                                                                               + args.test.split(","), args.step)]
        centre = "the mirror's centre (the masks' disc): see models/skydata.py"
    else:
        from skydata import LENGHU_LENS, load_lenghu

        site = (38.61, 93.90)
        shots = [(s.name, s.jpeg, datetime.strptime(s.name, "%Y-%m-%d-%H-%M-%S").replace(tzinfo=UTC)
                  - timedelta(hours=8)) for s in load_lenghu(folder) if not s.extra["night"]]
        cx, cy, r = LENGHU_LENS
        centre = f"({cx / 512:.3f}, {cy / 512:.3f}), horizon {r / 512:.3f} of the width (its black surround)"
    train = _sun_points(model, [(j, t) for k, j, t in shots if k.replace("-", "").startswith(
        tuple(args.train.split(",")))], site)
    test = _sun_points(model, [(j, t) for k, j, t in shots if k.replace("-", "").startswith(
        tuple(args.test.split(",")))], site)
    geom = model.geometry(model.decode(shots[0][1]))
    o = orientation.fit(train, model.width, model.height, geom.rx / geom.ry)
    print(f"sun's disc seen on {len(train)} frames of {args.train} (fit), {len(test)} of {args.test} (check)")
    if o is None:
        print("no fit")
        return
    for line in o.describe():
        print(line)
    print(f"lens circle's centre: {centre}")
    miss = []
    for x, y, el, az in test:
        px, py = o.where(el, az, model.width, model.height)
        miss.append(math.hypot(px - x, (py - y) * o.aspect) / (o.a * math.pi / 180))
    m = np.array(miss)
    if len(m):
        print(f"check frames: miss median {np.median(m):.2f} deg, 90th pct {np.percentile(m, 90):.2f} deg, "
              f"within 5 deg {np.mean(m <= 5):.1%} of {len(m)}")


# LenghuSky-8's own calibration (github.com/ruiyicheng/LenghuSky-8, calibration/): stellar astrometry on
# 4096 px frames cropped as the 512 px ones, refitted at each of these (re)installations of the camera (its
# setup history; later slots up to 2022 reuse the 2019-07-05 fit), at its site, with x right, y down,
# az = (90 deg - atan2(y - v0, x - u0)) + az_offset (east counter-clockwise of north: a camera looking up) and
# r(z) an odd polynomial (to z^9) started from an orthographic r = 233 sin z (512 px scale) about (253, 251).
LENGHU_EPOCHS = ("2018-05-01-00-02-44", "2018-09-27-19-19-49", "2019-04-24-15-39-36", "2019-06-26-18-23-18",
                 "2019-07-05-11-59-14")
LENGHU_SITES = {"LenghuSky-8's code": (38.9586, 93.2681), "Saishiteng (cielo)": (38.61, 93.90)}


def epochs_table(args: argparse.Namespace) -> None:
    """`cielo calibrate`'s orientation fitted on every LenghuSky-8 2018-2021 day frame of each of the camera's
    setup epochs (its makers' history), at both site coordinates in use, against what that history says: one
    orientation per epoch, a new one at each boundary."""
    from skydata import load_lenghu

    from cielo.astro import sun
    from cielo.sources.skycam import orientation

    model = OctaModel()
    samples = [s for s in load_lenghu(Path(args.tsi)) if not s.extra["night"]]
    geom = model.geometry(model.decode(samples[0].jpeg))
    seen = []  # (name, x, y, UTC time) of every disc: judged once, placed on the sky per site
    for s in samples:
        ts = datetime.strptime(s.name, "%Y-%m-%d-%H-%M-%S").replace(tzinfo=UTC) - timedelta(hours=8)
        v = model.judge([model.decode(s.jpeg)], [ts], *LENGHU_SITES["Saishiteng (cielo)"])[0]
        if v.sky is not None and v.sky.seen:
            seen.append((s.name, v.sky.x, v.sky.y, ts))
    starts = [*LENGHU_EPOCHS, "2022"]
    # the last setup, again by year: one fit should hold for all of it
    spans = [*itertools.pairwise(starts), (LENGHU_EPOCHS[-1], "2020"), ("2020", "2021"), ("2021", "2022")]
    for site_name, site in LENGHU_SITES.items():
        print(f"\nsite {site_name}: {site[0]} N {site[1]} E")
        print(f"{'epoch from':<21}{'discs':>6}{'kept':>6}{'north':>8}{'east':>6}{'zenith x, y (of 512)':>22}"
              f"{'horizon px':>11}{'r(45deg) px':>12}{'miss deg':>9}")
        for i, (a, b) in enumerate(spans):
            pts = [(x, y, *sun.position(ts, *site)) for name, x, y, ts in seen if a <= name < b]
            o = orientation.fit(pts, model.width, model.height, geom.rx / geom.ry)
            a = a if i < len(LENGHU_EPOCHS) else f"  {a[:4]} alone"
            if o is None:
                print(f"{a:<21}{len(pts):>6}  no fit")
                continue
            scale = 512 / o.width  # the 512 px frames, as LenghuSky-8's own figures are scaled
            z45 = math.radians(45)
            print(f"{a:<21}{len(pts):>6}{o.frames:>6}{o.north:>8.1f}{'ccw' if o.sign < 0 else 'cw':>6}"
                  f"{f'({(o.cx + 0.5) * scale:.0f}, {(o.cy + 0.5) * 512 / o.height:.0f})':>22}"
                  f"{o.horizon_px() * scale:>11.0f}{(o.a * z45 + o.b * z45 * z45) * scale:>12.0f}"
                  f"{o.residual_deg:>9.2f}")


def disc_measures(px: np.ndarray, geom, maps, stop: np.ndarray) -> dict[str, float] | None:
    """The seen disc, measured at the model's size (min(R, G, B), 0..1, by rings of 1.5 degrees about it): its
    saturated area (deg^2: pixels within 0.03 of its top level, within 30 degrees of it), its edge (the angle
    at which its excess over the far sky falls to 75 % and 50 %), its aureole (15-30 degrees, the same excess
    share) and its standout (sunstate._standout: the disc over the sky farther than 45 degrees)."""
    from cielo.sources.skycam import lens

    sun = maps.sun
    if sun is None:
        return None
    darkest = np.minimum(np.minimum(px[0], px[1]), px[2]).astype(np.float32) / 255
    rho = geom.rho()
    sky = (rho <= 1.0) & ~stop
    deg = lens.sun_distance(geom, sun) * sunstate.DEG_PER_RADIUS
    far = sky & (deg > sunstate.STANDOUT_DEG) & (rho <= sunstate.MOTION_RHO) & (darkest < lens.SATURATED)
    if far.sum() < sunstate.MIN_NEAR_PIXELS:
        return None
    level = float(np.median(darkest[far]))
    rings = np.arange(0.0, 45.0, 1.5)
    prof = np.array([np.median(darkest[r]) if (r := sky & (deg >= a) & (deg < a + 1.5)).sum() >= 2 else np.nan
                     for a in rings])
    top = float(np.nanmax(prof[:3]))
    excess = (prof - level) / max(top - level, 1e-3)

    def fall(share: float) -> float:
        below = np.nonzero(excess < share)[0]
        return float(rings[below[0]]) if len(below) else 45.0

    aureole = sky & (deg >= 15) & (deg < 30)
    plateau = (darkest >= top - 0.03) & (deg <= 30) & (rho <= 1.0)
    area = float(plateau.sum()) * (sunstate.DEG_PER_RADIUS / geom.rx) * (sunstate.DEG_PER_RADIUS / geom.ry)
    standout = sunstate._standout((darkest * 255).round().astype(np.uint8), sun, sky & (deg > sunstate.STANDOUT_DEG)
                                  & (rho <= sunstate.MOTION_RHO) & (darkest < lens.SATURATED))
    return {"area_deg2": area, "edge75_deg": fall(0.75), "edge50_deg": fall(0.5),
            "aureole": (float(np.median(darkest[aureole])) - level) / max(top - level, 1e-3),
            "standout": float("nan") if standout is None else standout}


def disc_table(args: argparse.Namespace) -> None:
    """The disc's measures (disc_measures) on clear and overcast frames with the sun up where a disc is seen,
    per LenghuSky-8 year (and TSI day with --tsi-dir): percentiles 0/10/50/90/100 per class, what the
    rule's constants were read from."""
    from skydata import LENGHU_SITE, load_lenghu

    model = OctaModel()
    groups: dict[str, dict[str, list[dict[str, float]]]] = {}

    def add(group: str, kind: str, jpeg: bytes, ts: datetime, site: tuple[float, float]) -> None:
        frame = model.decode(jpeg)
        v = model.judge([frame], [ts], *site)[0]
        if v.sky is None or not v.sky.seen:
            return
        geom = model.geometry(frame)
        m = disc_measures(frame.pixels, geom, model.maps(frame, geom), frame.not_sky())
        if m is not None:
            groups.setdefault(group, {"clear": [], "overcast": []})[kind].append(m)

    years = tuple(args.years.split(","))
    for smp in load_lenghu(Path(args.tsi)):
        el = smp.extra["sun_elevation"]
        if not smp.name.startswith(years) or smp.extra["night"] or el <= 0 or 0.1 <= smp.fraction <= 0.9:
            continue
        ts = datetime.strptime(smp.name, "%Y-%m-%d-%H-%M-%S").replace(tzinfo=UTC) - timedelta(hours=8)
        add(f"LenghuSky-8 {smp.name[:4]}", "clear" if smp.fraction < 0.1 else "overcast", smp.jpeg, ts, LENGHU_SITE)
    if args.tsi_dir:
        for key, img, msk in pairs(Path(args.tsi_dir), args.days.split(","), args.step):
            t = truth(msk)
            if t is None or not (t["fraction"] > 0.9 or (t["fraction"] < 0.1 and t["sun"])):
                continue
            add(f"TSI {key[:8]}", "clear" if t["fraction"] < 0.1 else "overcast", img.read_bytes(), when(key), SGP)
    for group, kinds in groups.items():
        print(f"\n{group}: discs seen on {len(kinds['clear'])} clear, {len(kinds['overcast'])} overcast frames "
              "(percentiles 0 / 10 / 50 / 90 / 100)")
        for key in ("area_deg2", "edge75_deg", "edge50_deg", "aureole", "standout"):
            cells = []
            for kind in ("clear", "overcast"):
                a = np.array([m[key] for m in kinds[kind]], dtype=float)
                a = a[np.isfinite(a)]
                q = " ".join(f"{x:6.2f}" for x in np.percentile(a, (0, 10, 50, 90, 100))) if len(a) else "-"
                cells.append(f"{kind} [{q}]")
            print(f"  {key:<11}" + "   ".join(cells))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("state", "motion", "lenghu", "orientation", "epochs", "disc"))
    p.add_argument("tsi", metavar="DIR", help="TSI_DIR, or the LenghuSky-8 JSON folder for `lenghu`")
    p.add_argument("--days", default="20180418,20180419")
    p.add_argument("--step", type=int, default=4)
    p.add_argument("--years", default="2018,2019,2020", help="LenghuSky-8 years (2021: spent, for diagnosis only)")
    p.add_argument("--train", default="20170524", help="orientation: fit on these date prefixes (YYYYMM...)")
    p.add_argument("--test", default="20180418,20180419", help="orientation: check on these")
    p.add_argument("--tsi-dir", default="", help="disc: TSI_DIR as well, its --days")
    p.add_argument("--transform", default="", help="state, lenghu: the frames through research/camera_shift.py's "
                   "transform of this name (another camera: \"saturation 0.7\", \"gamma 0.8\", ...)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args()
    {"state": state_table, "motion": motion_table, "lenghu": lenghu_table,
     "orientation": orientation_table, "epochs": epochs_table, "disc": disc_table}[args.what](args)


if __name__ == "__main__":
    main()
