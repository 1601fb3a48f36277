"""TSI blind per look with an uncalibrated frame's day bars scaled under a lift gate (monkeypatched; knobs in argv):
scale_probe.py BAR MODE [looks] [parts]; MODE: a number (fixed scale) or 'lift' (1 - lift, floored at 0.5)."""
import dataclasses, os, sys
import numpy as np
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "research"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens
from cielo.sources.skycam.model import OctaModel

BAR = float(sys.argv[1])
MODE = sys.argv[2]
LOOKS = sys.argv[3].split(",") if len(sys.argv) > 3 else ["none", "dusty dome", "dusty dome (sun in lens)"]
import os
LEVEL = float(os.environ.get("LEVEL", "99"))
PARTS = sys.argv[4].split(",") if len(sys.argv) > 4 else ["fit"]


def lift(frame, geom):
    rho = geom.rho()
    if os.environ.get("TRUE_LENS"):  # an oracle: TSI's mirror where the look drew it (480 x 640 before the resize)
        _, h, w = frame.pixels.shape
        yy, xx = np.mgrid[0:h, 0:w]
        rho = np.hypot((xx + 0.5) / w - 0.5, ((yy + 0.5) / h - 0.5) * 640 / 480) / cs.TSI_CIRCLE[2]
    lum = frame.pixels.astype(np.float32).mean(axis=0)
    inner, disk = rho < 0.8, rho < 0.97
    if not inner.any():
        return 0.0
    return float(np.percentile(lum[disk], 0.5) / max(float(np.median(lum[inner])), 1.0))


orig = OctaModel.maps
fired = []


def maps(self, frame, geom=None, light=None, hazy=False):
    geom = geom or self.geometry(frame, light)
    if self.calibration is None and BAR < 9:
        d = lift(frame, geom)
        if d >= BAR and LEVEL < 9:
            m0 = orig(self, frame, geom, light, hazy)
            lv = None if m0.sun is None else lens.surface_level(lens.nrbr(frame.pixels), m0.valid > 0, geom.rho(),
                                                               lens.sun_distance(geom, m0.sun))
            if lv is None or lv >= LEVEL:
                return m0
        if d >= BAR:
            s = max(0.5, 1 - d) if MODE == "lift" else float(MODE)
            fired.append(id(frame))
            keep = self.reference
            self.reference = dataclasses.replace(keep, zenith=keep.zenith * s, clear_scale=s)
            try:
                return orig(self, frame, geom, light, hazy)
            finally:
                self.reference = keep
    return orig(self, frame, geom, light, hazy)


OctaModel.maps = maps
model = OctaModel()
model._model_reference = model.reference
if os.environ.get("LENGHU"):
    from cielo.sources.skycam import regime
    yrs = os.environ["LENGHU"].split(",")
    lh = [s for s in skydata.load_lenghu(Path("/work/data/lenghu")) if s.name[:4] in yrs and (s.octas <= 2 or s.octas >= 6)
          and regime.light(s.extra["when"], *skydata.LENGHU_SITE).regime == regime.DAY]
    lt = np.array([s.octas for s in lh])
    for name in LOOKS:
        tr, q = cs.TRANSFORMS[name]
        fired.clear()
        ot, ob = cs.octas(model, lh, tr, q, cs.LENGHU_CIRCLE, skydata.LENGHU_SITE, True, blind_too=True)
        res = []
        for lab, o in (("timed", ot), ("blind", ob)):
            ok = np.where(lt <= 2, (o >= 0) & (o <= 2), o >= 6)
            res.append(f"{lab} {ok.sum()}/{len(lt)} (clear {ok[lt <= 2].sum()}/{(lt <= 2).sum()}, overcast {ok[lt >= 6].sum()}/{(lt >= 6).sum()})")
        print(f"LenghuSky {yrs} BAR {BAR} {MODE} LEVEL {LEVEL} {name}: " + "; ".join(res) + f" fired {len(set(fired))}", flush=True)
    sys.exit(0)
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in PARTS]
parts = np.array([cs.part(s.name) for s in tsi]); t = np.array([s.octas for s in tsi])
for name in LOOKS:
    tr, q = cs.TRANSFORMS[name]
    fired.clear()
    o = cs.octas(model, tsi, tr, q, cs.TSI_CIRCLE, skydata.TSI_SITE, False)
    e = np.where(o >= 0, np.abs(o - t), 8)
    bias = " ".join(f"{k}:{np.mean(o[(t >= lo) & (t <= hi)] - t[(t >= lo) & (t <= hi)]):+.2f}" for k, lo, hi in
                    (("0", 0, 0), ("1-2", 1, 2), ("3-5", 3, 5), ("6-8", 6, 8)) if ((t >= lo) & (t <= hi)).any())
    print(f"BAR {BAR} {MODE} {name}: " + " ".join(f"{p} {e[parts == p].mean():.3f}" for p in PARTS)
          + f"  fired {len(set(fired))} frames  bias {bias}", flush=True)
