"""Twilight frames: exposure-level features against sun altitude, with labels, for a site-learned curve."""
import sys, json
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
from models import skydata
from cielo.sources.skycam import regime, lens
from cielo.sources.skycam.model import OctaModel
model = OctaModel(None); site = skydata.LENGHU_SITE
res = json.loads(Path("scratch/calmiss.json").read_text())
rows = []
for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True):
    if s.name[:4] not in ("2018", "2019", "2020"):
        continue
    L = regime.light(s.extra["when"], *site)
    if L.regime != regime.TWILIGHT and not (L.regime != regime.DAY and L.sun_altitude > -16):
        continue
    f = model.decode(s.jpeg)
    px = f.pixels.astype(np.float32)
    g = f.lens if f.lens is not None else lens.find_lens(f.pixels)
    rho = g.rho() if g.found else None
    top = px.max(0)
    zen = (rho < 0.3) if rho is not None else np.ones(top.shape, bool)
    sky = (rho < 0.85) if rho is not None else np.ones(top.shape, bool)
    nr = lens.nrbr(f.pixels)
    rows.append(dict(name=s.name[:16], t=s.octas, el=round(L.sun_altitude, 1), reg=L.regime[:4], b=round(f.brightness, 3),
                     zb=round(float(np.median(top[zen])) / 255, 3), sb=round(float(np.median(top[sky])) / 255, 3),
                     zn=round(float(np.median(nr[zen])), 3), p10=round(float(np.percentile(top[sky], 10)) / 255, 3),
                     cal=res["all"].get(s.name, [None])[0], c50=res["50"].get(s.name, [None])[0]))
Path("scratch/twifeat.json").write_text(json.dumps(rows))
for r in sorted(rows, key=lambda r: r["el"]):
    if 2 < r["t"] < 6: continue
    print(r)
