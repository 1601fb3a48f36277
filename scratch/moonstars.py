"""Moonlit frames: gate features and faint-star share against moon light, labels, calibrated reading."""
import sys, json
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
from models import skydata
from cielo.sources.skycam import regime, lens, night
from cielo.sources.skycam.model import OctaModel
model = OctaModel(None); site = skydata.LENGHU_SITE
res = json.loads(Path("scratch/calmiss.json").read_text())
rows = []
for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True):
    if s.name[:4] not in ("2018", "2019", "2020"):
        continue
    L = regime.light(s.extra["when"], *site)
    if L.regime != regime.MOONLIT:
        continue
    f = model.decode(s.jpeg)
    g = model.geometry(f, L)
    p, faint = night.gate(f, g)
    x, _ = night.features(f, g)
    fs = None
    if faint is not None:
        h, w = faint.shape
        area = g.scaled(w, h).rho() <= lens.OCTA_RADIUS if g.found else np.ones((h, w), bool)
        fs = float(faint[area & (f.bright < 250)].mean())
    tex = night.texture(f, g)
    ml = L.moon_illuminated * np.sin(np.radians(max(L.moon_altitude, 0)))
    rows.append(dict(name=s.name[:16], t=s.octas, ml=round(float(ml), 3), ill=round(L.moon_illuminated, 2), alt=round(L.moon_altitude, 1),
                     sun=round(L.sun_altitude, 1), p=round(p, 3), x=None if x is None else [round(v, 4) for v in x], fs=fs, tex=tex,
                     cal=res["all"][s.name][0], c50=res["50"][s.name][0]))
Path("scratch/moonstars.json").write_text(json.dumps(rows))
