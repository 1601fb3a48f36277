import pickle, numpy as np
rows = pickle.load(open("scratch/feat.pkl", "rb"))
from cielo.sources.skycam import calibration as C
def passes(r):
    lv = r["lv"]
    return lv is not None and lv[0] < C.FRAME_WARM_RED and lv[1] < C.FRAME_WARM_BULK and lv[0]-C.NEUTRAL_NRBR >= -C.CAST_MAX
def q(a): a=np.array(a); return f"min {a.min():.3f} p5 {np.percentile(a,5):.3f} med {np.median(a):.3f} p95 {np.percentile(a,95):.3f} max {a.max():.3f}"
for set_ in ("tsi","lh"):
  for look in ("none","wb warm"):
    for band,f in (("sun>=5",lambda s:s>=5),("0<=sun<5",lambda s:0<=s<5),("sun<0",lambda s:s<0)):
        sel=[r for r in rows if r["set"]==set_ and r["look"]==look and f(r["sun"]) and passes(r)]
        if not sel: continue
        print(set_, look, band, len(sel))
        for k in ("bright","p50","p90","p98","zen"):
            print("   ",k, q([r[k] for r in sel]))
        print("    p98-grey", q([r["p98"]-r["lv"][0] for r in sel]), " cover-grey", q([r["lv"][2]-r["lv"][0] for r in sel]))
        print("    seen", sum(r["seen"] is not None for r in sel), "starry", sum(r["starry"] for r in sel))
print("brightness all frames")
for set_ in ("tsi","lh"):
    for band,f in (("sun>=5",lambda s:s>=5),("0<=sun<5",lambda s:0<=s<5),("sun<0",lambda s:s<0)):
        sel=[r["bright"] for r in rows if r["set"]==set_ and r["look"]=="none" and f(r["sun"])]
        if sel: print(set_, band, len(sel), q(sel))
