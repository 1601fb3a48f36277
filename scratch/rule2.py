"""Pixel share of cloud regions kept and sky regions dropped by candidate rules, per set."""
import pickle, sys
import numpy as np
sys.path.insert(0, "scratch")
from tab import lab  # noqa
sets = {n: pickle.load(open(f"scratch/{n}.pkl", "rb")) for n in (
    "reg_exposure_x1.5_tsi_20170524", "reg_dusty_dome_tsi_20170524", "regcal_dusty_dome_tsi_20170524",
    "reg_exposure_x1.5_lenghu_2018,2019")}
rules = {f"ringblob<{b}": (lambda b: lambda r: r["ringblob"] < b)(b) for b in (0.01, 0.1, 0.2, 0.3, 0.4, 0.5)}
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
