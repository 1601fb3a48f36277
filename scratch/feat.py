"""Dump per-frame blind cast features: TSI fit/check and LenghuSky 2018-2020 (no held-out), none and wb warm."""
import sys, pickle, numpy as np
from pathlib import Path
sys.path.insert(0, "research")
import camera_shift as cs
from models import skydata
from bench.classify_regimes import held_out
from cielo.sources.skycam import regime
from cielo.sources.skycam import calibration as C, daylight, lens
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")]
lh = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if not held_out(s.name)]
rows = []
for set_, ss, circle, site in (("tsi", tsi, cs.TSI_CIRCLE, skydata.TSI_SITE), ("lh", lh, cs.LENGHU_CIRCLE, skydata.LENGHU_SITE)):
    for look in ("none", "wb warm"):
        tr, q = cs.TRANSFORMS[look]
        for s in ss:
            f = model.decode(cs.shifted(s.jpeg, tr, q, circle))
            g = model.geometry(f)
            lv = C.cast_levels(f.pixels, g, f.not_sky())
            li = regime.light(s.extra["when"], *site)
            up = daylight.seen(f.pixels, g, f.bright)
            # directional: NRBR quantiles over the lit octa area, and the zenith's
            extra = {}
            if g.found:
                rho = g.rho(); area = (rho <= lens.OCTA_RADIUS) & ~f.not_sky()
                v = lens.nrbr(f.pixels[:, area]); zen = lens.nrbr(f.pixels[:, (rho <= 0.3) & ~f.not_sky()])
                extra = dict(p50=float(np.median(v)), p90=float(np.percentile(v, 90)), p98=float(np.percentile(v, 98)),
                             zen=float(np.median(zen)) if zen.size else np.nan)
            rows.append(dict(set=set_, look=look, name=s.name, part=cs.part(s.name), t=s.octas, sun=li.sun_altitude,
                             reg=li.regime, lv=lv, bright=f.brightness, starry=f.starry, seen=up, **extra))
        print(set_, look, len(rows), flush=True)
pickle.dump(rows, open("scratch/feat.pkl", "wb"))
