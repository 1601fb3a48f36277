"""Tabulate regions.py rows: cloud (TSI mask cloud share > 0.5) vs sky, size-weighted feature quantiles."""
import pickle, sys
import numpy as np
feats = ["size", "share", "ringcloud", "ringv", "ringblob", "dthr", "ringnr", "ringbright", "rho_min", "rho_med", "rho_max", "azspan", "gmin", "gmed"]
def lab(r):
    if not np.isnan(r["cloud"]):
        return "cloud" if r["cloud"] > 0.5 else ("sky" if r["clear"] > 0.5 else "other")
    return "cloud" if r["octas"] >= 6 else ("sky" if r["octas"] <= 2 else "other")
if __name__ == "__main__":
  rows = [r for fn in sys.argv[1:] for r in pickle.load(open(fn, "rb"))]
  for cls in ("cloud", "sky", "other"):
      sel = [r for r in rows if lab(r) == cls]
      if not sel: continue
      w = np.array([r["size"] for r in sel])
      print(f"{cls}: {len(sel)} regions, {w.sum()} px")
      for f in feats:
          x = np.array([r[f] for r in sel], float)
          ok = ~np.isnan(x)
          if not ok.any(): continue
          # pixel-weighted quantiles
          o = np.argsort(x[ok]); cw = np.cumsum(w[ok][o]) / w[ok].sum()
          qs = [x[ok][o][np.searchsorted(cw, p)] for p in (0.1, 0.5, 0.9)]
          print(f"   {f:<10} px-weighted p10/50/90 {qs[0]:.3f} {qs[1]:.3f} {qs[2]:.3f}   regions p50 {np.median(x[ok]):.3f}")
