"""Calibrated misses on LenghuSky dev (2018-2020), calibrated as bench/classify_regimes does (other time blocks),
all frames and --cal-frames 50; caches decoded frames' verdicts to scratch/calmiss.json."""
import json, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
from models import skydata
from bench import classify_regimes as cr

def run(years=("2018", "2019", "2020"), out="scratch/calmiss.json"):
    from cielo.sources.skycam import calibration, regime, veil
    from cielo.sources.skycam.model import OctaModel, DARK_MEAN
    model = OctaModel(None)
    site = skydata.LENGHU_SITE
    samples = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in years]
    frames = [model.decode(s.jpeg) for s in samples]
    whens = [s.extra["when"] for s in samples]
    regimes = [regime.light(w, *site).regime for w in whens]
    index = {id(s): i for i, s in enumerate(samples)}
    a, b = skydata.time_halves(samples, "group")
    res = {}
    default = float(model.reference.zenith)
    for tag, n in (("all", None), ("50", 50)):
        o = {}
        for fit_half, score_half in ((a, b), (b, a)):
            if n:
                fit_half = cr.pick(fit_half, n)
            keep = [index[id(s)] for s in fit_half if frames[index[id(s)]].brightness >= DARK_MEAN
                    or frames[index[id(s)]].stars is not None]
            usable = [frames[i] for i in keep]
            daylit = [bool(regimes[i] == regime.DAY) for i in keep]
            cal = calibration.fit(usable, "half", default, daylit, [whens[i] for i in keep])
            calibration.learn_nights(cal, usable, [whens[i] for i in keep], *site)
            veil.learn(cal, model, usable, [whens[i] for i in keep], *site)
            model.calibrate(cal)
            idx = [index[id(s)] for s in score_half]
            vs = model.judge([frames[i] for i in idx], [whens[i] for i in idx], *site)
            for i, v in zip(idx, vs):
                o[samples[i].name] = (v.octas, v.flag, None if v.confidence is None else round(v.confidence, 2),
                                      None if v.sun_elevation is None else round(v.sun_elevation, 1))
        model.calibrate(None)
        res[tag] = o
    res["truth"] = {s.name: s.octas for s in samples}
    res["regime"] = {s.name: r for s, r in zip(samples, regimes)}
    Path(out).write_text(json.dumps(res))
    return res

if __name__ == "__main__":
    res = run()
    for name in sorted(res["truth"]):
        t = res["truth"][name]
        if 2 < t < 6:
            continue
        line = []
        for tag in ("all", "50"):
            oc, fl, cf, el = res[tag][name]
            miss = oc is None or (oc > 2 if t <= 2 else oc < 6)
            line.append((miss, oc, fl, cf, el))
        if line[0][0] or line[1][0]:
            print(f"{name} {res['regime'][name]:<10} true {t} all {line[0][1:4]} 50 {line[1][1:4]} el {line[0][4]}")
