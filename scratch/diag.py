"""One frame, timed (no calibration): the NRBR, the threshold with and without the frame's own surface, the cloud."""
import sys, io
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from PIL import Image
from models import skydata
from cielo.sources.skycam import regime, lens
from cielo.sources.skycam.model import OctaModel
names = sys.argv[1].split(",")
model = OctaModel(None)
site = skydata.LENGHU_SITE
ss = [s for s in skydata.load_lenghu(Path('/work/data/lenghu'), twilight=True) if s.name[:16] in names]
tiles = []
for s in ss:
    f = model.decode(s.jpeg)
    w = s.extra["when"]
    counted = {}
    v = model.judge([f], [w], *site, counted=counted)[0]
    geom, maps, li = counted[0]
    fr = model.as_read(f, regime.light(w, *site))
    px = fr.pixels
    nb = lens.nrbr(px)
    ref = model.reference
    gam = None if maps.sun is None else lens.sun_distance(geom, maps.sun)
    base = ref.threshold(geom.rho(), gam, geom.found)
    val = maps.valid > 0
    cloud = val & (nb < maps.threshold)
    cloud0 = val & (nb < base)
    print(s.name, "t", s.octas, "read", v.octas, v.flag, v.sun_state, "el %.1f" % v.sun_elevation,
          "probs", np.round(v.probs, 2).tolist())
    print("   valid %.3f  cloud(own thr) %.3f  cloud(ref thr) %.3f  nbrr p10/50/90 %.3f %.3f %.3f thr med %.3f base med %.3f"
          % (val.mean(), cloud.sum() / max(val.sum(), 1), cloud0.sum() / max(val.sum(), 1),
             *np.percentile(nb[val], [10, 50, 90]), np.median(maps.threshold[val]), np.median(base[val])))
    rgb = np.transpose(px, (1, 2, 0)).astype(np.uint8)
    def gray(a, lo, hi):
        g = np.clip((a - lo) / (hi - lo), 0, 1) * 255
        return np.repeat(g[..., None], 3, axis=2).astype(np.uint8)
    cm = rgb.copy(); cm[cloud] = [255, 0, 0]; cm[~val] = cm[~val] // 3
    row = np.concatenate([rgb, gray(nb, -0.05, 0.4), gray(maps.threshold, -0.05, 0.4), cm], axis=1)
    tiles.append(row)
Image.fromarray(np.concatenate(tiles, axis=0)).save(sys.argv[2])
