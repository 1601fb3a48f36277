"""Is the judge's overlap the frame's own lens or the model's size? The lift at model size on the look's true
circle against the frame's own lens (TSI chose and check, session 20, veilglare20)."""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "research"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import camera_shift as cs  # noqa: E402
from models import skydata  # noqa: E402

from cielo.sources.skycam.model import OctaModel  # noqa: E402


def lift(px, rho):
    lum = px.astype(np.float32).mean(axis=0)
    return float(np.percentile(lum[rho < 0.97], 0.5) / max(float(np.median(lum[rho < 0.8])), 1.0))


model = OctaModel()
rows = []
for s in [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")]:
    for look in ("none", "dusty dome", "dusty dome (sun in lens)"):
        t, q = cs.TRANSFORMS[look]
        f = model.decode(cs.shifted(s.jpeg, t, q, cs.TSI_CIRCLE))
        _, h, w = f.pixels.shape
        yy, xx = np.mgrid[0:h, 0:w]
        # the frame is 480 x 640 before the model's resize
        true_rho = np.hypot((xx + 0.5) / w - 0.5, ((yy + 0.5) / h - 0.5) * 640 / 480) / cs.TSI_CIRCLE[2]
        rows.append(dict(part=cs.part(s.name), t=int(s.octas), look=look, own=lift(f.pixels, model.geometry(f).rho()),
                         true=lift(f.pixels, true_rho)))
json.dump(rows, open("/tmp/vg20_liftlens.json", "w"))
