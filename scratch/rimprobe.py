"""Per look, per frame: ln(1 + rise) (night.rim_light) on the look's site ellipse (median of its day frames' own
fits), the regime and the sun's altitude; cached as scratch/rim_<look>.npz. LenghuSky 2018-2020, TSI both days."""
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "research")
import camera_shift  # noqa: E402

from cielo.sources.skycam import lens as lenses, night, regime  # noqa: E402
from cielo.sources.skycam.model import OctaModel  # noqa: E402
from models import skydata  # noqa: E402


def run(name, samples, site, circle, tag):
    model = OctaModel(None)
    t, q = camera_shift.TRANSFORMS[name]
    frames, rows = [], []
    for s in samples:
        f = model.decode(camera_shift.shifted(s.jpeg, t, q, circle))
        lt = regime.light(s.extra["when"], *site)
        frames.append(f)
        rows.append((lt.regime, lt.sun_altitude))
    day = [f.lens for f, (r, _) in zip(frames, rows) if r == regime.DAY and f.lens is not None and f.lens.found]
    g0 = day[0]
    med = [float(np.median([getattr(g, k) for g in day])) for k in ("cx", "cy", "rx", "ry")]
    rims = []
    for f in frames:
        geom = lenses.Lens(*med, f.pixels.shape[2], f.pixels.shape[1], True)
        r = night.rim_light(f.pixels, geom)
        rims.append(np.nan if r is None else r)
    np.savez(f"scratch/rim_{tag}_{name.replace(' ', '_').replace('%', '')}.npz",
             names=np.array([s.name for s in samples]), regime=np.array([r for r, _ in rows]),
             sun=np.array([a for _, a in rows]), rim=np.array(rims), octas=np.array([s.octas for s in samples]),
             starry=np.array([bool(f.starry) for f in frames]))
    print(name, tag, len(frames), g0.width, med, flush=True)


if __name__ == "__main__":
    which = sys.argv[1]
    looks = sys.argv[2].split(",")
    if which == "lenghu":
        ss = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in ("2018", "2019", "2020")]
        for n in looks:
            run(n, ss, skydata.LENGHU_SITE, camera_shift.LENGHU_CIRCLE, "L")
    else:
        ss = skydata.load_tsi(Path("/work/data/tsi"))
        for n in looks:
            run(n, ss, skydata.TSI_SITE, camera_shift.TSI_CIRCLE, "T")
