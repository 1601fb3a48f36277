import numpy as np
from cielo.sources.skycam import night
a = np.load("scratch/dp_none.npz"); b = np.load("scratch/dp_dusty_dome.npz")
yr = np.array([n[:4] for n in a["names"]])
for years in (("2018","2019"),("2020",)):
    sel0 = np.isin(yr, years)
    print("YEARS", years)
    bands = np.array([night.rim_band(r, s) for r, s in zip(a["regime"], a["sun"])])
    for band in night.RIM_BANDS_REF:
        s = sel0 & (bands == band)
        d = b["rim"][s] - a["rim"][s]
        print(f"  {band:14s} n={s.sum():3d} none {np.nanmedian(a['rim'][s]):+.3f} dome {np.nanmedian(b['rim'][s]):+.3f} diff med {np.nanmedian(d):+.3f} ({np.nanpercentile(d,10):+.3f}..{np.nanpercentile(d,90):+.3f})")
    sh0 = a["rim"][sel0] - np.array([night.RIM_BANDS_REF[x] for x in bands[sel0]])
    sh1 = b["rim"][sel0] - np.array([night.RIM_BANDS_REF[x] for x in bands[sel0]])
    print("  all-frames shift median none %.3f dome %.3f" % (np.nanmedian(sh0), np.nanmedian(sh1)))
    tw = sel0 & (a["regime"] == "twilight")
    for lab, m in (("clear", a["octas"] <= 2), ("overcast", a["octas"] >= 6)):
        s = tw & m
        for look, z in (("none", a), ("dome", b)):
            w, aw = z["whole"][s], z["away"][s]
            ov = (w < night.HORIZON_RISE) | (aw < night.AWAY_RISE)
            print(f"  twilight {lab:8s} {look} n={s.sum()} whole med {np.nanmedian(w):.2f} 10-90 {np.nanpercentile(w,10):.2f}..{np.nanpercentile(w,90):.2f}  away {np.nanmedian(aw):.2f} ({np.nanpercentile(aw,10):.2f}..{np.nanpercentile(aw,90):.2f}) overcast-read {ov.sum()}  whole<HR {(w<night.HORIZON_RISE).sum()} away<AR {(aw<night.AWAY_RISE).sum()}")
