"""Pixel share of cloud regions kept and sky regions dropped by candidate rules, per set."""
import pickle, sys
import numpy as np
sys.path.insert(0, "scratch")
from tab import lab  # noqa
sets = {n: pickle.load(open(f"scratch/{n}.pkl", "rb")) for n in (
    "reg_exposure_x1.5_tsi_20170524", "reg_dusty_dome_tsi_20170524", "regcal_dusty_dome_tsi_20170524",
    "reg_exposure_x1.5_lenghu_2018,2019")}
rules = {
    "ringcloud>=0.5": lambda r: not (r["ringcloud"] < 0.5),
    "ringblob<0.4": lambda r: r["ringblob"] < 0.4,
    "both": lambda r: not (r["ringcloud"] < 0.5) and r["ringblob"] < 0.4,
    "ringcloud>=0.5 or ringblob<0.4": lambda r: not (r["ringcloud"] < 0.5) or r["ringblob"] < 0.4,
    "ringcloud>=0.3": lambda r: not (r["ringcloud"] < 0.3),
    "ringblob<0.3": lambda r: r["ringblob"] < 0.3,
}
for name, rule in rules.items():
    print(name)
    for sn, rows in sets.items():
        out = []
        for cls in ("cloud", "sky", "other"):
            sel = [r for r in rows if lab(r) == cls]
            tot = sum(r["size"] for r in sel)
            kept = sum(r["size"] for r in sel if rule(r))
            out.append(f"{cls} kept {kept}/{tot} ({kept / max(tot, 1):.0%})")
        print(f"   {sn:<38} " + "  ".join(out))
