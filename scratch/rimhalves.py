"""The rim each of the bench's calibrations learns (LenghuSky 2018-2020 group halves, 50 frames even, as
research/camera_shift.py --calibrated --cal-frames 50), per look."""
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, "research")
import camera_shift  # noqa: E402

from bench.classify_regimes import fit_half, pick  # noqa: E402
from cielo.sources.skycam import regime  # noqa: E402
from cielo.sources.skycam.model import OctaModel  # noqa: E402
from models import skydata  # noqa: E402

model = OctaModel(None)
site = skydata.LENGHU_SITE
base = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in sys.argv[2].split(",")]
for name in sys.argv[1].split(","):
    t, q = camera_shift.TRANSFORMS[name]
    ss = [dataclasses.replace(s, jpeg=camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE)) for s in base]
    frames = [model.decode(s.jpeg) for s in ss]
    whens = [s.extra["when"] for s in ss]
    regs = [regime.light(w, *site).regime for w in whens]
    index = {id(s): i for i, s in enumerate(ss)}
    for half in skydata.time_halves(ss, "group"):
        for n in (50, None):
            idx = [index[id(s)] for s in (pick(half, n) if n else half)]
            cal = fit_half(model, frames, whens, regs, site, idx, float(model.reference.zenith))
            print(f"{name:<14} {n or 'all'}: {cal.found['night']['rim']}", flush=True)
