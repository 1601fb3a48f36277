"""The reference camera's pooled sky/cloud contrast: LenghuSky-8 2018-2019 (chose) day frames, all and 50-frame picks."""
import os, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd())
from bench import classify_regimes as cr
from models import skydata
from cielo.sources.skycam import calibration, regime
from cielo.sources.skycam.model import OctaModel, DARK_MEAN
model = OctaModel()
site = skydata.LENGHU_SITE
lh = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in ("2018", "2019")]
frames = [model.decode(s.jpeg) for s in lh]
whens = [s.extra["when"] for s in lh]
day = [regime.light(w, *site).regime == regime.DAY for w in whens]
idx = list(range(len(lh)))
rng = np.random.default_rng(1)
for lab, sel in [("all", idx), ("even50", [idx[int(j)] for j in np.linspace(0, len(idx) - 1, 50).round()])] + \
        [(f"rand50-{k}", sorted(rng.choice(len(idx), 50, replace=False).tolist())) for k in range(6)]:
    keep = [i for i in sel if frames[i].brightness >= DARK_MEAN or frames[i].stars is not None]
    cal = calibration.fit([frames[i] for i in keep], "h", 0.14, [day[i] for i in keep], [whens[i] for i in keep])
    print(lab, cal.sky_threshold, cal.found["threshold"][:120], flush=True)
