"""Low-sun day frames: lowsun.zenith_ratio per truth class, through a few camera looks (timed, uncalibrated)."""
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from models import skydata
from research import camera_shift as cs
from cielo.sources.skycam import regime, lowsun
from cielo.sources.skycam.model import OctaModel
model = OctaModel(None)
looks = sys.argv[1].split(",")
sets = [("lenghu", [s for s in skydata.load_lenghu(Path('/work/data/lenghu')) if s.name[:4] in ("2018", "2019", "2020")],
         skydata.LENGHU_SITE, cs.LENGHU_CIRCLE),
        ("tsi", [s for s in skydata.load_tsi(Path('/work/data/tsi')) if s.name[:8] in ("20170524", "20180418")],
         skydata.TSI_SITE, cs.TSI_CIRCLE)]
for look in looks:
    t, q = cs.TRANSFORMS[look]
    for tag, ss, site, circ in sets:
        ss = [s for s in ss if regime.light(s.extra["when"], *site).regime == regime.DAY
              and regime.light(s.extra["when"], *site).sun_altitude < lowsun.RIM_ALTITUDE]
        fr = [model.decode(cs.shifted(s.jpeg, t, q, circ)) for s in ss]
        counted = {}
        vs = model.judge(fr, [s.extra["when"] for s in ss], *site, counted=counted)
        out = {"clear": [], "mid": [], "over": []}
        for k, (s, v) in enumerate(zip(ss, vs)):
            if k not in counted:
                continue
            g, m, li = counted[k]
            f = model.as_read(fr[k], li)
            zr = lowsun.zenith_ratio(f.pixels, m.valid, g)
            cls = "clear" if s.octas <= 2 else ("over" if s.octas >= 6 else "mid")
            out[cls].append((round(zr, 3) if zr else None, s.name[:16], v.octas))
        for cls in out:
            vals = sorted([o for o in out[cls] if o[0] is not None], reverse=True)
            print(look, tag, cls, len(out[cls]), vals[:6] if cls != "over" else [o for o in vals if o[2] < 6 or o[0] < 1.2][:12])
