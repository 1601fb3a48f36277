import pickle, time
import numpy as np
from cielo.sources.skycam import lens as L
masks = pickle.load(open("/tmp/white21_masks.pkl", "rb"))
iters = []
orig = np.minimum.at
cnt = [0]
def at(*a): cnt[0] += 1; return orig(*a)
for fed, unc in masks:
    cnt[0] = 0
    runs = L._runs(fed)
    t0 = time.perf_counter()
    for _ in range(50): L._regions(fed)
    t1 = time.perf_counter()
    iters.append(((t1 - t0) / 50 * 1000, int(runs.max()), int(fed.sum())))
for x in sorted(iters): print(x)
