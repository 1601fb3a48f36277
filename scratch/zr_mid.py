"""Low-sun day frames: zenith light over a middle band (0.45-0.7 of the lens radius) instead of the rim band, per look."""
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from models import skydata
from research import camera_shift as cs
from cielo.sources.skycam import regime, lowsun, lens
from cielo.sources.skycam.model import OctaModel
model = OctaModel(None)
def ratio(px, valid, geom, lo, hi):
    rho = geom.rho()
    darkest = np.minimum(np.minimum(px[0], px[1]), px[2])
    sky = (valid > 0) & (darkest < int(lens.SATURATED * 255))
    top, band = sky & (rho < 0.35), sky & (rho >= lo) & (rho < hi)
    if top.sum() < 20 or band.sum() < 20: return None
    light = px[0].astype(np.uint16) + px[1] + px[2]
    return float(np.median(light[top])) / max(float(np.median(light[band])), 1.0)
sets = [("lenghu", [s for s in skydata.load_lenghu(Path('/work/data/lenghu')) if s.name[:4] in ("2018", "2019", "2020")],
         skydata.LENGHU_SITE, cs.LENGHU_CIRCLE),
        ("tsi", [s for s in skydata.load_tsi(Path('/work/data/tsi')) if s.name[:8] in ("20170524", "20180418")],
         skydata.TSI_SITE, cs.TSI_CIRCLE)]
for look in sys.argv[1].split(","):
    t, q = cs.TRANSFORMS[look]
    for tag, ss, site, circ in sets:
        ss = [s for s in ss if regime.light(s.extra["when"], *site).regime == regime.DAY
              and regime.light(s.extra["when"], *site).sun_altitude < lowsun.RIM_ALTITUDE]
        fr = [model.decode(cs.shifted(s.jpeg, t, q, circ)) for s in ss]
        counted = {}
        vs = model.judge(fr, [s.extra["when"] for s in ss], *site, counted=counted)
        res = []
        for k, (s, v) in enumerate(zip(ss, vs)):
            if k not in counted: continue
            g, m, li = counted[k]
            f = model.as_read(fr[k], li)
            res.append((s.octas, v.octas, s.name[:16], ratio(f.pixels, m.valid, g, 0.6, 0.85), ratio(f.pixels, m.valid, g, 0.45, 0.7)))
        cl = [r for r in res if r[0] <= 2 and r[4]]
        ov = [r for r in res if r[0] >= 6 and r[4]]
        print(look, tag, "clear mid-ratio max", sorted([round(r[4], 3) for r in cl])[-4:], "rim max", sorted([round(r[3], 3) for r in cl if r[3]])[-3:])
        print("   overcast read<6:", [(r[2], round(r[3] or 0, 3), round(r[4], 3)) for r in ov if r[1] < 6])
        print("   overcast read>=6 mid min:", sorted([round(r[4], 3) for r in ov if r[1] >= 6])[:5])
