"""TSI dev through a look, calibrated per hour-half on 50 frames (as camera_shift --calibrated): per day MAE,
per truth, and what each half learned. usage: tsical.py LOOK [LOOK...]  (env OFF=cast,blue to drop parts)"""
import os, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from bench import classify_regimes as cr
from models import skydata
from cielo.sources.skycam import calibration, regime, veil
from cielo.sources.skycam.model import OctaModel, DARK_MEAN
import dataclasses
model = OctaModel()
calibration.OWN_CAST = os.environ.get("OWN", "1") == "1"
calibration.RED_UNCOVERED = os.environ.get("RED", "0") == "1"
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")]
t = np.array([s.octas for s in tsi])
day = np.array([s.name[:8] for s in tsi])
off = tuple(x for x in os.environ.get("OFF", "").split(",") if x)
pick = os.environ.get("PICK", "even"); start = float(os.environ.get("START", 0)); seed = int(os.environ.get("SEED", 0))
site = skydata.TSI_SITE
for name in sys.argv[1:]:
    tr, q = cs.TRANSFORMS[name]
    ss = [dataclasses.replace(s, jpeg=cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE)) for s in tsi]
    frames = [model.decode(s.jpeg) for s in ss]
    whens = [s.extra["when"] for s in ss]
    regimes = np.array([regime.light(w, *site).regime for w in whens])
    a, b = skydata.time_halves(ss, "hour")
    index = {id(s): i for i, s in enumerate(ss)}
    o = np.full(len(ss), -9)
    default = float(model.reference.zenith)
    for hn, (fh, sh) in enumerate(((a, b), (b, a))):
        fh = cr.pick(fh, 50, pick, start, seed)
        keep = [index[id(s)] for s in fh if frames[index[id(s)]].brightness >= DARK_MEAN or frames[index[id(s)]].stars is not None]
        usable = [frames[i] for i in keep]
        daylit = [bool(regimes[i] == regime.DAY) for i in keep]
        cal = calibration.fit(usable, "half", default, daylit, [whens[i] for i in keep])
        calibration.learn_nights(cal, usable, [whens[i] for i in keep], *site)
        veil.learn(cal, model, usable, [whens[i] for i in keep], *site)
        cr.drop(cal, off, default)
        print(f"{name} half {hn}: truth of cal frames {np.bincount([t[i] for i in keep], minlength=9)}; cast {cal.cast:+.3f} thr {cal.sky_threshold:.3f} scale {cal.clear_scale:.3f} glow {cal.glow}")
        for k in ("cast", "threshold", "clear_sky_blue"):
            print("   ", k, ":", cal.found.get(k))
        model.calibrate(cal)
        idx = [index[id(s)] for s in sh]
        v = model.judge([frames[i] for i in idx], [whens[i] for i in idx], *site)
        o[idx] = [-9 if x.octas is None else x.octas for x in v]
    model.calibrate(None)
    err = np.where(o >= 0, np.abs(o - t), 8)
    print(f"{name}: MAE all {err.mean():.3f}  2017-05-24 {err[day=='20170524'].mean():.3f}  2018-04-18 {err[day=='20180418'].mean():.3f}")
    for k in range(9):
        sel = t == k
        if sel.any():
            print(f"  truth {k}: n {sel.sum():3d} mean read {o[sel].mean():5.2f} bias {(o-t)[sel].mean():+5.2f} mae {err[sel].mean():4.2f}")
