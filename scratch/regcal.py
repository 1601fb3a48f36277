"""Per clipped region the graph is fed (valid and min(R,G,B) >= GRAPH_WHITE, 8-connected), blind, through a look:
truth (TSI mask: cloud share of its pixels; LenghuSky: the frame's class), and candidate features. Writes an npz of rows.
usage: scratch/regions.py LOOK [tsi DAY | lenghu YEARS]"""
import os, sys
from pathlib import Path
import numpy as np
from PIL import Image
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens as L, model as M
from cielo.sources.skycam.model import OctaModel

model = OctaModel()
look, kind = sys.argv[1], sys.argv[2]
tr, q = cs.TRANSFORMS[look]
if kind == "tsi":
    day = sys.argv[3]
    samples = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")]
    masks = {p.name.split(".png.")[1][:14]: p for p in (Path("/work/data/tsi") / "CloudMask").glob("*/*.png")}
    circle, site, timed = cs.TSI_CIRCLE, skydata.TSI_SITE, False
else:
    years = sys.argv[3].split(",")
    samples = [s for s in skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True) if s.name[:4] in years]
    circle, site, timed = cs.LENGHU_CIRCLE, skydata.LENGHU_SITE, True
    from cielo.sources.skycam import regime
    samples = [s for s in samples if regime.light(s.extra["when"], *site).regime == regime.DAY]

seen = []
orig = OctaModel.predict
def rec(self, frames, lights=None, maps_out=None, hazy=False):
    out = [] if maps_out is None else maps_out
    p = orig(self, frames, lights, out, hazy)
    seen.append((frames, out[-len(frames):]))
    return p
OctaModel.predict = rec

def label(mask):
    lab = np.zeros(mask.shape, np.int32); n = 0
    H, W = mask.shape
    for y0, x0 in zip(*np.nonzero(mask)):
        if lab[y0, x0]: continue
        n += 1; st = [(y0, x0)]; lab[y0, x0] = n
        while st:
            y, x = st.pop()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < H and 0 <= xx < W and mask[yy, xx] and not lab[yy, xx]:
                        lab[yy, xx] = n; st.append((yy, xx))
    return lab, n

def dilate(m, k):
    out = m.copy()
    for _ in range(k):
        o = out.copy()
        o[1:] |= out[:-1]; o[:-1] |= out[1:]; o[:, 1:] |= out[:, :-1]; o[:, :-1] |= out[:, 1:]
        out = o
    return out


import dataclasses
from bench import classify_regimes
samples = [dataclasses.replace(s, jpeg=cs.shifted(s.jpeg, tr, q, circle)) for s in samples]
frames_all = [model.decode(s.jpeg) for s in samples]
byid = {id(f): s for f, s in zip(frames_all, samples)}
got = {}
ojudge = OctaModel.judge
def judge1(self, frames, times, lat, lon, counted=None):
    out = []
    for f, t in zip(frames, times):
        seen.clear()
        (v,) = ojudge(self, [f], [t], lat, lon)
        out.append(v)
        if self.calibration is not None and seen and id(f) in byid:
            got[byid[id(f)].name] = (v, seen[0])
    return out
OctaModel.judge = judge1
classify_regimes.evaluate(model, samples, site, "hour", None, 50, frames=frames_all, modes=())
OctaModel.judge = ojudge
rows = []
top = int(np.ceil(M.GRAPH_WHITE * 255))
for s in samples:
    if s.name[:8] != day or s.name not in got: continue
    v, (frames, mo) = got[s.name]
    fr = frames[0]; g, m = mo[0]
    px = fr.pixels
    valid = m.valid > 0
    darkest = px.min(axis=0)
    fed = valid & (darkest >= top)
    if not fed.any():
        continue
    nr = L.nrbr(px); thr = m.threshold
    rho = g.rho()
    H, W = darkest.shape
    if kind == "tsi":
        mk = np.asarray(Image.open(masks[s.name]).convert("RGB").resize((W, H), Image.Resampling.NEAREST)).astype(np.int32)
        code = mk[..., 0] * 65536 + mk[..., 1] * 256 + mk[..., 2]
        cloudt, cleart = (code == 0xFFFFFF) | (code == 0xC0C0C0), code == 0x0000FF
    gam = L.sun_distance(g, m.sun) if m.sun is not None else None
    yy, xx = np.mgrid[0:H, 0:W]
    az = np.arctan2((yy - g.cy) / g.ry, (xx - g.cx) / g.rx)
    lab, n = label(fed)
    nv = valid.sum()
    clipped_any = darkest >= int(L.SATURATED * 255)
    for k in range(1, n + 1):
        reg = lab == k
        size = int(reg.sum())
        if size < 3: continue
        ring = dilate(reg, 2) & ~reg
        ring_v = ring & valid & ~clipped_any  # unclipped counted neighbours
        ring_c = ring & clipped_any & ~valid   # joins the sun's blob (not counted)
        nring = ring.sum()
        bc = (nr[ring_v] < thr[ring_v]) if ring_v.any() else np.array([])
        d = nr[ring_v] - thr[ring_v] if ring_v.any() else np.array([np.nan])
        azb = np.unique(((az[reg] + np.pi) / (2 * np.pi) * 36).astype(int)).size / 36
        r = dict(name=s.name, octas=s.octas, size=size, share=size / nv,
                 cloud=float(cloudt[reg].mean()) if kind == "tsi" else np.nan,
                 clear=float(cleart[reg].mean()) if kind == "tsi" else np.nan,
                 ringcloud=float(bc.mean()) if bc.size else np.nan, ringv=ring_v.sum() / nring,
                 ringblob=ring_c.sum() / nring, dthr=float(np.median(d)),
                 ringnr=float(np.median(nr[ring_v])) if ring_v.any() else np.nan,
                 ringbright=float(np.median(px.max(axis=0)[ring_v])) if ring_v.any() else np.nan,
                 rho_min=float(rho[reg].min()), rho_med=float(np.median(rho[reg])), rho_max=float(rho[reg].max()),
                 azspan=azb, gmin=float(gam[reg].min()) if gam is not None else np.nan,
                 gmed=float(np.median(gam[reg])) if gam is not None else np.nan,
                 read=v.octas if v.octas is not None else -9)
        rows.append(r)
    print(s.name, s.octas, v.octas, n, flush=True)
import pickle
pickle.dump(rows, open(f"scratch/regcal_{look.replace(' ', '_')}_{kind}_{sys.argv[3]}.pkl", "wb"))
