"""The slowest judge_speed frames (best of 3, ms) and what their judge() spends (scratch, session 22)."""
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from cielo.sources.skycam.model import OctaModel
from models import skydata

which = sys.argv[1] if len(sys.argv) > 1 else "tsi"
model = OctaModel(None)
if which == "tsi":
    samples, site, timed = skydata.load_tsi(Path("/work/data/tsi")), skydata.TSI_SITE, False
else:
    samples, site, timed = skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True), skydata.LENGHU_SITE, True
picked = samples[:: max(1, len(samples) // 120)][:120]
rows = []
for s in picked:
    when = s.extra.get("when") if timed else None
    bd = bj = 1e9
    for _ in range(3):
        t0 = time.perf_counter()
        f = model.decode(s.jpeg)
        t1 = time.perf_counter()
        model.judge([f], [when], *site)
        t2 = time.perf_counter()
        bd, bj = min(bd, t1 - t0), min(bj, t2 - t1)
    rows.append((bd + bj, bd, bj, s))
rows.sort(key=lambda r: -r[0])
for t, d, j, s in rows[:14]:
    print(f"{s.name:<24} total {t * 1e3:6.2f} decode {d * 1e3:5.2f} judge {j * 1e3:5.2f} truth {s.octas}")
pr = cProfile.Profile()
pr.enable()
for _t, _d, _j, s in rows[:12]:
    for _ in range(5):
        f = model.decode(s.jpeg)
        model.judge([f], [s.extra.get("when") if timed else None], *site)
pr.disable()
pstats.Stats(pr).sort_stats("cumtime").print_stats(int(sys.argv[2]) if len(sys.argv) > 2 else 40)
