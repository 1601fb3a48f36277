"""LenghuSky-8 2021 (spent) through a look, calibrated on its own time halves (50 frames each, or all), in class."""
import dataclasses, sys
from pathlib import Path
sys.path.insert(0, "research")
import camera_shift, misreads  # noqa: E402
from cielo.sources.skycam import regime  # noqa: E402
from cielo.sources.skycam.model import OctaModel  # noqa: E402
from models import skydata  # noqa: E402
look = sys.argv[1]
model = OctaModel(None)
site = skydata.LENGHU_SITE
ss = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] == "2021"]
t, q = camera_shift.TRANSFORMS[look]
sh = [dataclasses.replace(s, jpeg=camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE)) for s in ss]
for cf in (50, None):
    out = misreads.calibrated_verdicts(model, sh, site, cf)
    keep = [(s, v) for s, v in zip(ss, out) if s.octas <= 2 or s.octas >= 6]
    ok = [(s, v) for s, v in keep if v.octas is not None and (v.octas <= 2 if s.octas <= 2 else v.octas >= 6)]
    reg = lambda s: regime.light(s.extra["when"], *site).regime
    day = [x for x in keep if reg(x[0]) == regime.DAY]
    dok = [x for x in ok if reg(x[0]) == regime.DAY]
    print(look, "cal", cf, f"{len(ok)}/{len(keep)} day {len(dok)}/{len(day)} night {len(ok)-len(dok)}/{len(keep)-len(day)}", flush=True)
