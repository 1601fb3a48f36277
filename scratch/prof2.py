import pickle, time, cProfile, pstats
import numpy as np
from cielo.sources.skycam import lens as L
masks = pickle.load(open("/tmp/white21_masks.pkl", "rb"))
def run():
    for fed, unc in masks:
        L.glow_white(fed, unc)
t = time.perf_counter()
for _ in range(10): run()
print((time.perf_counter() - t) / 10 / len(masks) * 1000, "ms per frame")
cProfile.run("for _ in range(10): run()", "/tmp/white21_prof")
pstats.Stats("/tmp/white21_prof").sort_stats("tottime").print_stats(12)
