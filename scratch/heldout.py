"""Held out, once: LenghuSky-8 2021 and TSI 2018-04-19 through looks, each half calibrated on 50 frames of the
other (days / hours), BLUER_SPLIT off vs on. Not for choosing."""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from bench import classify_regimes as cr
from models import skydata
from cielo.sources.skycam import calibration, regime, veil
from cielo.sources.skycam.model import OctaModel, DARK_MEAN
model = OctaModel()
lh = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name.startswith("2021")]
ts = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if s.name.startswith("20180419")]
for look in sys.argv[1:]:
    tr, q = cs.TRANSFORMS[look]
    for sname, ss0, site, block, circle in (("lenghu2021", lh, skydata.LENGHU_SITE, "group", cs.LENGHU_CIRCLE),
                                            ("tsi20180419", ts, skydata.TSI_SITE, "hour", cs.TSI_CIRCLE)):
        ss = [dataclasses.replace(s, jpeg=cs.shifted(s.jpeg, tr, q, circle)) for s in ss0]
        t = np.array([s.octas for s in ss])
        frames = [model.decode(s.jpeg) for s in ss]
        whens = [s.extra["when"] for s in ss]
        regimes = np.array([regime.light(w, *site).regime for w in whens])
        a, b = skydata.time_halves(ss, block)
        index = {id(s): i for i, s in enumerate(ss)}
        out = []
        for on in (False, True):
            calibration.BLUER_SPLIT = on
            o = np.full(len(ss), -9)
            for fh, sh in ((a, b), (b, a)):
                fh = cr.pick(fh, 50)
                keep = [index[id(s)] for s in fh if frames[index[id(s)]].brightness >= DARK_MEAN or frames[index[id(s)]].stars is not None]
                usable = [frames[i] for i in keep]
                if sum(f.brightness >= DARK_MEAN for f in usable) < calibration.MIN_FRAMES:
                    continue
                daylit = [bool(regimes[i] == regime.DAY) for i in keep]
                cal = calibration.fit(usable, "half", float(model.reference.zenith), daylit, [whens[i] for i in keep])
                calibration.learn_nights(cal, usable, [whens[i] for i in keep], *site)
                veil.learn(cal, model, usable, [whens[i] for i in keep], *site)
                model.calibrate(cal)
                idx = [index[id(s)] for s in sh]
                v = model.judge([frames[i] for i in idx], [whens[i] for i in idx], *site)
                o[idx] = [-9 if x.octas is None else x.octas for x in v]
            model.calibrate(None)
            ok = np.where(t <= 2, (o >= 0) & (o <= 2), o >= 6)
            cls = (t <= 2) | (t >= 6)
            day = regimes == regime.DAY
            err = np.where(o >= 0, np.abs(o - t), 8)
            out.append(f"MAE {err.mean():.3f}, in class {int(ok[cls].sum())}/{int(cls.sum())} (day {int(ok[cls & day].sum())}/{int((cls & day).sum())})")
        print(f"{look:<15} {sname}: {out[0]} -> {out[1]}", flush=True)
