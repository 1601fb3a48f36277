"""Day frames with the sun under RIM_ALTITUDE, timed: read as shipped and with the frame's own surface off."""
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from models import skydata
from cielo.sources.skycam import regime, lens, lowsun
from cielo.sources.skycam import model as M
from cielo.sources.skycam.model import OctaModel
model = OctaModel(None)
orig = lens.maps
def nosurf(*a, **k):
    k["own_sky"] = False
    return orig(*a, **k)
sets = []
lg = [s for s in skydata.load_lenghu(Path('/work/data/lenghu')) if s.name[:4] in sys.argv[1].split(",")]
sets.append(("lenghu", lg, skydata.LENGHU_SITE))
if len(sys.argv) > 2:
    ts = [s for s in skydata.load_tsi(Path('/work/data/tsi')) if any(d in s.name for d in sys.argv[2].split(","))]
    sets.append(("tsi", ts, skydata.TSI_SITE))
for tag, ss, site in sets:
    ss = [s for s in ss if s.extra.get("when") is not None]
    ss = [s for s in ss if regime.light(s.extra["when"], *site).regime == regime.DAY
          and regime.light(s.extra["when"], *site).sun_altitude < float(sys.argv[3] if len(sys.argv) > 3 else 90)]
    fr = [model.decode(s.jpeg) for s in ss]
    wh = [s.extra["when"] for s in ss]
    a = model.judge(fr, wh, *site)
    M.lens.maps = nosurf
    b = model.judge(fr, wh, *site)
    M.lens.maps = orig
    for s, va, vb in zip(ss, a, b):
        mark = ""
        if s.octas <= 2 and (vb.octas or 0) > 2 and (va.octas or 0) <= 2: mark = "LOST"
        if s.octas >= 6 and (vb.octas or 0) >= 6 and (va.octas or 0) < 6: mark = "WON"
        if va.octas != vb.octas or mark:
            print(tag, s.name, "t", s.octas, "el %.1f" % va.sun_elevation, "read", va.octas, "->", vb.octas, mark)
    print(tag, len(ss), "frames")
