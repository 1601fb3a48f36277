"""Pixels with a channel clipped (not all) that the graph reads cloud, through a look, calibrated as camera_shift
does: by TSI mask label, which channels clip, and the unclipped channels' own ratio (G-R)/(G+R).  usage: chanpix.py LOOK DAY"""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
from PIL import Image
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from bench import classify_regimes as cr
from models import skydata
from cielo.sources.skycam import calibration, regime, veil, lens, model as M
from cielo.sources.skycam.model import OctaModel, DARK_MEAN
model = OctaModel()
folder = Path("/work/data/tsi")
masks = {p.name.split(".png.")[1][:14]: p for p in (folder / "CloudMask").glob("*/*.png")}
tsi = [s for s in skydata.load_tsi(folder, step=10) if cs.part(s.name) in ("fit", "check")]
site = skydata.TSI_SITE
name, dayx = sys.argv[1], sys.argv[2]
tr, q = cs.TRANSFORMS[name]
ss = [dataclasses.replace(s, jpeg=cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE)) for s in tsi]
frames = [model.decode(s.jpeg) for s in ss]
whens = [s.extra["when"] for s in ss]
regimes = np.array([regime.light(w, *site).regime for w in whens])
a, b = skydata.time_halves(ss, "hour")
index = {id(s): i for i, s in enumerate(ss)}
default = float(model.reference.zenith)
P = {"cloud": [], "clear": []}
for hn, (fh, sh) in enumerate(((a, b), (b, a))):
    fh = cr.pick(fh, 50)
    keep = [index[id(s)] for s in fh if frames[index[id(s)]].brightness >= DARK_MEAN or frames[index[id(s)]].stars is not None]
    usable = [frames[i] for i in keep]
    cal = calibration.fit(usable, "half", default, [bool(regimes[i] == regime.DAY) for i in keep], [whens[i] for i in keep])
    model.calibrate(cal)
    for s in sh:
        i = index[id(s)]
        if not ss[i].name.startswith(dayx): continue
        li = regime.light(whens[i], *site)
        f = model.as_read(frames[i], li)
        mo = []
        model.predict([f], [li], maps_out=mo)
        g, m = mo[0]
        px = f.pixels.astype(np.float32) / 255
        valid = m.valid > 0
        chan = valid & (px.max(0) >= 0.98) & (px.min(0) < M.GRAPH_WHITE)
        nr = (px[2] - px[0]) / (px[2] + px[0] + 1e-6)
        H, W = nr.shape
        mk = np.asarray(Image.open(masks[ss[i].name]).convert("RGB").resize((W, H), Image.Resampling.NEAREST)).astype(np.int32)
        code = mk[..., 0] * 65536 + mk[..., 1] * 256 + mk[..., 2]
        isc = (code == 0xFFFFFF) | (code == 0xC0C0C0)
        clr = code == 0x0000FF
        rho = g.rho()
        for lab, sel in (("cloud", chan & isc), ("clear", chan & clr)):
            cl = sel & (nr < m.threshold)
            k = cl.sum()
            if k:
                r, gg, bb = px[0][cl], px[1][cl], px[2][cl]
                P[lab].append(np.stack([r, gg, bb, nr[cl], m.threshold[cl], rho[cl], np.full(k, tsi[i].octas)], 1))
for lab in P:
    X = np.concatenate(P[lab]) if P[lab] else np.zeros((0, 7))
    print(f"{lab}: {len(X)} px read cloud with a channel clipped")
    if not len(X): continue
    r, g, b = X[:, 0], X[:, 1], X[:, 2]
    pat = (r >= .98).astype(int) * 4 + (g >= .98) * 2 + (b >= .98)
    for p_ in np.unique(pat):
        s = pat == p_
        ngr = (g[s] - r[s]) / (g[s] + r[s])
        print(f"  clipped {'R' if p_ & 4 else ''}{'G' if p_ & 2 else ''}{'B' if p_ & 1 else ''}: {s.sum():6d} px; R p10/50/90 {np.percentile(r[s]*255,[10,50,90]).round(0)} G {np.percentile(g[s]*255,[10,50,90]).round(0)} "
              f"B {np.percentile(b[s]*255,[10,50,90]).round(0)} (G-R)/(G+R) {np.percentile(ngr,[10,50,90]).round(3)} nrbr {np.percentile(X[s,3],[10,50,90]).round(3)} rho {np.percentile(X[s,5],[10,50,90]).round(2)}")
np.savez(f"/tmp/b23/chan_{name.replace(' ','_')}_{dayx}.npz", **{k: (np.concatenate(v) if v else np.zeros((0, 7))) for k, v in P.items()})
