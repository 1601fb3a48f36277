"""Day frames with the sun 13.5-40 deg: lowsun.zenith_ratio by 5-degree band, clear max and overcast frames, per look."""
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from models import skydata
from research import camera_shift as cs
from cielo.sources.skycam import regime, lowsun
from cielo.sources.skycam.model import OctaModel
model = OctaModel(None)
years = sys.argv[2].split(",")
sets = [("lenghu", [s for s in skydata.load_lenghu(Path('/work/data/lenghu')) if s.name[:4] in years],
         skydata.LENGHU_SITE, cs.LENGHU_CIRCLE),
        ("tsi", [s for s in skydata.load_tsi(Path('/work/data/tsi')) if s.name[:8] in sys.argv[3].split(",")],
         skydata.TSI_SITE, cs.TSI_CIRCLE)]
for look in sys.argv[1].split(","):
    t, q = cs.TRANSFORMS[look]
    for tag, ss, site, circ in sets:
        ss = [s for s in ss if regime.light(s.extra["when"], *site).regime == regime.DAY
              and 13.5 <= regime.light(s.extra["when"], *site).sun_altitude < 40]
        fr = [model.decode(cs.shifted(s.jpeg, t, q, circ)) for s in ss]
        counted = {}
        vs = model.judge(fr, [s.extra["when"] for s in ss], *site, counted=counted)
        rows = []
        for k, (s, v) in enumerate(zip(ss, vs)):
            if k not in counted: continue
            g, m, li = counted[k]
            zr = lowsun.zenith_ratio(model.as_read(fr[k], li).pixels, m.valid, g)
            rows.append((v.sun_elevation, s.octas, v.octas, zr, s.name[:16]))
        for lo in (13.5, 20):
            b = [r for r in rows if lo <= r[0] < (lo + 5 if lo > 14 else 20) and r[3] is not None]
            cl = sorted(round(r[3], 3) for r in b if r[1] <= 2)
            mid = sorted((round(r[3], 3), r[1], r[2]) for r in b if 2 < r[1] < 6)
            ovm = [(r[4], round(r[3], 3), r[2]) for r in b if r[1] >= 6 and r[2] < 6]
            ovr = sorted(round(r[3], 3) for r in b if r[1] >= 6 and r[2] >= 6)
            print(look, tag, lo, "clear n", len(cl), "max", cl[-3:], "top el", sorted((round(r[3],3), round(r[0],1)) for r in b if r[1] <= 2)[-2:], "| mid top", mid[-2:], "| over<6", ovm, "| over>=6 n", len(ovr), "min", ovr[:2])
