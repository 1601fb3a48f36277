import numpy as np, time
from cielo.sources.skycam import lens as L
rng = np.random.default_rng(0)
m = np.zeros((20, 20), bool); m[2:5, 2:5] = True; m[5, 5] = True; m[10:12, 10:18] = True; m[15, 3] = True
r = L._regions(m); print(len(np.unique(r[m])), "regions (want 3)")
w = np.zeros_like(m); w[8:10, 10:18] = True; w[12:14, 10:18] = True
print(L.glow_white(m, w).sum(), "dropped (want 16)")
# a ring round a disc, 3 px thick
yy, xx = np.mgrid[0:240, 0:320]; rr = np.hypot(yy - 120, xx - 160)
ring = (rr > 100) & (rr < 103)
r = L._regions(ring); print(len(np.unique(r[ring])), "ring regions (want 1)")
for name, big in (("random 30%", rng.random((240, 320)) > 0.7), ("ring", ring)):
    t = time.perf_counter(); [L.glow_white(big, ~big & (rng.random(big.shape) > 0.5)) for _ in range(5)]; print((time.perf_counter() - t) / 5 * 1000, "ms", name)
# check against a BFS label on random masks
import sys; sys.argv = ["x", "none", "tsi", "0"]
for seed in range(20):
    m = np.random.default_rng(seed).random((30, 40)) > 0.55
    r = L._regions(m)
    # same partition as a flood fill
    lab = np.zeros(m.shape, int); n = 0
    for y0, x0 in zip(*np.nonzero(m)):
        if lab[y0, x0]: continue
        n += 1; st = [(y0, x0)]; lab[y0, x0] = n
        while st:
            y, x = st.pop()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    yy_, xx_ = y + dy, x + dx
                    if 0 <= yy_ < 30 and 0 <= xx_ < 40 and m[yy_, xx_] and not lab[yy_, xx_]:
                        lab[yy_, xx_] = n; st.append((yy_, xx_))
    pairs = set(zip(lab[m], r[m]))
    assert len(pairs) == n == len(set(r[m])), seed
print("labels match flood fill")
