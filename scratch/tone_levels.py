# scratch probe (tone21): per daylit LenghuSky frame, the clear-sky surface level (lens.surface_level) untransformed and through gamma 0.8 / 1.25; argv[1]: years
import sys, dataclasses
from pathlib import Path
sys.path.insert(0, "research")
import numpy as np, camera_shift
from models import skydata
from cielo.sources.skycam import regime, lens as lenses, calibration
from cielo.sources.skycam.model import OctaModel
model = OctaModel(None); site = skydata.LENGHU_SITE
ss = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in sys.argv[1].split(",")]
rows = []
for s in ss:
    li = regime.light(s.extra["when"], *site)
    if li.regime != regime.DAY: continue
    out = [s.name, s.octas, li.sun_altitude]
    for name in ("none", "gamma 0.8", "gamma 1.25"):
        t, q = camera_shift.TRANSFORMS[name]
        f = model.decode(camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE))
        geom = model.geometry(f, li)
        nrbr = calibration._planes([f])[0][0]
        m = lenses.maps(f.pixels, geom, lenses.Reference(zenith=0.14), geom.rho() <= 1.0, own_sky=False)
        lv = None
        if m.sun is not None and m.valid.any():
            lv = lenses.surface_level(nrbr, m.valid > 0, geom.rho(), lenses.sun_distance(geom, m.sun))
        out.append(lv)
    rows.append(out)
    print(*out, flush=True)
