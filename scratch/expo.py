"""TSI chose day through exposure x1.5 vs none: per cloudy frame (truth 2-6), the octa area's share that is white
clipped, the share of it joined to the sun's glare (left out), the valid share, and the read (uncalibrated, timed)."""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens as L
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if s.name[:8] == os.environ.get("DAY", "20170524") and 2 <= s.octas <= 6]
for name in ("none", "exposure x1.5"):
    tr, q = cs.TRANSFORMS[name]
    ss = [dataclasses.replace(s, jpeg=cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE)) for s in tsi]
    frames = [model.decode(s.jpeg) for s in ss]
    v = model.judge(frames, [s.extra["when"] for s in ss], *skydata.TSI_SITE)
    rows = []
    for s, f, x in zip(ss, frames, v):
        px = f.pixels.astype(np.int16)
        g = f.lens
        rho = g.rho(); area = rho <= L.OCTA_RADIUS
        darkest = px.min(axis=0)
        white = area & (darkest >= int(L.SATURATED * 255))
        m = L.maps(f.pixels, g, L.Reference(), None, own_sky=False, daylit=True) if True else None
        sun = m.sun
        cl = 0.0
        if sun is not None:
            gam = L.sun_distance(g, sun)
            cl = float((white & ~L.white_cloud(white, gam)).sum() / area.sum())
        rows.append((s.name[9:15], s.octas, x.octas, round(float(white.sum() / area.sum()), 3), round(cl, 3), round(float(m.valid[area].mean()), 3)))
    print(name)
    for r in rows:
        print("  ", *r)
