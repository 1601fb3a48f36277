"""Exposure x1.5: does the rim of the clipped blob joined to the sun (beyond SUN_GLARE) tell bloom from lit cloud?
Per frame, the median NRBR of the unclipped pixels just outside the joined blob's part beyond SUN_GLARE, by truth."""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens as L
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) == "fit"]
for name in sys.argv[1:]:
    tr, q = cs.TRANSFORMS[name]
    out = {}
    for s in tsi:
        f = model.decode(cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE))
        g = f.lens
        if g is None or not g.found:
            continue
        area = g.rho() <= L.OCTA_RADIUS
        m = L.maps(f.pixels, g, L.Reference(), None, own_sky=False, daylit=True)
        if m.sun is None:
            continue
        gam = L.sun_distance(g, m.sun)
        white = area & (f.pixels.min(axis=0) >= int(L.SATURATED * 255))
        joined = white & ~L.white_cloud(white, gam) & (gam > L.SUN_GLARE)
        if joined.sum() < 20:
            continue
        ring = L._grown(L._grown(joined)) & ~white & area
        if ring.sum() < 10:
            continue
        v = float(np.median(L.nrbr(f.pixels)[ring]))
        out.setdefault(min(s.octas, 3), []).append(v)
    print(name)
    for k in sorted(out):
        v = np.array(out[k])
        print(f"  truth {'3+' if k == 3 else k}: n {v.size:3d} rim NRBR p10 {np.percentile(v, 10):.3f} median {np.median(v):.3f} p90 {np.percentile(v, 90):.3f}")
