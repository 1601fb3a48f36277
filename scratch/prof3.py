import pickle, time
import numpy as np
from cielo.sources.skycam import lens as L
masks = pickle.load(open("/tmp/white21_masks.pkl", "rb"))
def t(fn, n=20):
    t0 = time.perf_counter()
    for _ in range(n):
        for fed, unc in masks: fn(fed, unc)
    return (time.perf_counter() - t0) / n / len(masks) * 1000
print("glow_white", t(L.glow_white))
print("_regions", t(lambda f, u: L._regions(f)))
print("_runs", t(lambda f, u: L._runs(f)))
print("nonzero", t(lambda f, u: np.nonzero(f)))
