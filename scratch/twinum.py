"""Twilight frames (2018-2020), none and dusty dome, site ellipse: NRBR spread 10-90, light spread/median, rises."""
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, "research")
import camera_shift  # noqa: E402
from cielo.sources.skycam import lens as lenses, night, regime  # noqa: E402
from cielo.sources.skycam.model import OctaModel  # noqa: E402
from models import skydata  # noqa: E402
ss = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in ("2018", "2019", "2020")]
ss = [s for s in ss if regime.light(s.extra["when"], *skydata.LENGHU_SITE).regime == regime.TWILIGHT and (s.octas <= 2 or s.octas >= 6)]
model = OctaModel(None)
med = [78.7, 60.4, 68.4, 51.4]
rows = []
for name in ("none", "dusty dome"):
    t, q = camera_shift.TRANSFORMS[name]
    for s in ss:
        f = model.decode(camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE))
        geom = lenses.Lens(*med, f.pixels.shape[2], f.pixels.shape[1], True)
        px = f.pixels
        top = px.max(axis=0)
        valid = (geom.rho() <= lenses.OCTA_RADIUS) & (top < night.CLIPPED) & (top > 8)
        lo, hi = np.percentile(lenses.nrbr(px)[valid], [10, 90])
        dim, mid, lit = np.percentile(top[valid].astype(float), [10, 50, 90])
        w, a = night.rises(px, valid.astype(np.float32), geom)
        rows.append((name, s.name, s.octas, hi - lo, (lit - dim) / max(mid, 1), w, a))
import pickle
pickle.dump(rows, open("scratch/twinum.pkl", "wb"))
for r in rows:
    print(f"{r[0][:5]} {r[1]} true {r[2]} nrbr_spread {r[3]:.3f} light {r[4]:.2f} rises {r[5]} {r[6]}")
