"""Day frames 2018-2020 calibrated on 50 frames a half (as misreads.py): per-frame features -> scratch/day50.pkl."""
import pickle, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from models import skydata
from bench.classify_regimes import fit_half, pick
from cielo.sources.skycam import regime, lens, lowsun
from cielo.sources.skycam.model import OctaModel

def feats(px, geom, maps, view):
    out = {}
    if not geom.found or view is None or view.x is None:
        return out
    rho = geom.rho()
    yy, xx = lens.pixel_grid(geom.height, geom.width)
    az = np.arctan2((yy - geom.cy) / geom.ry, (xx - geom.cx) / geom.rx)
    za = np.clip(rho, 0, 1) * np.pi / 2
    v = np.stack([np.sin(za) * np.cos(az), np.sin(za) * np.sin(az), np.cos(za)])
    srho = min(np.hypot((view.x - geom.cx) / geom.rx, (view.y - geom.cy) / geom.ry), 1.0)
    saz = np.arctan2((view.y - geom.cy) / geom.ry, (view.x - geom.cx) / geom.rx)
    sza = srho * np.pi / 2
    s = np.array([np.sin(sza) * np.cos(saz), np.sin(sza) * np.sin(saz), np.cos(sza)])
    d = np.degrees(np.arccos(np.clip(np.tensordot(s, v, 1), -1, 1)))
    darkest = np.minimum(np.minimum(px[0], px[1]), px[2])
    sky = (maps.valid > 0) & (darkest < int(lens.SATURATED * 255))
    light = (px[0].astype(np.float32) + px[1] + px[2]) / 3
    nb = lens.nrbr(px)
    def med(a, m):
        return float(np.median(a[m])) if np.count_nonzero(m) > 20 else np.nan
    out["clip"] = float(np.count_nonzero((maps.valid > 0) & ~sky)) / max(np.count_nonzero(maps.valid > 0), 1)
    out["nb_near"] = med(nb, sky & (d > 8) & (d < 14))
    out["nb_far"] = med(nb, sky & (d > 35) & (d < 60))
    out["nb_90"] = med(nb, sky & (d > 80) & (d < 100))
    out["nb_anti"] = med(nb, sky & (d > 135))
    out["l_90"] = med(light, sky & (d > 80) & (d < 100))
    out["l_anti"] = med(light, sky & (d > 135))
    out["nb_zen"] = med(nb, sky & (rho < 0.35))
    out["nb_hor"] = med(nb, sky & (rho > 0.6))
    out["l_zen"] = med(light, sky & (rho < 0.35))
    out["l_hor"] = med(light, sky & (rho > 0.6))
    out["nb_p10"] = float(np.percentile(nb[sky], 10)) if sky.any() else np.nan
    out["nb_p90"] = float(np.percentile(nb[sky], 90)) if sky.any() else np.nan
    out["thr_gap"] = med(nb - maps.threshold, sky)
    out["cloudshare"] = float(np.mean((nb < maps.threshold)[sky])) if sky.any() else np.nan
    out["zr"] = lowsun.zenith_ratio(px, maps.valid, geom)
    return out

def main(cal_frames=50):
    model = OctaModel(None)
    site = skydata.LENGHU_SITE
    samples = [s for s in skydata.load_lenghu(Path('/work/data/lenghu'), twilight=True) if s.name[:4] in ("2018", "2019", "2020")]
    frames = [model.decode(s.jpeg) for s in samples]
    whens = [s.extra["when"] for s in samples]
    regimes = [regime.light(w, *site).regime for w in whens]
    index = {id(s): i for i, s in enumerate(samples)}
    default = float(model.reference.zenith)
    rows = []
    a, b = skydata.time_halves(samples, "group")
    for fitted, scored in ((a, b), (b, a)):
        cal = fit_half(model, frames, whens, regimes, site,
                       [index[id(s)] for s in (pick(fitted, cal_frames) if cal_frames else fitted)], default)
        model.calibrate(cal)
        idx = [index[id(s)] for s in scored if regimes[index[id(s)]] == regime.DAY]
        counted = {}
        vs = model.judge([frames[i] for i in idx], [whens[i] for i in idx], *site, counted=counted)
        for k, (i, v) in enumerate(zip(idx, vs)):
            s = samples[i]
            geom, maps, _ = counted.get(k, (None, None, None))
            f = model.as_read(frames[i], regime.light(whens[i], *site))
            r = dict(name=s.name, truth=s.octas, read=v.octas, flag=v.flag, el=v.sun_elevation,
                     state=v.sun_state, glow=None if v.sky is None else v.sky.glow,
                     standout=None if v.sky is None else v.sky.standout, probs=v.probs,
                     bright=frames[i].brightness, calglow=None if cal is None else cal.glow)
            if geom is not None:
                r.update(feats(f.pixels, geom, maps, v.sky))
            rows.append(r)
    model.calibrate(None)
    pickle.dump(rows, open('scratch/day50.pkl', 'wb'))

main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
