import sys, os, numpy as np
sys.argv = ["x"]; os.environ["GATES"] = "off"; os.environ["LOOKS"] = "none,wb warm"
exec(open("scratch/gate.py").read().split("for gname in")[0].replace("lh = [s for s in", "lh = [] and [s for s in"))
def read(look, gate, timed=False):
    global GATE
    GATE = GATES[gate]
    return np.array([-9 if v.octas is None else v.octas for v in model.judge(dec["tsi", look], [s.extra["when"] if timed else None for s in tsi], *skydata.TSI_SITE)])
a, b, c, d, e_ = read("none", "off"), read("wb warm", "off"), read("wb warm", "sunlit"), read("wb warm", "off", True), read("none", "off", True)
for p in ("fit", "check"):
    s = tp == p
    m = lambda o: np.where(o >= 0, np.abs(o - tt), 8)[s].mean()
    print(p, f"blind none {m(a):.3f} warm {m(b):.3f} warm+sunlit-gate {m(c):.3f} | timed none {m(e_):.3f} warm {m(d):.3f}")
for i in np.flatnonzero(b != c):
    f = dec["tsi", "wb warm"][i]; lv = C.cast_levels(f.pixels, model.geometry(f), f.not_sky())
    print(tsi[i].name, "t", tt[i], "none", a[i], "warm", b[i], "gated", c[i], "timed warm", d[i], "lv", np.round(lv, 3))
