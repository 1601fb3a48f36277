"""RIM_BANDS_REF: LenghuSky 2018-2019 frames' rim_light per band on a calibration fitted on all of 2018-2019, as
learn_nights measures them (the site's ellipse and mask, the cast undone)."""
import collections
from pathlib import Path

import numpy as np

from bench.classify_regimes import fit_half
from cielo.sources.skycam import lens as lenses, night, regime
from cielo.sources.skycam.calibration import uncast_frame
from cielo.sources.skycam.model import OctaModel
from models import skydata

model = OctaModel(None)
site = skydata.LENGHU_SITE
ss = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in ("2018", "2019")]
frames = [model.decode(s.jpeg) for s in ss]
whens = [s.extra["when"] for s in ss]
lights = [regime.light(w, *site) for w in whens]
cal = fit_half(model, frames, whens, [lt.regime for lt in lights], site, list(range(len(ss))),
               float(model.reference.zenith))
geom = lenses.Lens.from_dict(cal.lens, cal.width, cal.height)
by = collections.defaultdict(list)
for f, lt in zip(frames, lights):
    r = night.rim_light(uncast_frame(f, cal.cast).pixels, geom, cal.mask)
    if r is not None:
        by[night.rim_band(lt.regime, lt.sun_altitude)].append(r)
print({k: (round(float(np.median(v)), 3), len(v)) for k, v in sorted(by.items())})
print("cal night rim:", cal.night.rim if cal.night else None, cal.found["night"]["rim"])
