import pickle, time
import numpy as np
from cielo.sources.skycam import lens as L
masks = pickle.load(open("/tmp/white21_masks.pkl", "rb"))
early = 0
for fed, unc in masks:
    near = unc.copy()
    for _ in range(2):
        g = near.copy(); g[1:] |= near[:-1]; g[:-1] |= near[1:]; g[:, 1:] |= near[:, :-1]; g[:, :-1] |= near[:, 1:]; near = g
    early += not (near & fed).any()
print(early, "of", len(masks), "exit early")
ts = []
for fed, unc in masks:
    t0 = time.perf_counter()
    for _ in range(20): L.glow_white(fed, unc)
    ts.append((time.perf_counter() - t0) / 20 * 1000)
print("median", np.median(ts), "p90", np.percentile(ts, 90))
