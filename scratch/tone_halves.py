# scratch probe (tone21): what each 50-frame half calibration learns of the day colour per look (clear_sky_blue, threshold notes)
import dataclasses, sys
sys.path.insert(0, "research")
import camera_shift
from models import skydata
from bench.classify_regimes import fit_half, pick
from cielo.sources.skycam import regime
from cielo.sources.skycam.model import OctaModel
model = OctaModel(None)
site = skydata.LENGHU_SITE
samples = [s for s in skydata.load_lenghu(__import__("pathlib").Path("/work/data/lenghu"), twilight=True) if s.name[:4] in ("2018","2019","2020")]
a, b = skydata.time_halves(samples, "group")
for name in ["none", "gamma 0.8", "gamma 1.25", "exposure x1.5", "exposure x0.6", "saturation 0.7"]:
    t, q = camera_shift.TRANSFORMS[name]
    for hn, half in (("A", a), ("B", b)):
        ps = pick(half, 50)
        ss = [dataclasses.replace(s, jpeg=camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE)) for s in ps]
        frames = [model.decode(s.jpeg) for s in ss]
        whens = [s.extra["when"] for s in ss]
        regs = [regime.light(w, *site).regime for w in whens]
        cal = fit_half(model, frames, whens, regs, site, list(range(len(ss))), float(model.reference.zenith))
        f = cal.found if hasattr(cal, "found") else {}
        print(name, hn, round(cal.sky_threshold,3), cal.found["clear_sky_blue"], "||", cal.found["threshold"][:200], flush=True)
        for k, v in (getattr(cal, "notes", None) or {}).items() if isinstance(getattr(cal, "notes", None), dict) else []:
            print("   ", k, v)
