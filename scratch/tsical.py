"""TSI dev through a look, calibrated per hour-half on 50 frames (as camera_shift --calibrated --cal-frames 50):
per day MAE, per truth and sign, what each half learned, and the same frames read uncalibrated (timed).
usage: tsical.py LOOK [LOOK...]  (env OFF=cast,blue,threshold,glow,lens to drop parts; DUMP=1 per-frame)"""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from bench import classify_regimes as cr
from models import skydata
from cielo.sources.skycam import calibration, regime, veil
from cielo.sources.skycam.model import OctaModel, DARK_MEAN
from cielo.sources.skycam import model as M
M.PART_GLOW_TEST = os.environ.get("PART", "1") == "1"
model = OctaModel()
calibration.BLUER_SPLIT = os.environ.get("BLUER", "1") == "1"
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")]
t = np.array([s.octas for s in tsi])
day = np.array([s.name[:8] for s in tsi])
off = tuple(x for x in os.environ.get("OFF", "").split(",") if x)
site = skydata.TSI_SITE
for name in sys.argv[1:]:
    tr, q = cs.TRANSFORMS[name]
    ss = [dataclasses.replace(s, jpeg=cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE)) for s in tsi]
    frames = [model.decode(s.jpeg) for s in ss]
    whens = [s.extra["when"] for s in ss]
    regimes = np.array([regime.light(w, *site).regime for w in whens])
    model.calibrate(None)
    un = np.array([-9 if x.octas is None else x.octas for x in model.judge(frames, whens, *site)])
    a, b = skydata.time_halves(ss, "hour")
    index = {id(s): i for i, s in enumerate(ss)}
    o = np.full(len(ss), -9)
    default = float(model.reference.zenith)
    for hn, (fh, sh) in enumerate(((a, b), (b, a))):
        fh = cr.pick(fh, 50)
        keep = [index[id(s)] for s in fh if frames[index[id(s)]].brightness >= DARK_MEAN or frames[index[id(s)]].stars is not None]
        usable = [frames[i] for i in keep]
        daylit = [bool(regimes[i] == regime.DAY) for i in keep]
        cal = calibration.fit(usable, "half", default, daylit, [whens[i] for i in keep])
        calibration.learn_nights(cal, usable, [whens[i] for i in keep], *site)
        veil.learn(cal, model, usable, [whens[i] for i in keep], *site)
        cr.drop(cal, off, default)
        if os.environ.get("THR"):
            thr = (float(cal.found["threshold"].split()[1].rstrip(",;")) if os.environ["THR"] == "own" else
                   float(os.environ["THR"]) if os.environ["THR"][0] != "x" else cal.sky_threshold * float(os.environ["THR"][1:]))
            ref = cal.reference or model.reference
            tab = None if ref.table is None else tuple(tuple(thr for _ in r) for r in ref.table)
            cal.reference = dataclasses.replace(ref, zenith=thr, table=tab)
            cal.sky_threshold = thr
        print(f"{name} half {hn}: cal truths {np.bincount([t[i] for i in keep], minlength=9)}; cast {cal.cast:+.3f} thr {cal.sky_threshold:.3f} "
              f"ref {None if cal.reference is None else round(float(cal.reference.zenith),3)} scale {cal.clear_scale:.3f} glow {cal.glow} "
              f"tone {cal.glow_tone} fcast {cal.frame_cast} lens {'site' if cal.lens else 'per frame'}")
        for k, v in (cal.found.items() if os.environ.get("VERB") else []):
            print("   ", k, ":", str(v)[:300])
        model.calibrate(cal)
        idx = [index[id(s)] for s in sh]
        v = model.judge([frames[i] for i in idx], [whens[i] for i in idx], *site)
        o[idx] = [-9 if x.octas is None else x.octas for x in v]
    model.calibrate(None)
    err = np.where(o >= 0, np.abs(o - t), 8)
    eu = np.where(un >= 0, np.abs(un - t), 8)
    print(f"{name}: cal MAE all {err.mean():.3f}  chose {err[day=='20170524'].mean():.3f}  check {err[day=='20180418'].mean():.3f}"
          f" | uncal timed all {eu.mean():.3f} chose {eu[day=='20170524'].mean():.3f} check {eu[day=='20180418'].mean():.3f}")
    for d in ("20170524", "20180418"):
        for k in range(9):
            sel = (t == k) & (day == d)
            if sel.any():
                dd = (o - t)[sel]
                print(f"  {d} truth {k}: n {sel.sum():3d} read {o[sel].mean():5.2f} bias {dd.mean():+5.2f} mae {err[sel].mean():4.2f}"
                      f" over {np.sum(dd>0):3d} ({dd[dd>0].sum():4d}) under {np.sum(dd<0):3d} ({dd[dd<0].sum():4d}) | uncal read {un[sel].mean():5.2f} mae {eu[sel].mean():4.2f}")
    if os.environ.get("DUMP"):
        for s, tt, a, u in zip(ss, t, o, un):
            print("   F", s.name, tt, a, u)
