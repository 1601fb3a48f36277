"""Per look, per frame (LenghuSky 2018-2020): rim_light, rises (whole, away) on the look's site ellipse, sky level,
regime, sun altitude, octas, starry. Cached as scratch/dp_<look>.npz."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "research")
import camera_shift  # noqa: E402

from cielo.sources.skycam import lens as lenses, night, regime  # noqa: E402
from cielo.sources.skycam.model import OctaModel  # noqa: E402
from models import skydata  # noqa: E402


def run(name, samples, site, circle):
    model = OctaModel(None)
    t, q = camera_shift.TRANSFORMS[name]
    frames, rows = [], []
    for s in samples:
        f = model.decode(camera_shift.shifted(s.jpeg, t, q, circle))
        lt = regime.light(s.extra["when"], *site)
        frames.append(f)
        rows.append((lt.regime, lt.sun_altitude, lt.moon_altitude if hasattr(lt, "moon_altitude") else np.nan))
    day = [f.lens for f, r in zip(frames, rows) if r[0] == regime.DAY and f.lens is not None and f.lens.found]
    med = [float(np.median([getattr(g, k) for g in day])) for k in ("cx", "cy", "rx", "ry")]
    out = {k: [] for k in ("rim", "whole", "away", "level", "mean", "clip")}
    for f in frames:
        geom = lenses.Lens(*med, f.pixels.shape[2], f.pixels.shape[1], True)
        r = night.rim_light(f.pixels, geom)
        out["rim"].append(np.nan if r is None else r)
        top = f.pixels.max(axis=0)
        valid = (geom.rho() <= lenses.OCTA_RADIUS) & (top < night.CLIPPED)
        w, a = night.rises(f.pixels, valid.astype(np.float32), geom)
        out["whole"].append(np.nan if w is None else w)
        out["away"].append(np.nan if a is None else a)
        lv = night.sky_level(f.pixels, geom)
        out["level"].append(np.nan if lv is None else lv)
        inside = geom.rho() <= lenses.OCTA_RADIUS
        out["mean"].append(float(top[inside].mean()))
        out["clip"].append(float((top[geom.rho() <= 1.0] >= 250).mean()))
    np.savez(f"scratch/dp_{name.replace(' ', '_').replace('%', '')}.npz",
             names=np.array([s.name for s in samples]), regime=np.array([r[0] for r in rows]),
             sun=np.array([r[1] for r in rows]), octas=np.array([s.octas for s in samples]),
             starry=np.array([bool(f.starry) for f in frames]), **{k: np.array(v) for k, v in out.items()})
    print(name, len(frames), med, flush=True)


if __name__ == "__main__":
    ss = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in ("2018", "2019", "2020")]
    for n in sys.argv[1].split(","):
        run(n, ss, skydata.LENGHU_SITE, camera_shift.LENGHU_CIRCLE)
