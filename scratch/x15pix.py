"""TSI dev through a look, calibrated per hour-half on 50 frames (as camera_shift --calibrated --cal-frames 50): per
frame, the graph's cloud pixels by kind (fed clipped white; a bright pixel with a channel clipped; other) and by
distance to the found sun, against TSI's own mask.  usage: x15pix.py LOOK [LOOK...] ; writes /tmp/b23/pix_LOOK.json"""
import os, sys, dataclasses, json
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
t = np.array([s.octas for s in tsi])
site = skydata.TSI_SITE
for name in sys.argv[1:]:
    tr, q = cs.TRANSFORMS[name]
    ss = [dataclasses.replace(s, jpeg=cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE)) for s in tsi]
    frames = [model.decode(s.jpeg) for s in ss]
    whens = [s.extra["when"] for s in ss]
    regimes = np.array([regime.light(w, *site).regime for w in whens])
    a, b = skydata.time_halves(ss, "hour")
    index = {id(s): i for i, s in enumerate(ss)}
    default = float(model.reference.zenith)
    rows = []
    for hn, (fh, sh) in enumerate(((a, b), (b, a))):
        fh = cr.pick(fh, 50)
        keep = [index[id(s)] for s in fh if frames[index[id(s)]].brightness >= DARK_MEAN or frames[index[id(s)]].stars is not None]
        usable = [frames[i] for i in keep]
        daylit = [bool(regimes[i] == regime.DAY) for i in keep]
        cal = calibration.fit(usable, "half", default, daylit, [whens[i] for i in keep])
        calibration.learn_nights(cal, usable, [whens[i] for i in keep], *site)
        veil.learn(cal, model, usable, [whens[i] for i in keep], *site)
        model.calibrate(cal)
        idx = [index[id(s)] for s in sh]
        v = model.judge([frames[i] for i in idx], [whens[i] for i in idx], *site)
        for i, x in zip(idx, v):
            f = model.as_read(frames[i], regime.light(whens[i], *site))
            li = regime.light(whens[i], *site)
            mo = []
            model.predict([f], [li], maps_out=mo)
            g, m = mo[0]
            px = f.pixels.astype(np.float32) / 255
            darkest, brightest = px.min(0), px.max(0)
            valid = m.valid > 0
            fed = valid & (darkest >= M.GRAPH_WHITE)
            unc = (darkest >= (int(lens.SATURATED * 255) - 0.5) / 255) & ~valid
            if fed.any():
                fed &= ~lens.glow_white(fed, unc)
            pxf = np.where(fed[None], np.minimum(px, M.GRAPH_WHITE), px)
            gv = valid & ((pxf.min(0) < 0.97))
            nr = lens.nrbr((pxf * 255).astype(np.float32)) if False else (pxf[2] - pxf[0]) / (pxf[2] + pxf[0] + 1e-6)
            cloud = gv & (nr < m.threshold)
            chan = gv & ~fed & (brightest >= 0.98)
            H, W = nr.shape
            mk = np.asarray(Image.open(masks[ss[i].name]).convert("RGB").resize((W, H), Image.Resampling.NEAREST)).astype(np.int32)
            code = mk[..., 0] * 65536 + mk[..., 1] * 256 + mk[..., 2]
            isc = (code == 0xFFFFFF) | (code == 0xC0C0C0)
            clr = code == 0x0000FF
            n = max(gv.sum(), 1)
            rho = g.rho()
            sd = None
            if m.sun is not None:
                yy, xx = np.mgrid[0:H, 0:W]
                sd = np.hypot((xx - m.sun[0]) / g.rx, (yy - m.sun[1]) / g.ry)
            def share(sel):
                return float(sel.sum() / n)
            r = dict(name=ss[i].name, half=hn, t=int(t[i]), frac=float(tsi[i].fraction), read=-9 if x.octas is None else int(x.octas),
                     gfrac=share(cloud), fed=share(fed & gv), fedcloudmask=share(fed & gv & isc), fedclear=share(fed & gv & clr),
                     chan=share(chan), chancloud=share(chan & cloud), chancloud_clr=share(chan & cloud & clr),
                     other_cloud_clr=share(cloud & ~fed & ~chan & clr), cloud_clr=share(cloud & clr), miss=share(gv & isc & ~cloud),
                     thr=float(np.median(m.threshold[valid])) if valid.any() else None, sun=m.sun is not None,
                     near_sun_clr=share(cloud & clr & (sd < 0.3)) if sd is not None else None,
                     rim_clr=share(cloud & clr & (rho > 0.7)),
                     oc=float(((rho < 0.85) & (isc | clr)).sum()),
                     cl_out=float((~gv & (rho < 0.85) & isc).sum() / max(((rho < 0.85) & (isc | clr)).sum(), 1)),
                     cl_out_clip=float((~gv & (rho < 0.85) & isc & (darkest >= 0.97)).sum() / max(((rho < 0.85) & (isc | clr)).sum(), 1)),
                     cl_out_glow=float((~valid & (rho < 0.85) & isc & (darkest >= 0.97)).sum() / max(((rho < 0.85) & (isc | clr)).sum(), 1)),
                     clr_out=float((~gv & (rho < 0.85) & clr).sum() / max(((rho < 0.85) & (isc | clr)).sum(), 1)),
                     maskfrac=float(((rho < 0.85) & isc).sum() / max(((rho < 0.85) & (isc | clr)).sum(), 1)))
            rows.append(r)
    model.calibrate(None)
    json.dump(rows, open(f"/tmp/b23/pix_{name.replace(' ', '_')}.json", "w"))
    print(name, "done", len(rows))
