"""Where _envelope's time goes on real TSI frames (scratch, session 22)."""
import timeit
from pathlib import Path

import numpy as np

from cielo.sources.skycam import lens
from cielo.sources.skycam.model import OctaModel
from models import skydata


def ms(f, n=300):
    return timeit.timeit(f, number=n) / n * 1e3


m = OctaModel(None)
for smp in skydata.load_tsi(Path('/work/data/tsi'), step=50)[::8][:5]:
    f = m.decode(smp.jpeg)
    seen = lens.counted(f.pixels, f.lens, None, False, bloom=True)
    if seen.gam is None:
        continue
    nrbr, valid, rho, gam = seen.ratio(), seen.valid, seen.rho, seen.gam
    cols = [np.ones_like(rho), rho * rho, np.exp(-gam / np.float32(lens.SURFACE_SUN_SCALE))]
    fit_on = np.zeros_like(valid)
    fit_on[::2, ::2] = valid[::2, ::2]
    a = np.stack([c[fit_on] for c in cols], axis=1).astype(np.float64)
    y = nrbr[fit_on].astype(np.float64)
    keep = y > 0.05
    ak = a[keep]
    coef = np.linalg.solve(ak.T @ ak, ak.T @ y[keep])
    fit = a @ coef
    print(len(y), f"env {ms(lambda: lens._envelope(nrbr, valid, rho, gam)):.3f}",
          f"cols {ms(lambda: [np.ones_like(rho), rho * rho, np.exp(-gam / np.float32(lens.SURFACE_SUN_SCALE))]):.3f}",
          f"a {ms(lambda: np.stack([c[fit_on] for c in cols], axis=1).astype(np.float64)):.3f}",
          f"ak {ms(lambda: a[keep]):.3f} gram {ms(lambda: (ak.T @ ak, ak.T @ y[keep])):.3f}",
          f"solve {ms(lambda: np.linalg.solve(ak.T @ ak, ak.T @ y[keep])):.3f} fit {ms(lambda: a @ coef):.3f}",
          f"keep {ms(lambda: y > fit - lens.SURFACE_MARGIN):.3f} q {ms(lambda: np.quantile(fit, 0.9)):.3f}")
