import pickle, time
import numpy as np
from cielo.sources.skycam import lens as L
masks = pickle.load(open("/tmp/white21_masks.pkl", "rb"))
T = {}
def tick(k, t0):
    t = time.perf_counter(); T[k] = T.get(k, 0) + t - t0; return t
for _ in range(20):
  for fed, white in masks:
    t = time.perf_counter()
    ys, xs = np.nonzero(fed); h, w = fed.shape; m = 2
    box = (slice(max(int(ys.min()) - m, 0), min(int(ys.max()) + m + 1, h)), slice(max(int(xs.min()) - m, 0), min(int(xs.max()) + m + 1, w)))
    t = tick("box", t)
    near = white[box]
    for _ in range(m):
        g = near.copy(); g[1:] |= near[:-1]; g[:-1] |= near[1:]; g[:, 1:] |= near[:, :-1]; g[:, :-1] |= near[:, 1:]; near = g
    hit = (near & fed[box]).any()
    t = tick("near", t)
    if not hit: continue
    f = fed[box]
    runs = L._runs(f)
    t = tick("runs", t)
    up, down = runs[:-1], runs[1:]
    a = [up[(up > 0) & (down > 0)]]; b = [down[(up > 0) & (down > 0)]]
    for u, d in ((up[:, 1:], down[:, :-1]), (up[:, :-1], down[:, 1:])):
        both = (u > 0) & (d > 0); a.append(u[both]); b.append(d[both])
    a, b = np.concatenate(a), np.concatenate(b)
    t = tick("pairs", t)
    lab = np.arange(int(runs.max()) + 1)
    while a.size:
        ra, rb = lab[a], lab[b]; apart = ra != rb
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]
        np.minimum.at(lab, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:
            root = lab[lab]
            if np.array_equal(root, lab): break
            lab = root
    region = lab[runs]
    t = tick("union", t)
    grown = region
    for _ in range(m):
        g = grown.copy()
        np.maximum(g[1:], grown[:-1], out=g[1:]); np.maximum(g[:-1], grown[1:], out=g[:-1])
        np.maximum(g[:, 1:], grown[:, :-1], out=g[:, 1:]); np.maximum(g[:, :-1], grown[:, 1:], out=g[:, :-1])
        grown = np.where(region > 0, region, g)
    t = tick("grow", t)
    ring = (grown > 0) & (region == 0)
    n = int(region.max()) + 1
    border = np.bincount(grown[ring], minlength=n); glow = np.bincount(grown[ring & white[box]], minlength=n)
    drop = glow >= 0.4 * np.maximum(border, 1); drop[0] = False
    out = np.zeros_like(fed); out[box] = drop[region]
    t = tick("count", t)
for k, v in T.items(): print(k, round(v / 20 / len(masks) * 1000, 3), "ms")
