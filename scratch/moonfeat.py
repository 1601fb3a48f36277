"""Moonlit frames 2018-2019: exposure-level and colour features against the site's unlabelled median by moon light."""
import sys, json
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
from models import skydata
from cielo.sources.skycam import regime, lens
from cielo.sources.skycam.model import OctaModel
model = OctaModel(None); site = skydata.LENGHU_SITE
rows = []
for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True):
    if s.name[:4] not in ("2018", "2019", "2020"):
        continue
    L = regime.light(s.extra["when"], *site)
    if L.regime != regime.MOONLIT:
        continue
    f = model.decode(s.jpeg)
    g = f.lens if f.lens is not None else lens.find_lens(f.pixels)
    if not g.found: continue
    rho = g.rho(); top = f.pixels.max(0).astype(np.float32)
    sky = (rho < 0.75) & (top < 250) & (top > 12)
    nr = lens.nrbr(f.pixels)
    ml = L.moon_illuminated * np.sin(np.radians(max(L.moon_altitude, 0)))
    rows.append(dict(name=s.name[:16], t=s.octas, ml=round(float(ml), 3), ill=round(L.moon_illuminated, 2),
                     b=round(float(np.median(top[sky])) / 255, 3), p10=round(float(np.percentile(top[sky], 10) / np.median(top[sky])), 3),
                     zn=round(float(np.median(nr[sky])), 3)))
Path("scratch/moonfeat.json").write_text(json.dumps(rows))
tw = [r for r in rows if r["name"] < "2020"]
miss = {"2018-05-29-22-21", "2019-09-14-04-48", "2019-01-21-02-07"}
ml = np.array([r["ml"] for r in tw]); bins = np.digitize(ml, [0.1, 0.25, 0.4, 0.6])
for feat in ("b", "p10", "zn"):
    x = np.array([r[feat] for r in tw]); med = {k: np.median(x[bins == k]) for k in set(bins)}
    res = x - np.array([med[k] for k in bins])
    c = [res[i] for i in range(len(tw)) if tw[i]["t"] <= 2 and tw[i]["name"] not in miss]
    o = [res[i] for i in range(len(tw)) if tw[i]["t"] >= 6]
    m = [(tw[i]["name"], round(res[i], 3)) for i in range(len(tw)) if tw[i]["name"] in miss]
    print(feat, "clear read right %.3f..%.3f" % (min(c), max(c)), "overcast %.3f..%.3f q10/q90 %.3f/%.3f" % (min(o), max(o), np.percentile(o, 10), np.percentile(o, 90)), m)
