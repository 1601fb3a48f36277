"""glare23: the untransformed TSI dev frames whose calibrated verdict lens.glare_cloud moves (the bench's own halves,
all frames and 50), with their truth."""
import os, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd())
from bench import classify_regimes as cr
from models import skydata
from cielo.sources.skycam import model as M
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
ss = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if not cr.held_out(s.name)]
frames = [model.decode(s.jpeg) for s in ss]
got = {}
orig = cr.judge
def spy(model_, fr, wh, site):
    out = orig(model_, fr, wh, site)
    got.setdefault("calls", []).append((fr, out))
    return out
cr.judge = spy
for cf in (None, 50):
    res = {}
    for flag in (False, True):
        M.GLARE_CLOUD_TEST = flag
        got.clear()
        cr.evaluate(model, ss, skydata.TSI_SITE, "hour", None, cf, frames=frames, modes=("timed",))
        o = {}
        for fr, (oct_, c, u) in got["calls"][1:]:  # the calibrated halves
            for f, x, cc in zip(fr, oct_, c):
                o[id(f)] = (int(x), float(cc))
        res[flag] = o
    for s, f in zip(ss, frames):
        a, b = res[False][id(f)], res[True][id(f)]
        if a[0] != b[0]:
            print("cal", cf or "all", s.name, "truth", s.octas, "read", a[0], "->", b[0], "conf %.2f -> %.2f" % (a[1], b[1]))
