"""Blind warm-cast gates: TSI fit/check per look, LenghuSky 2018-2020 blind (day in class, all in class) per look."""
import sys, os, numpy as np
from pathlib import Path
sys.path.insert(0, "research")
import camera_shift as cs
from models import skydata
from bench.classify_regimes import held_out
from cielo.sources.skycam import regime, lens, calibration as C
import cielo.sources.skycam.model as M
from cielo.sources.skycam.model import OctaModel, uncast_frame
model = OctaModel()
orig = OctaModel.as_read
GATE = None
def as_read(self, frame, light):
    if light is not None or self.calibration is not None or GATE is None:
        return orig(self, frame, light)
    if frame.starry and frame.brightness < lens.SUNLIT_MEAN:
        return frame
    g = self.geometry(frame, None)
    cast = C.frame_cast(frame.pixels, g, frame.not_sky(), GATE(frame, g))
    return uncast_frame(frame, cast, clipped_white=True)
OctaModel.as_read = as_read
def zen_minus_grey(frame, g):
    lv = C.cast_levels(frame.pixels, g, frame.not_sky())
    rho = g.rho(); z = lens.nrbr(frame.pixels[:, (rho <= 0.3) & ~frame.not_sky()])
    return float(np.median(z)) - lv[0] if lv and z.size else 9.0
ZG = float(os.environ.get("ZG", "0.15"))
GATES = {"off": None, "sunlit": lambda f, g: f.brightness >= lens.SUNLIT_MEAN,
         "sunlit+zen": lambda f, g: f.brightness >= lens.SUNLIT_MEAN and zen_minus_grey(f, g) < ZG}
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")]
lh = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if not held_out(s.name)]
looks = os.environ.get("LOOKS", "none,wb warm").split(",")
dec = {}
for look in looks:
    tr, q = cs.TRANSFORMS[look]
    dec["tsi", look] = [model.decode(cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE)) for s in tsi]
    dec["lh", look] = [model.decode(cs.shifted(s.jpeg, tr, q, cs.LENGHU_CIRCLE)) for s in lh]
tp = np.array([cs.part(s.name) for s in tsi]); tt = np.array([s.octas for s in tsi])
lp = np.array([cs.part(s.name) for s in lh]); lt = np.array([s.octas for s in lh])
lday = np.array([regime.light(s.extra["when"], *skydata.LENGHU_SITE).regime == regime.DAY for s in lh])
SUN = {}
for look in looks:
    for f, s_ in zip(dec.get(("tsi", look), []), tsi): SUN[id(f.pixels)] = regime.light(s_.extra["when"], *skydata.TSI_SITE).sun_altitude
    for f, s_ in zip(dec["lh", look], lh): SUN[id(f.pixels)] = regime.light(s_.extra["when"], *skydata.LENGHU_SITE).sun_altitude
from cielo.sources.skycam import daylight
GATES["oracle"] = lambda f, g: SUN[id(f.pixels)] >= C.FRAME_WARM_SUN
GATES["seen"] = lambda f, g: (daylight.seen(f.pixels, g, f.bright) or -90) >= C.FRAME_WARM_SUN
GATES["quiet"] = lambda f, g: daylight.noise_share(f.bright) <= daylight.QUIET
GATES["quiet+zen"] = lambda f, g: daylight.noise_share(f.bright) <= daylight.QUIET and zen_minus_grey(f, g) < ZG
cls = (lt <= 2) | (lt >= 6)
sunset = np.array([s.name in ("20170524011000", "20170524011500") for s in tsi])
for gname in os.environ.get("GATES", "off,sunlit,sunlit+zen").split(","):
    GATE = GATES[gname]
    for look in looks:
        o = np.array([-9 if v.octas is None else v.octas for v in model.judge(dec["tsi", look], [None] * len(tsi), *skydata.TSI_SITE)])
        e = np.where(o >= 0, np.abs(o - tt), 8)
        bias = " ".join(f"{k}:{(o[(tt == k) & (tp == 'fit')] - k).mean():+.2f}" for k in range(9) if ((tt == k) & (tp == 'fit')).any())
        ol = np.array([-9 if v.octas is None else v.octas for v in model.judge(dec["lh", look], [None] * len(lh), *skydata.LENGHU_SITE)])
        ok = np.where(lt <= 2, (ol >= 0) & (ol <= 2), ol >= 6) & cls
        lf = [f"{(ok & lday & (lp == p)).sum()}/{(cls & lday & (lp == p)).sum()}" for p in ("fit", "check")]
        la = [f"{(ok & (lp == p)).sum()}/{(cls & (lp == p)).sum()}" for p in ("fit", "check")]
        if look == "wb warm" and gname != "off":
            passed = np.array([v is not None for v in [None]*0] or [GATE(f, model.geometry(f)) and (lambda lv: lv is not None and lv[0] < C.FRAME_WARM_RED and lv[1] < C.FRAME_WARM_BULK)(C.cast_levels(f.pixels, model.geometry(f), f.not_sky())) for f in dec["tsi", look]])
            for p in ("fit", "check"):
                sp = (tp == p) & passed
                print(f"   TSI {p} acted on {sp.sum()}: MAE there {e[sp].mean():.3f}, elsewhere {e[(tp == p) & ~passed].mean():.3f} (n {((tp == p) & ~passed).sum()})")
        print(f"{gname:11s} {look:8s} TSI {e[tp == 'fit'].mean():.3f}/{e[tp == 'check'].mean():.3f} sunset {list(o[sunset])} "
              f"| LH blind day {lf[0]} {lf[1]} all {la[0]} {la[1]} | fit bias {bias}", flush=True)
