"""LenghuSky dev (2018-2020, camera_shift's day-group halves) through looks: each 50-frame half's threshold note
(the pooled split and its class contrast) and clear_sky_blue. usage: lhsplit.py LOOK..."""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from bench import classify_regimes as cr
from models import skydata
from cielo.sources.skycam import calibration, regime
from cielo.sources.skycam.model import OctaModel, DARK_MEAN
model = OctaModel()
site = skydata.LENGHU_SITE
lh = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if cs.part(s.name) in ("fit", "check")]
for name in sys.argv[1:]:
    tr, q = cs.TRANSFORMS[name]
    ss = [dataclasses.replace(s, jpeg=cs.shifted(s.jpeg, tr, q, cs.LENGHU_CIRCLE)) for s in lh]
    frames = [model.decode(s.jpeg) for s in ss]
    whens = [s.extra["when"] for s in ss]
    regimes = np.array([regime.light(w, *site).regime for w in whens])
    index = {id(s): i for i, s in enumerate(ss)}
    sets = {"halves": skydata.time_halves(ss, "group")}
    for lab, hs in sets.items():
        for hn, fh in enumerate(hs):
            for pk, fr in (("50", cr.pick(fh, 50)), ("all", fh)):
                keep = [index[id(s)] for s in fr if frames[index[id(s)]].brightness >= DARK_MEAN or frames[index[id(s)]].stars is not None]
                cal = calibration.fit([frames[i] for i in keep], "h", float(model.reference.zenith), [bool(regimes[i] == regime.DAY) for i in keep], [whens[i] for i in keep])
                print(name, lab, hn, pk, "thr", cal.sky_threshold, "scale", cal.clear_scale, "|", cal.found["threshold"][:140], "|", cal.found["clear_sky_blue"][:100], flush=True)
