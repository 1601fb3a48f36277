import sys, numpy as np
from pathlib import Path
sys.path.insert(0, "research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens, calibration as C
lenses = lens
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
ss = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if s.name in ("20170524120200", "20170524121700")]
for s in ss:
    for look in ("none", "wb warm"):
        tr, q = cs.TRANSFORMS[look]
        f = model.decode(cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE)); g = model.geometry(f)
        print("   lens", round(g.cx), round(g.cy), round(g.rx), round(g.ry), g.found)
        px = f.pixels; rho = g.rho(); bright = px.max(axis=0)
        area = (rho <= lenses.OCTA_RADIUS) & ~f.not_sky() & (bright >= 64) & (bright < 250)
        v = lens.nrbr(px[:, area]); red = v < -0.3
        print(s.name, look, "n", area.sum(), "red share", round(red.mean(), 4), "their rho", np.round(np.percentile(rho[area][red], [5, 50, 95]), 2) if red.any() else "-",
              "their mean RGB", np.round(px[:, area][:, red].mean(axis=1)) if red.any() else "-", "bright", np.round(np.percentile(bright[area][red],[5,50,95])) if red.any() else "-")
        near = (rho <= lenses.OCTA_RADIUS) & ~f.not_sky() & (bright >= 58) & (bright < 64)
        print("    just under the lit bar:", near.sum(), "their NRBR median", round(float(np.median(lens.nrbr(px[:, near]))), 3) if near.any() else "-")
