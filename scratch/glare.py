"""TSI dev through none / exposure x1.5: per frame, how far (lens radii from the sun) the clipped glare blob joined to
the sun reaches (its 95th percentile distance), by truth class: is a site's bloom reach learnable from its frames?"""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens as L
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")]
for name in sys.argv[1:]:
    tr, q = cs.TRANSFORMS[name]
    out = {}
    for s in tsi:
        f = model.decode(cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE))
        g = f.lens
        if g is None or not g.found:
            continue
        area = g.rho() <= L.OCTA_RADIUS
        darkest = f.pixels.min(axis=0)
        m = L.maps(f.pixels, g, L.Reference(), None, own_sky=False, daylit=True)
        if m.sun is None:
            continue
        gam = L.sun_distance(g, m.sun)
        white = area & (darkest >= int(L.SATURATED * 255))
        joined = white & ~L.white_cloud(white, gam) & (gam > L.SUN_GLARE)
        reach = float(np.percentile(gam[joined], 95)) if joined.sum() > 5 else L.SUN_GLARE
        out.setdefault((s.name[:8], min(s.octas, 3)), []).append(reach)
    print(name)
    for k in sorted(out):
        v = np.array(out[k])
        print(f"  {k[0]} truth {'3+' if k[1] == 3 else k[1]}: n {v.size:3d} reach median {np.median(v):.2f} p75 {np.percentile(v, 75):.2f} p90 {np.percentile(v, 90):.2f} max {v.max():.2f}")
