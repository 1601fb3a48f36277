import numpy as np
from cielo.sources.skycam import night
for look in ("none", "dusty_dome"):
    z = np.load(f"scratch/dp_{look}.npz")
    yr = np.array([n[:4] for n in z["names"]])
    sh = z["rim"] - np.array([night.RIM_BANDS_REF[night.rim_band(r, s)] for r, s in zip(z["regime"], z["sun"])])
    for yrs in (("2018","2019"),("2020",)):
        idx = np.where(np.isin(yr, yrs) & ~np.isnan(sh))[0]
        rng = np.random.default_rng(0)
        r = np.array([np.median(sh[rng.choice(idx, 50, replace=False)]) for _ in range(1000)])
        order = idx[np.argsort(z["names"][idx])]
        c = np.array([np.median(sh[order[i:i+50]]) for i in range(0, len(order)-50, 5)])
        print(look, yrs, "random p5/50/95 %.3f %.3f %.3f" % tuple(np.percentile(r, [5,50,95])), "< -0.1: %.1f%%  < -0.2: %.1f%%" % (100*(r<-0.1).mean(), 100*(r<-0.2).mean()),
              "| consec p5/50/95 %.3f %.3f %.3f" % tuple(np.percentile(c, [5,50,95])), "< -0.1: %.1f%% < -0.2 %.1f%%" % (100*(c<-0.1).mean(), 100*(c<-0.2).mean()))
