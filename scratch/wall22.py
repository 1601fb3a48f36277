"""Wall-clock time per function (wrapped, nested calls counted in each), ms per frame (scratch, session 22)."""
import collections
import functools
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
from pathlib import Path

from cielo.sources.skycam import calibration, confidence, daylight, lens, ownsplit, sunstate
from cielo.sources.skycam import model as M
from models import skydata

acc = collections.Counter()
cnt = collections.Counter()


def wrap(mod, name, label=None):
    f = getattr(mod, name)
    label = label or f"{mod.__name__.split('.')[-1]}.{name}"

    @functools.wraps(f)
    def w(*a, **k):
        t = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            acc[label] += time.perf_counter() - t
            cnt[label] += 1
    setattr(mod, name, w)


for n in ("find_lens", "not_sky", "star_density", "counted", "maps", "find_sun", "clear_sky_surface", "glow_white",
          "white_cloud", "nrbr", "star_gain", "_noise", "window_share"):
    wrap(lens, n)
for n in ("frame_threshold",):
    wrap(ownsplit, n)
for n in ("assess",):
    wrap(sunstate, n)
for n in ("seen",):
    wrap(daylight, n)
for n in ("frame_cast", "uncast_frame"):
    wrap(calibration, n)
for n in ("Evidence", ):
    pass
wrap(confidence, "shaped")
for n in ("monochrome", "_brightest", "frame_cast", "uncast_frame", "frame_lens"):
    if hasattr(M, n):
        wrap(M, n, "model." + n)
for n in ("_stars", "frame", "maps", "predict", "_own_split", "as_read", "seen_light", "_starry",
          "_camera_stars"):
    wrap(M.OctaModel, n, "Octa." + n)

which = sys.argv[1]
model = M.OctaModel(None)
wrap(model.session, "run", "onnx.run")
if which == "tsi":
    samples, site, timed = skydata.load_tsi(Path("/work/data/tsi")), skydata.TSI_SITE, False
else:
    samples, site, timed = skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True), skydata.LENGHU_SITE, True
picked = samples[:: max(1, len(samples) // 120)][:120]
tot = collections.Counter()
R = 3
for _ in range(R):
    for s in picked:
        t0 = time.perf_counter()
        f = model.decode(s.jpeg)
        t1 = time.perf_counter()
        model.judge([f], [s.extra.get("when") if timed else None], *site)
        t2 = time.perf_counter()
        tot["DECODE"] += t1 - t0
        tot["JUDGE"] += t2 - t1
n = R * len(picked)
for k, v in tot.items():
    print(f"{k:<28} {v / n * 1e3:7.3f} ms")
for k, v in sorted(acc.items(), key=lambda kv: -kv[1]):
    print(f"{k:<28} {v / n * 1e3:7.3f} ms  {cnt[k] / n:5.2f}/frame")
