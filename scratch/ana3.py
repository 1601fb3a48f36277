import pickle, numpy as np
rows = pickle.load(open("scratch/feat.pkl", "rb"))
from cielo.sources.skycam import calibration as C
def passes(r):
    lv = r["lv"]; return lv is not None and lv[0] < C.FRAME_WARM_RED and lv[1] < C.FRAME_WARM_BULK and lv[0]-C.NEUTRAL_NRBR >= -C.CAST_MAX
for set_ in ("tsi","lh"):
  for look in ("none","wb warm"):
    for part in ("fit","check"):
      for band,f in (("sun>=5",lambda s:s>=5),("sun<5",lambda s:s<5)):
        sel=[r for r in rows if r["set"]==set_ and r["look"]==look and r["part"]==part and f(r["sun"]) and passes(r)]
        if not sel: continue
        zg=np.array([r["zen"]-r["lv"][0] for r in sel]); t=np.array([r["t"] for r in sel])
        print(set_,look,part,band,len(sel),"zen-grey deck(t>=6):",np.round(np.sort(zg[t>=6]),2)[:40] if (t>=6).any() else "-", "| t<=5 under 0.15:", int((zg[t<=5]<0.15).sum()),"of",int((t<=5).sum()))
