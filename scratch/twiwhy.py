"""Calibrated as the bench (cal 50), per non-day frame of 2018-2019(-2020): verdict, uniform_sky, rises (as read),
rises_overcast, the verdict with _overcast_by_light off; and what each half's calibration learned (night rim)."""
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "research")
import camera_shift  # noqa: E402
import misreads  # noqa: E402

from cielo.sources.skycam import lens, night, regime  # noqa: E402
from cielo.sources.skycam import model as M  # noqa: E402
from models import skydata  # noqa: E402

REC = {}
_u, _r = lens.uniform_sky, night.rises_overcast
def u(*a, **k):
    out = _u(*a, **k); REC["uniform"] = out; return out
def r(measured):
    out = _r(measured); REC["rises"] = measured; REC["rovc"] = out; return out
lens.uniform_sky = u
night.rises_overcast = r

_fit = None
import bench.classify_regimes as B  # noqa: E402
_fh = B.fit_half
def fh(*a, **k):
    cal = _fh(*a, **k)
    if cal is not None:
        print("  CAL night:", None if cal.night is None else (cal.night.rim, cal.night.gain), cal.found.get("night", {}).get("rim"), flush=True)
    return cal
B.fit_half = fh

def main(look, years):
    model = M.OctaModel(None)
    site = skydata.LENGHU_SITE
    samples = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in ("2018", "2019", "2020")]
    t, q = camera_shift.TRANSFORMS[look]
    shifted = [dataclasses.replace(s, jpeg=camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE)) for s in samples]
    names = {id(s): s for s in shifted}
    rows = []
    def one(frame, when):
        lt = regime.light(when, *site)
        if lt.regime == regime.DAY:
            return None
        REC.clear()
        v = model.judge([frame], [when], *site)[0]
        rec = dict(REC)
        orig = model._overcast_by_light
        model._overcast_by_light = lambda *a, **k: False
        v2 = model.judge([frame], [when], *site)[0]
        model._overcast_by_light = orig
        return (lt.regime, round(lt.sun_altitude, 1), v.octas, v2.octas, rec.get("uniform"), rec.get("rises"), rec.get("rovc"), v.light, v.flag, bool(frame.starry))
    out = misreads.calibrated_verdicts(model, shifted, site, 50, None, one)
    for s, o in zip(samples, out):
        if o is None or s.name[:4] not in years or 2 < s.octas < 6:
            continue
        rs = o[5]
        rs = "-" if rs is None else "%s/%s" % tuple("-" if x is None else f"{x:.2f}" for x in rs)
        print(f"{look[:5]} {s.name} {o[0]:9s} sun {o[1]:6.1f} true {s.octas} read {o[2]} nolight {o[3]} uniform {o[4]} rises {rs} rovc {o[6]} light {o[7]} flag {o[8]} starry {o[9]}")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2].split(","))
