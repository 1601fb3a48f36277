"""Per LenghuSky-8 day frame (clear <= 2 / overcast >= 6), timed, uncalibrated, per look: the answer, the rule that
decided it and candidate signs of a pale clear sky (pickled rows). paleday_probe.py OUT YEARS LOOKS"""
import dataclasses, pickle, sys
from pathlib import Path
import numpy as np


def uniform_filter(a, k):
    a = np.asarray(a, dtype=np.float32)
    p = k // 2
    b = np.pad(a, p, mode="edge")
    c = np.cumsum(np.cumsum(np.pad(b, ((1, 0), (1, 0))), 0), 1)
    return (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)
R = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(R / "research"), str(R)]
import camera_shift as cs, tone_loss
from models import skydata
from cielo.sources.skycam import lens, regime
from cielo.sources.skycam.model import OctaModel


BINS = ((8, 20), (20, 35), (35, 60), (60, 80), (80, 100), (100, 135), (135, 181))


def feats(px, geom, valid, sun):
    out = {}
    v = valid > 0
    if sun is None or v.sum() < 100:
        return out
    rho = geom.rho()
    gam = lens.sun_distance(geom, sun)
    ratio = lens.nrbr(px)
    env = lens._envelope(ratio, v, rho, gam)
    lum = px.astype(np.float32).mean(axis=0)
    med = float(np.median(lum[v]))
    if env is not None:
        cols, coef, lvl = env
        fit = sum(np.float32(k) * c for c, k in zip(cols, coef))
        res = ratio - fit
        out["lvl"] = lvl
        out["below"] = float(np.mean(res[v] < -lens.SURFACE_MARGIN))
        out["below05"] = float(np.mean(res[v] < -0.05))
        out["nres"] = float(np.std(res[v]))
        out["nres_mad"] = float(np.median(np.abs(res[v])))
    # the light: a clear sky's angular pattern (horizon, aureole, Rayleigh 90 deg minimum)
    h, w = rho.shape
    yy, xx = np.mgrid[0:h, 0:w]
    ang = np.arctan2((yy + 0.5 - geom.cy) / geom.ry, (xx + 0.5 - geom.cx) / geom.rx)
    z = np.minimum(rho, 1.0) * np.pi / 2
    sx, sy = sun
    srho = np.hypot((sx - geom.cx) / geom.rx, (sy - geom.cy) / geom.ry)
    sa = np.arctan2((sy - geom.cy) / geom.ry, (sx - geom.cx) / geom.rx)
    sz = min(srho, 1.0) * np.pi / 2
    cosg = np.cos(z) * np.cos(sz) + np.sin(z) * np.sin(sz) * np.cos(ang - sa)
    g = np.arccos(np.clip(cosg, -1, 1))
    A = np.stack([np.ones_like(rho), rho ** 2, rho ** 4, np.exp(-g / 0.3), np.exp(-g / 0.1), cosg ** 2], -1)[v].astype(np.float64)
    y = np.log(np.maximum(lum[v], 1.0)).astype(np.float64)
    try:
        c, *_ = np.linalg.lstsq(A, y, rcond=None)
        r = y - A @ c
        out["lres"] = float(np.std(r))
        out["lres_mad"] = float(np.median(np.abs(r - np.median(r))))
    except np.linalg.LinAlgError:
        pass
    # texture: light against its 3x3 neighbourhood, as a share
    for k in (3, 7):
        sm = uniform_filter(lum, k)
        vv = v & (uniform_filter(v.astype(np.float32), k) > 0.999)
        if vv.sum() > 50:
            out[f"tex{k}"] = float(np.median(np.abs(lum - sm)[vv]) / max(med, 1.0))
            sr = uniform_filter(ratio, k)
            out[f"ntex{k}"] = float(np.median(np.abs(ratio - sr)[vv]))
    dark = np.minimum(np.minimum(px[0], px[1]), px[2])
    sky = v & (dark < int(lens.SATURATED * 255)) & (rho < lens.OCTA_RADIUS)
    gd = np.degrees(g)
    light = px[0].astype(np.float32) + px[1] + px[2]
    for lo, hi in BINS:
        for rl, rh, tag in ((0, 1, ""), (0.3, 0.7, "m")):
            sel = sky & (gd >= lo) & (gd < hi) & (rho >= rl) & (rho < rh)
            if sel.sum() >= 15:
                out[f"L{tag}{lo}"] = float(np.median(light[sel]))
                out[f"N{tag}{lo}"] = float(np.median(ratio[sel]))
    out["med"] = med
    return out


def main():
    out, years, looks = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
    import os
    if os.environ.get("ORACLE"):  # haze's own-sky re-read asked of every day answer >= 6 with a seen disc
        from cielo.sources.skycam import haze
        haze.hazy = lambda light, octas, view, alt, tone=1.0: (light == regime.DAY and octas >= 6 and view is not None
                                                               and view.seen and alt is not None)
    tone_loss.install_spies()
    model = OctaModel(None)
    site = skydata.LENGHU_SITE
    ss = [s for s in skydata.load_lenghu(Path("/work/data/lenghu")) if s.name[:4] in years
          and (s.octas <= 2 or s.octas >= 6) and regime.light(s.extra["when"], *site).regime == regime.DAY]
    rows = []
    for look in looks:
        t, q = cs.TRANSFORMS[look]
        for s in ss:
            fr = model.decode(cs.shifted(s.jpeg, t, q, cs.LENGHU_CIRCLE))
            tone_loss.FIRED.clear()
            cnt = {}
            v = model.judge([fr], [s.extra["when"]], *site, counted=cnt)[0]
            rule = tone_loss.rule_of(v, list(tone_loss.FIRED))
            row = dict(look=look, name=s.name, truth=s.octas, octas=v.octas, rule=rule, alt=v.sun_elevation)
            view = v.sky
            for a in ("state", "standout", "falloff", "glow", "seen"):
                row[a] = getattr(view, a, None)
            if 0 in cnt:
                geom, maps, _ = cnt[0]
                row.update(feats(fr.pixels, geom, maps.valid, maps.sun))
                from cielo.sources.skycam import lowsun
                row["anti"] = lowsun.antisolar_ratio(fr.pixels, maps.valid, geom, lowsun.seen_at(v.sky))
                row["zen"] = lowsun.zenith_ratio(fr.pixels, maps.valid, geom)
            rows.append(row)
        print(look, "done", flush=True)
    pickle.dump(rows, open(out, "wb"))


main()
