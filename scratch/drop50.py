"""Which learned part moves the 50-frame calibrated frames that differ from the all-frames calibration."""
import sys, copy
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from models import skydata
from bench import classify_regimes as cr
from cielo.sources.skycam import calibration, regime, veil
from cielo.sources.skycam.model import OctaModel, DARK_MEAN
WATCH = set(sys.argv[1].split(","))
N = None if sys.argv[2] == "all" else int(sys.argv[2])
model = OctaModel(None); site = skydata.LENGHU_SITE
samples = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in ("2018", "2019", "2020")]
frames = [model.decode(s.jpeg) for s in samples]
whens = [s.extra["when"] for s in samples]
regimes = [regime.light(w, *site).regime for w in whens]
index = {id(s): i for i, s in enumerate(samples)}
a, b = skydata.time_halves(samples, "group")
default = float(model.reference.zenith)
for fit_half, score_half in ((a, b), (b, a)):
    idx = [index[id(s)] for s in score_half if s.name[:16] in WATCH]
    if not idx:
        continue
    if N:
        fit_half = cr.pick(fit_half, N)
    keep = [index[id(s)] for s in fit_half if frames[index[id(s)]].brightness >= DARK_MEAN or frames[index[id(s)]].stars is not None]
    usable = [frames[i] for i in keep]
    daylit = [bool(regimes[i] == regime.DAY) for i in keep]
    print("fit regimes:", {r: sum(regimes[i] == r for i in keep) for r in set(regimes)})
    for off in [(), *[(p,) for p in cr.PARTS]]:
        cal = calibration.fit(usable, "half", default, daylit, [whens[i] for i in keep])
        calibration.learn_nights(cal, usable, [whens[i] for i in keep], *site)
        veil.learn(cal, model, usable, [whens[i] for i in keep], *site)
        if not off:
            print(cal.night)
        cr.drop(cal, off, default)
        model.calibrate(cal)
        vs = model.judge([frames[i] for i in idx], [whens[i] for i in idx], *site)
        print(off, [(samples[i].name[:16], samples[i].octas, v.octas) for i, v in zip(idx, vs)])
        model.calibrate(None)
