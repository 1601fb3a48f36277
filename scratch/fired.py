"""Which 50-frame halves (camera_shift's: TSI hours, LenghuSky-8 2018-2020 day groups) the bluer-split rule fires on,
per look: where it does not, every answer is the same as without it (the calibration is otherwise identical)."""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from bench import classify_regimes as cr
from models import skydata
from cielo.sources.skycam import calibration, regime
from cielo.sources.skycam.model import OctaModel, DARK_MEAN
model = OctaModel()
sets = [("TSI", [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")], skydata.TSI_SITE, "hour", cs.TSI_CIRCLE),
        ("LH", [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if cs.part(s.name) in ("fit", "check")], skydata.LENGHU_SITE, "group", cs.LENGHU_CIRCLE)]
for name in sys.argv[1:]:
    tr, q = cs.TRANSFORMS[name]
    line = []
    for sname, data, site, block, circle in sets:
        ss = [dataclasses.replace(s, jpeg=cs.shifted(s.jpeg, tr, q, circle)) for s in data]
        a, b = skydata.time_halves(ss, block)
        for hn, fh in enumerate((a, b)):
            fr = [model.decode(s.jpeg) for s in cr.pick(fh, 50)]
            whens = [s.extra["when"] for s in cr.pick(fh, 50)]
            keep = [i for i, f in enumerate(fr) if f.brightness >= DARK_MEAN or f.stars is not None]
            try:
                cal = calibration.fit([fr[i] for i in keep], "h", float(model.reference.zenith),
                                      [regime.light(whens[i], *site).regime == regime.DAY for i in keep], [whens[i] for i in keep])
                fired = "a bluer camera" in cal.found["threshold"]
                line.append(f"{sname}{hn} {'FIRED' if fired else 'no'} {cal.sky_threshold:.2f}")
            except calibration.CalibrationError as e:
                line.append(f"{sname}{hn} err")
    print(f"{name:<15}", " | ".join(line), flush=True)
