"""LenghuSky dev through a look, day halves calibrated on 50 frames: cast notes per half, and day frames moved by OWN."""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from bench import classify_regimes as cr
from models import skydata
from cielo.sources.skycam import calibration, regime, veil
from cielo.sources.skycam.model import OctaModel, DARK_MEAN
import cielo.sources.skycam.model as M
model = OctaModel()
site = skydata.LENGHU_SITE
lh = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if cs.part(s.name) in ("fit", "check")]
t = np.array([s.octas for s in lh])
for name in sys.argv[1:]:
    tr, q = cs.TRANSFORMS[name]
    ss = [dataclasses.replace(s, jpeg=cs.shifted(s.jpeg, tr, q, cs.LENGHU_CIRCLE)) for s in lh]
    frames = [model.decode(s.jpeg) for s in ss]
    whens = [s.extra["when"] for s in ss]
    regimes = np.array([regime.light(w, *site).regime for w in whens])
    a, b = skydata.time_halves(ss, "group")
    index = {id(s): i for i, s in enumerate(ss)}
    res = {}
    for own in (False, True):
        calibration.OWN_CAST = own
        o = np.full(len(ss), -9)
        for hn, (fh, sh) in enumerate(((a, b), (b, a))):
            fh = cr.pick(fh, 50)
            keep = [index[id(s)] for s in fh if frames[index[id(s)]].brightness >= DARK_MEAN or frames[index[id(s)]].stars is not None]
            usable = [frames[i] for i in keep]
            daylit = [bool(regimes[i] == regime.DAY) for i in keep]
            cal = calibration.fit(usable, "half", float(model.reference.zenith), daylit, [whens[i] for i in keep])
            calibration.learn_nights(cal, usable, [whens[i] for i in keep], *site)
            veil.learn(cal, model, usable, [whens[i] for i in keep], *site)
            if own:
                print(f"{name} half {hn}: cast {cal.cast:+.3f} thr {cal.sky_threshold:.3f} scale {cal.clear_scale}: {cal.found['cast']}")
            model.calibrate(cal)
            idx = [index[id(s)] for s in sh]
            v = model.judge([frames[i] for i in idx], [whens[i] for i in idx], *site)
            o[idx] = [-9 if x.octas is None else x.octas for x in v]
        model.calibrate(None)
        res[own] = o
    ok = lambda o: np.where(t <= 2, (o >= 0) & (o <= 2), o >= 6)
    for i in np.nonzero(res[False] != res[True])[0]:
        print(f"  {ss[i].name} {regimes[i]} truth {t[i]} {res[False][i]} -> {res[True][i]} {'' if ok(res[False])[i]==ok(res[True])[i] else ('WON' if ok(res[True])[i] else 'LOST')}")
