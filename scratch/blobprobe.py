"""glare23: per frame (TSI day through a look, timed, uncalibrated), what lens.glare_cloud sees of each blob region:
size, border counted, border grey (GREY_EDGE under), grey and bright (max >= BRIGHT), mean max of the grey ones.
usage: blobprobe.py DAY LOOK"""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens, regime
from cielo.sources.skycam.model import OctaModel
day, look = sys.argv[1], sys.argv[2]
model = OctaModel()
site = skydata.TSI_SITE
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if s.name.startswith(day)]
tr, q = cs.TRANSFORMS[look]
rec = []
orig = lens.glare_cloud
def spy(px, blob, thr, counted_):
    out = orig(px, blob, thr, counted_)
    region = lens._regions(blob)
    grown = region
    for _ in range(lens.GREY_STEPS):
        g = grown.copy()
        np.maximum(g[1:], grown[:-1], out=g[1:]); np.maximum(g[:-1], grown[1:], out=g[:-1])
        np.maximum(g[:, 1:], grown[:, :-1], out=g[:, 1:]); np.maximum(g[:, :-1], grown[:, 1:], out=g[:, :-1])
        grown = np.where(region > 0, region, g)
    ring = (grown > 0) & (region == 0) & counted_
    r, b = px[0], px[2]
    ex = (b - r) / (b + r + 1e-6) - thr
    mx = px.max(axis=0)
    for lab in np.unique(region[region > 0]):
        rr = ring & (grown == lab)
        n = int((region == lab).sum())
        if n < 5: continue
        grey = rr & (ex <= -lens.GREY_EDGE)
        rec.append((n, int(rr.sum()), int(grey.sum()), int((grey & (mx >= 0.8)).sum()),
                    float(mx[grey].mean()) if grey.any() else -1, float(np.median(ex[rr])) if rr.any() else 9,
                    bool(out[region == lab].any())))
    return out
lens.glare_cloud = spy
for s in tsi:
    jpeg = cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE)
    f = model.decode(jpeg)
    w = s.extra["when"]
    rec.clear()
    v = model.judge([f], [w], *site)[0]
    for r in rec:
        print(s.name, "truth", s.octas, "read", v.octas, "region n %d ring %d grey %d greybright %d greymax %.2f exmed %+.3f kept %s" % r)
