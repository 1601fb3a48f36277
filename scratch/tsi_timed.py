"""TSI (chose 2017-05-24 / check 2018-04-18) judged with the time known, uncalibrated, per look, haze.pale on and off
(off: PALE_SIDE below any ratio): MAE, within one, and the frames the rule moved. tsi_timed.py LOOKS"""
import sys
from pathlib import Path
import numpy as np
R = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(R / "research"), str(R)]
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import haze
from cielo.sources.skycam.model import OctaModel

looks = sys.argv[1].split(",") if len(sys.argv) > 1 else ["none", "dusty dome", "dusty dome (sun in lens)"]
model = OctaModel()
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")]
parts = np.array([cs.part(s.name) for s in tsi])
t = np.array([s.octas for s in tsi])
keep = haze.PALE_SIDE
for name in looks:
    tr, q = cs.TRANSFORMS[name]
    res = {}
    for on in (False, True):
        haze.PALE_SIDE = keep if on else -1.0
        for timed in (True, False):
            res[on, timed] = cs.octas(model, tsi, tr, q, cs.TSI_CIRCLE, skydata.TSI_SITE, timed)
    for timed in (True, False):
        cells = []
        for on in (False, True):
            o = res[on, timed]
            e = np.where(o >= 0, np.abs(o - t), 8)
            cells.append(" / ".join(f"{e[parts == p].mean():.3f}" for p in ("fit", "check")))
        moved = [(tsi[i].name, int(t[i]), int(res[False, timed][i]), int(res[True, timed][i]))
                 for i in np.flatnonzero(res[False, timed] != res[True, timed])]
        print(f"{name:26s} {'timed' if timed else 'blind'}: off {cells[0]}  on {cells[1]}  moved {len(moved)} {moved[:12]}",
              flush=True)
