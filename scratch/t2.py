import numpy as np
from tests.sources.skycam.test_calibrate import _site, _cast
from cielo.sources.skycam.model import OctaModel
from cielo.sources.skycam import narrow, calibration
m = OctaModel()
orig = narrow.covered
def cov(greys, spread):
    for g in greys:
        lo, mid = np.percentile(g, (2, 50)); print(f"  size {g.size} p2 {lo:.3f} med {mid:.3f}")
    r = orig(greys, spread); print("covered", r); return r
narrow.covered = cov
narrow.SPLIT_MOVE = 1.0
covers = [0.0, 0.0, 0.0, 0.0, 0.15, 1.0]
fr = [_cast(m, _site(m, i, covers[i % 6], (80, 200), (165, 195)), 0.9, 1.1) for i in range(12)]
cal = calibration.fit(fr, "t", 0.14, [True]*12)
print(cal.found["cast"])
from tests.sources.skycam.test_frame_cast import COOL, _deck, _through
from datetime import UTC, datetime
NOON = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
print("thr", cal.sky_threshold, cal.found["threshold"])
for g in (COOL, (0.87, 1.13), (0.85, 1.15)):
    deck = m.decode(_through(_deck(), g))
    for fc in (True, False):
        cal.frame_cast = fc; m.calibrate(cal)
        (v,) = m.judge([deck], [NOON], 0.0, 0.0); (b,) = m.judge([deck], [None], 0.0, 0.0)
        print(g, fc, v.octas, b.octas)
    m.calibrate(None)
