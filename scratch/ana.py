import pickle, numpy as np
rows = pickle.load(open("scratch/feat.pkl", "rb"))
from cielo.sources.skycam import calibration as C
def passes(r):
    lv = r["lv"]
    return lv is not None and lv[0] < C.FRAME_WARM_RED and lv[1] < C.FRAME_WARM_BULK and lv[0]-C.NEUTRAL_NRBR >= -C.CAST_MAX
for r in rows:
    if passes(r) and r["look"] == "none":
        print(r["set"], r["part"], r["name"], r["t"], f"sun {r['sun']:.1f} {r['reg']} lv {np.round(r['lv'],3)} br {r['bright']:.2f} st {r['starry']} seen {r['seen']} p50 {r.get('p50',0):.3f} p90 {r.get('p90',0):.3f} p98 {r.get('p98',0):.3f} zen {r.get('zen',0):.3f}")
print("---- warm passing, summary by set/part/sun band")
import collections
for set_ in ("tsi","lh"):
  for look in ("none","wb warm"):
    for part in ("fit","check"):
        sel=[r for r in rows if r["set"]==set_ and r["look"]==look and r["part"]==part]
        hi=[r for r in sel if r["sun"]>=5]; lo=[r for r in sel if r["sun"]<5]
        ph=[r for r in hi if passes(r)]; pl=[r for r in lo if passes(r)]
        print(set_, look, part, f"sun>=5 {len(ph)}/{len(hi)}  sun<5 {len(pl)}/{len(lo)}")
