"""The gate both rules share (calibration clear_scale < 1) over the reference's own 50-frame draws, per year group:
the two time halves x (even, 8 windows, 50 random seeds); fit_half as the bench (learn_nights included: the rim)."""
import sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, "research")
import camera_shift  # noqa: E402
import dataclasses  # noqa: E402
from bench.classify_regimes import fit_half, pick  # noqa: E402
from cielo.sources.skycam import regime  # noqa: E402
from cielo.sources.skycam.model import OctaModel  # noqa: E402
from models import skydata  # noqa: E402

look = sys.argv[1] if len(sys.argv) > 1 else "none"
model = OctaModel(None)
site = skydata.LENGHU_SITE
for years in (("2018", "2019"), ("2020",)):
    samples = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in years]
    if look != "none":
        t, q = camera_shift.TRANSFORMS[look]
        samples = [dataclasses.replace(s, jpeg=camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE)) for s in samples]
    frames = [model.decode(s.jpeg) for s in samples]
    whens = [s.extra["when"] for s in samples]
    regimes = [regime.light(w, *site).regime for w in whens]
    index = {id(s): i for i, s in enumerate(samples)}
    fires, rims, scales, n = 0, [], [], 0
    t0 = time.time()
    for half in skydata.time_halves(samples, "group"):
        draws = [pick(half, 50)] + [pick(half, 50, "window", k / 8) for k in range(8)] + \
                [pick(half, 50, "random", seed=k) for k in range(50)]
        for d in draws:
            cal = fit_half(model, frames, whens, regimes, site, [index[id(s)] for s in d], float(model.reference.zenith))
            n += 1
            if cal is None:
                continue
            scales.append(cal.clear_scale)
            if cal.clear_paler:
                fires += 1
                print('   FIRE', round(cal.clear_scale, 3), cal.found['clear_sky_blue'][:260], '| rim', None if cal.night is None else cal.night.rim, flush=True)
            rims.append(np.nan if cal.night is None or cal.night.rim is None else cal.night.rim)
    rims = np.array(rims)
    print(look, years, f"draws {n}, fitted {len(scales)}, clear_paler: {fires}, scale range {min(scales):.2f}..{max(scales):.2f},"
          f" rim learned {np.count_nonzero(~np.isnan(rims))} ({np.nanmin(rims) if np.any(~np.isnan(rims)) else float('nan'):.3f}..), {time.time()-t0:.0f}s", flush=True)
