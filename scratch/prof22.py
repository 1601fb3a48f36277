"""Profile decode and judge on the judge_speed frames (scratch, session 22)."""
import cProfile
import os
import pstats
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
from pathlib import Path

from cielo.sources.skycam.model import OctaModel
from models import skydata

which = sys.argv[1]
part = sys.argv[2]  # decode | judge
model = OctaModel(None)
if which == "tsi":
    samples, site, timed = skydata.load_tsi(Path("/work/data/tsi")), skydata.TSI_SITE, False
else:
    samples, site, timed = skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True), skydata.LENGHU_SITE, True
picked = samples[:: max(1, len(samples) // 120)][:120]
frames = [model.decode(s.jpeg) for s in picked]
whens = [s.extra.get("when") if timed else None for s in picked]
pr = cProfile.Profile()
pr.enable()
for _ in range(3):
    if part == "decode":
        for s in picked:
            model.decode(s.jpeg)
    else:
        for f, w in zip(frames, whens):
            model.judge([f], [w], *site)
pr.disable()
st = pstats.Stats(pr)
st.sort_stats(sys.argv[3] if len(sys.argv) > 3 else "tottime").print_stats(int(sys.argv[4]) if len(sys.argv) > 4 else 35)
