"""LenghuSky-8 2018-2020 frames (every light, every octa) whose answer haze.pale moves, per look, timed and blind
(off: PALE_SIDE below any ratio). pale_moved.py LOOKS"""
import sys
from pathlib import Path
import numpy as np
R = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(R / "research"), str(R)]
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import haze
from cielo.sources.skycam.model import OctaModel

model = OctaModel()
ss = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in ("2018", "2019", "2020")]
keep = haze.PALE_SIDE
for name in sys.argv[1].split(","):
    tr, q = cs.TRANSFORMS[name]
    res = {}
    for on in (False, True):
        haze.PALE_SIDE = keep if on else -1.0
        res[on] = cs.octas(model, ss, tr, q, cs.LENGHU_CIRCLE, skydata.LENGHU_SITE, True, blind_too=True)
    for j, mode in enumerate(("timed", "blind")):
        a, b = res[False][j], res[True][j]
        for i in np.flatnonzero(a != b):
            s = ss[i]
            ok = lambda o: o >= 0 and (o <= 2 if s.octas <= 2 else o >= 6) if s.octas <= 2 or s.octas >= 6 else None
            print(f"{name:12s} {mode} {s.name} truth {s.octas}: {a[i]} -> {b[i]}  in class {ok(a[i])} -> {ok(b[i])}",
                  flush=True)
