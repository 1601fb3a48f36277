"""TSI (DAY) blind through a look: per frame truth and read with the feed off, on (no test), on with the test."""
import os, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import model as M
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
day = os.environ.get("DAY", "20170524")
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if s.name[:8] == day]
t = np.array([s.octas for s in tsi])
tr, q = cs.TRANSFORMS[sys.argv[1]]
res = []
for feed, test in ((False, False), (True, False), (True, True)):
    M.FEED_WHITE_CLOUD, M.FEED_CLEAR_TEST = feed, test
    res.append(cs.octas(model, tsi, tr, q, cs.TSI_CIRCLE, skydata.TSI_SITE, False))
for i, s in enumerate(tsi):
    r = [int(x[i]) for x in res]
    if len(set(r)) > 1:
        print(s.name[8:14], "truth", t[i], "off/feed/test", r, f"frac {s.fraction:.3f}")
for name, r in zip(("off", "feed", "feed+test"), res):
    e = np.where(r >= 0, np.abs(r - t), 8)
    print(name, "MAE", e.mean().round(3), "clear(<=1) read over", int(((t <= 1) & (r > t)).sum()), "of", int((t <= 1).sum()))
