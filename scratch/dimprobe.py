"""dim21 probe: LenghuSky dark nights (2018-2019) untransformed vs a look: sky level, noise, star share, per ring."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "research"))
import camera_shift as cs

from cielo.sources.skycam import lens, regime
from cielo.sources.skycam.model import OctaModel
from models import skydata

look = sys.argv[2] if len(sys.argv) > 2 else "exposure x0.6"
years = ("2018", "2019")
model = OctaModel()
ss = [s for s in skydata.load_lenghu(Path(sys.argv[1]), twilight=True) if s.name[:4] in years]
lat, lon = skydata.LENGHU_SITE
dark = [s for s in ss if regime.light(s.extra["when"], lat, lon).regime == regime.DARK]
t, q = cs.TRANSFORMS[look]
rows = []
for s in dark:
    out = [s.name, s.octas]
    for jp in (s.jpeg, cs.shifted(s.jpeg, t, q, cs.LENGHU_CIRCLE)):
        f = model.decode(jp)
        g = f.lens if f.lens is not None else lens.find_lens(f.pixels)
        px = f.pixels
        b = px.max(axis=0) if px.shape[0] == 3 else px.max(axis=-1)
        rho = g.rho()
        sel = (rho < 0.75) & (b > 12)
        sky = float(np.median(b[sel])) if sel.any() else np.nan
        st = float(f.stars[rho < 0.75].mean()) if f.stars is not None else 0.0
        out += [sky, st]
    rows.append(out)
    print(f"{out[0]} true {out[1]} sky {out[2]:6.1f} -> {out[4]:6.1f}  "
          f"stars {out[3]*1000:5.1f} -> {out[5]*1000:5.1f} pm", flush=True)
a = np.array([[r[2], r[3], r[4], r[5]] for r in rows], dtype=float)
tr = np.array([r[1] for r in rows])
for nm, m in (("clear", tr <= 2), ("overcast", tr >= 6), ("all", tr >= 0)):
    x = a[m]
    print(nm, len(x), "sky med", np.median(x[:, 0]), "->", np.median(x[:, 2]),
          "ratio med", np.median(x[:, 2] / x[:, 0]),
          "stars med", np.median(x[:, 1]) * 1000, "->", np.median(x[:, 3]) * 1000)
