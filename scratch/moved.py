"""Untransformed frames whose verdict (octas, or its confidence) lens.part_glow moves: TSI dev + held-out hours and
LenghuSky-8 2018-2021, timed and blind, no calibration (where the bench's lines moved)."""
import os, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd())
from models import skydata
from cielo.sources.skycam import model as M
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
sets = [("TSI", [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10)], skydata.TSI_SITE),
        ("LenghuSky", skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True), skydata.LENGHU_SITE)]
for label, ss, site in sets:
    frames = [model.decode(s.jpeg) for s in ss]
    for timed in (True, False):
        whens = [s.extra["when"] if timed else None for s in ss]
        out = {}
        for flag in (False, True):
            M.PART_GLOW_TEST = flag
            out[flag] = model.judge(frames, whens, *site)
        for s, a, b in zip(ss, out[False], out[True]):
            if a.octas != b.octas or a.confidence != b.confidence or a.flag != b.flag:
                print(label, "timed" if timed else "blind", s.name, "truth", s.octas, "octas", a.octas, "->", b.octas,
                      "conf", None if a.confidence is None else round(a.confidence, 3), "->",
                      None if b.confidence is None else round(b.confidence, 3), a.flag, b.flag, flush=True)
