"""Per look: TSI chose/check and LenghuSky day frames judged blind, own split off/on; per-frame split and contrast.
usage: ownprobe.py LOOK[,LOOK] [tsi|lh|both] ; env VARIANT=cap|reject, BAND=1.15"""
import os, sys, pickle, numpy as np
from pathlib import Path
sys.path.insert(0, "research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import ownsplit, calibration, lens, regime
from cielo.sources.skycam.model import OctaModel

model = OctaModel()
ownsplit.MIN_CLOUD = float(os.environ.get("MINC", ownsplit.MIN_CLOUD)); ownsplit.CONTRAST_BAND = float(os.environ.get("BAND", ownsplit.CONTRAST_BAND))
which = sys.argv[2] if len(sys.argv) > 2 else "both"
sets = {}
if which in ("tsi", "both"):
    tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) not in ("fit", "check")]
    sets["tsi"] = (tsi, cs.TSI_CIRCLE, skydata.TSI_SITE)
if which in ("lh", "both"):
    lh = [s for s in skydata.load_lenghu(Path("/work/data/lenghu")) if cs.part(s.name) not in ("fit", "check")]
    lh = [s for s in lh if regime.light(s.extra["when"], *skydata.LENGHU_SITE).regime == regime.DAY]
    sets["lh"] = (lh, cs.LENGHU_CIRCLE, skydata.LENGHU_SITE)
out = {}
for look in sys.argv[1].split(","):
    tr, q = cs.TRANSFORMS[look]
    for key, (samples, circle, site) in sets.items():
        frames = [model.decode(cs.shifted(s.jpeg, tr, q, circle)) for s in samples]
        stats = []
        ownsplit.OWN_SPLIT = False
        for f in frames:
            light = model.seen_light(f)
            run = model.as_read(f, None)
            g = model.geometry(run, light)
            m = model.maps(run, g, light)
            v = m.valid > 0
            fs = calibration.site_split(lens.nrbr(run.pixels)[v]) if v.sum() else None
            r = lens.nrbr(run.pixels)[v]
            stats.append((np.nan, np.nan, np.nan, np.nan) if fs is None else (*fs, float(np.mean(r < fs[0])), float(np.mean(r < 0.14))))
        res = {}
        for on in (False, True):
            ownsplit.OWN_SPLIT = on
            res[on] = np.array([-9 if v.octas is None else v.octas for v in model.judge(frames, [None] * len(frames), *site)])
        t = np.array([s.octas for s in samples]); parts = np.array([cs.part(s.name) for s in samples])
        out[(look, key)] = dict(t=t, parts=parts, names=[s.name for s in samples], stats=np.array(stats), off=res[False], on=res[True])
        for pt in sorted(set(parts)):
            sel = parts == pt
            line = f"{look:<12} {key} {pt:<5} n={sel.sum():3d}"
            for on in (False, True):
                o = res[on][sel]
                if key == "tsi":
                    e = np.where(o >= 0, np.abs(o - t[sel]), 8); line += f"  {'on ' if on else 'off'} MAE {e.mean():.3f}"
                else:
                    tc = t[sel]; ic = (tc <= 2) | (tc >= 6)
                    ok = np.where(tc <= 2, (o >= 0) & (o <= 2), o >= 6)[ic]
                    line += f"  {'on ' if on else 'off'} in-class {ok.sum()}/{ic.sum()}"
            st = out[(look, key)]["stats"][sel]
            line += f"  split med {np.nanmedian(st[:,0]):.3f} contrast med {np.nanmedian(st[:,1]):.3f} moved {(res[True][sel]!=res[False][sel]).sum()}"
            print(line, flush=True)
tag = os.environ.get("TAG", "x")
pickle.dump(out, open(f"scratch/heldout_{tag}_{sys.argv[1].replace(',', '_').replace(' ', '')}_{which}.pkl", "wb"))
