"""Pixels lens.part_glow leaves out of the graph, through a look, calibrated as camera_shift does (TSI hour halves on
50 frames), by TSI's own mask (opaque, thin, clear, other) per day and truth.  usage: dropped.py LOOK"""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
from PIL import Image
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from bench import classify_regimes as cr
from models import skydata
from cielo.sources.skycam import calibration, regime, lens, model as M
from cielo.sources.skycam.model import OctaModel, DARK_MEAN
model = OctaModel()
folder = Path("/work/data/tsi")
masks = {p.name.split(".png.")[1][:14]: p for p in (folder / "CloudMask").glob("*/*.png")}
tsi = [s for s in skydata.load_tsi(folder, step=10) if cs.part(s.name) in ("fit", "check")]
site = skydata.TSI_SITE
name = sys.argv[1]
tr, q = cs.TRANSFORMS[name]
ss = [dataclasses.replace(s, jpeg=cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE)) for s in tsi]
frames = [model.decode(s.jpeg) for s in ss]
whens = [s.extra["when"] for s in ss]
regimes = np.array([regime.light(w, *site).regime for w in whens])
a, b = skydata.time_halves(ss, "hour")
index = {id(s): i for i, s in enumerate(ss)}
default = float(model.reference.zenith)
acc = {}
for fh, sh in ((a, b), (b, a)):
    fh = cr.pick(fh, 50)
    keep = [index[id(s)] for s in fh if frames[index[id(s)]].brightness >= DARK_MEAN or frames[index[id(s)]].stars is not None]
    cal = calibration.fit([frames[i] for i in keep], "half", default, [bool(regimes[i] == regime.DAY) for i in keep],
                          [whens[i] for i in keep])
    model.calibrate(cal)
    for s in sh:
        i = index[id(s)]
        li = regime.light(whens[i], *site)
        f = model.as_read(frames[i], li)
        mo = []
        model.predict([f], [li], maps_out=mo)
        g, m = mo[0]
        px = f.pixels.astype(np.float32) / 255
        valid = m.valid > 0
        darkest = px.min(0)
        unc = (darkest >= (int(lens.SATURATED * 255) - 0.5) / 255) & ~valid
        part = valid & (px.max(0) >= lens.PART_WHITE) & (darkest < M.GRAPH_WHITE)
        drop = lens.part_glow(px, part, m.threshold, unc)
        H, W = darkest.shape
        mk = np.asarray(Image.open(masks[ss[i].name]).convert("RGB").resize((W, H), Image.Resampling.NEAREST)).astype(np.int32)
        code = mk[..., 0] * 65536 + mk[..., 1] * 256 + mk[..., 2]
        key = (ss[i].name[:8], min(tsi[i].octas, 2))
        c = acc.setdefault(key, np.zeros(6))
        n = max(valid.sum(), 1)
        c += [1, drop.sum() / n, (drop & (code == 0xFFFFFF)).sum() / n, (drop & (code == 0xC0C0C0)).sum() / n,
              (drop & (code == 0x0000FF)).sum() / n, (drop & (drop.sum() > 0)).any()]
for k in sorted(acc):
    c = acc[k]
    print(f"{name} {k[0]} truth {'>=2' if k[1] == 2 else k[1]}: n {int(c[0])}, frames with a drop {int(c[5])}; dropped share of the counted area "
          f"{c[1] / c[0]:.4f}: opaque {c[2] / c[0]:.4f} thin {c[3] / c[0]:.4f} clear {c[4] / c[0]:.4f}")
