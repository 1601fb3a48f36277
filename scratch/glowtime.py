"""Time lens.glow_white on real fed masks (TSI 2017-05-24 through a look, blind): median and p90 ms per frame with
any fed pixel, and how many regions / pixels it keeps out."""
import os, sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens as L, model as M
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
tr, q = cs.TRANSFORMS[sys.argv[1]]
day = sys.argv[2] if len(sys.argv) > 2 else "20170524"
samples = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if s.name[:8] == day]
ts, kept, tot = [], 0, 0
for s in samples:
    f = model.decode(cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE))
    out = []
    model.predict([f], None, maps_out=out)
    g, m = out[0]
    d = f.pixels.min(axis=0)
    valid = m.valid > 0
    fed = valid & (d >= 245)
    if not fed.any():
        continue
    unc = (d >= 239) & ~valid
    t = time.perf_counter()
    for _ in range(5):
        drop = L.glow_white(fed, unc)
    ts.append((time.perf_counter() - t) / 5 * 1000)
    kept += int(drop.sum()); tot += int(fed.sum())
print(f"{sys.argv[1]} {day}: {len(ts)} frames with fed pixels, glow_white median {np.median(ts):.3f} ms p90 {np.percentile(ts, 90):.3f} max {max(ts):.3f}; kept out {kept}/{tot} px")
