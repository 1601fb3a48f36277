"""Untransformed TSI and LenghuSky halves, 50 frames by several picks: the cast each half's calibration reads (old rule
vs new: frame_cast flag, red cast taken without covers). Fit only."""
import os, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from bench import classify_regimes as cr
from models import skydata
from cielo.sources.skycam import calibration, regime
from cielo.sources.skycam.model import OctaModel, DARK_MEAN
model = OctaModel()
calibration.RED_UNCOVERED = os.environ.get("RED", "0") == "1"
sets = {"tsi": ([s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")], skydata.TSI_SITE, "hour"),
        "lenghu": ([s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if cs.part(s.name) in ("fit", "check")], skydata.LENGHU_SITE, "group")}
picks = [("even", 0, 0), ("random", 0, 1), ("random", 0, 2), ("window", 0.5, 0), ("window", 0.25, 0), ("window", 0.75, 0), ("window", 0.0, 0)]
for sname, (ss, site, block) in sets.items():
    frames = [model.decode(s.jpeg) for s in ss]
    whens = [s.extra["when"] for s in ss]
    regimes = np.array([regime.light(w, *site).regime for w in whens])
    a, b = skydata.time_halves(ss, block)
    index = {id(s): i for i, s in enumerate(ss)}
    for how, start, seed in picks:
        for hn, fh in enumerate((a, b)):
            fh = cr.pick(fh, 50, how, start, seed)
            keep = [index[id(s)] for s in fh if frames[index[id(s)]].brightness >= DARK_MEAN or frames[index[id(s)]].stars is not None]
            usable = [frames[i] for i in keep]
            if sum(f.brightness >= DARK_MEAN for f in usable) < calibration.MIN_FRAMES:
                print(sname, how, start, seed, hn, "too few"); continue
            daylit = [bool(regimes[i] == regime.DAY) for i in keep]
            cal = calibration.fit(usable, "half", float(model.reference.zenith), daylit, [whens[i] for i in keep])
            print(f"{sname} {how} start {start} seed {seed} half {hn}: cast {cal.cast:+.3f} frame_cast {cal.frame_cast}: {cal.found['cast']}", flush=True)
