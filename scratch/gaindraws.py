"""dim21: night.site_gain's estimate over 50-frame draws of LenghuSky (random and consecutive in time), per look:
each dark frame's sky level (night.sky_level on the frame's own lens), the median over a draw's dark frames against
REF_DARK_SKY. Usage: gaindraws.py LENGHU_DIR [--years 2018,2019] [--draws 1000]"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "research"))
import camera_shift as cs

from cielo.sources.skycam import lens, regime
from cielo.sources.skycam import night as nights
from cielo.sources.skycam.model import OctaModel
from models import skydata

p = argparse.ArgumentParser()
p.add_argument("lenghu", type=Path)
p.add_argument("--years", default="2018,2019")
p.add_argument("--draws", type=int, default=1000)
p.add_argument("--looks", default="none,exposure x0.6,exposure x1.5,gamma 0.8,gamma 1.25,vignette 30%")
a = p.parse_args()
years = tuple(a.years.split(","))
model = OctaModel()
ss = sorted((s for s in skydata.load_lenghu(a.lenghu, twilight=True) if s.name[:4] in years),
            key=lambda s: s.extra["when"])
lat, lon = skydata.LENGHU_SITE
dark = np.array([regime.light(s.extra["when"], lat, lon).regime == regime.DARK for s in ss])
rng = np.random.default_rng(21)
n = len(ss)
randoms = [rng.choice(n, 50, replace=False) for _ in range(a.draws)]
runs = [np.arange(st, st + 50) for st in rng.integers(0, n - 50, a.draws)]
print(f"{n} frames, {dark.sum()} dark; draws {a.draws}")
for look in a.looks.split(","):
    t, q = cs.TRANSFORMS[look]
    level = np.full(n, np.nan)
    for i in np.flatnonzero(dark):
        f = model.decode(cs.shifted(ss[i].jpeg, t, q, cs.LENGHU_CIRCLE))
        g = f.lens if f.lens is not None else lens.find_lens(f.pixels)
        v = nights.sky_level(f.pixels, g)
        level[i] = np.nan if v is None else v
    cells = []
    for draws in (randoms, runs):
        est = []
        for d in draws:
            v = level[d][~np.isnan(level[d])]
            est.append(np.median(v) / nights.REF_DARK_SKY if len(v) >= nights.MIN_GAIN_FRAMES else np.nan)
        e = np.array(est)
        ok = e[~np.isnan(e)]
        cells.append(f"{np.median(ok):.3f} ({np.percentile(ok, 5):.3f}..{np.percentile(ok, 95):.3f}) "
                     f"learned {len(ok) / len(e):.0%}, under {nights.GAIN_BAR} {np.mean(ok < nights.GAIN_BAR):.1%}")
    allv = level[~np.isnan(level)]
    print(f"{look:<15} all dark {np.median(allv) / nights.REF_DARK_SKY:.3f} | random {cells[0]} | "
          f"consecutive {cells[1]}", flush=True)
