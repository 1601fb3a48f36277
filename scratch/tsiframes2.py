import os
os.environ["LOOKS"] = "none,wb warm"
exec(open("scratch/gate.py").read().split("for gname in")[0].replace("lh = [s for s in", "lh = [] and [s for s in"))
def read(look, gate):
    global GATE
    GATE = GATES[gate]
    return np.array([-9 if v.octas is None else v.octas for v in model.judge(dec["tsi", look], [None] * len(tsi), *skydata.TSI_SITE)])
a, b, c = read("none", "off"), read("wb warm", "off"), read("wb warm", "oracle")
err = lambda o: np.where(o >= 0, np.abs(o - tt), 8)
for p in ("fit", "check"):
    m = (b != c) & (tp == p)
    print(p, "moved", m.sum(), f"MAE there none {err(a)[m].mean():.3f} warm {err(b)[m].mean():.3f} oracle {err(c)[m].mean():.3f}",
          "|oracle-none| hist", np.bincount(np.abs(c - a)[m]), "truths", np.bincount(tt[m], minlength=9))
    for k in range(9):
        s = (tt == k) & (tp == p)
        if s.any(): print(f"   truth {k} n {s.sum()} err none {err(a)[s].mean():.2f} warm {err(b)[s].mean():.2f} oracle {err(c)[s].mean():.2f} moved {(m & s).sum()}")
for i in np.flatnonzero((tt == 0) & (tp == "fit"))[:12]:
    f = dec["tsi", "wb warm"][i]; g = dec["tsi", "none"][i]
    print(tsi[i].name, "none", a[i], "warm", b[i], "oracle", c[i], "lv warm", np.round(C.cast_levels(f.pixels, model.geometry(f), f.not_sky()), 3), "lv none", np.round(C.cast_levels(g.pixels, model.geometry(g), g.not_sky()), 3))
print("clear fit frames (truth 0) through warm, by why the rule leaves them")
cat = {}
for i in np.flatnonzero((tt == 0) & (tp == "fit")):
    f = dec["tsi", "wb warm"][i]; lv = C.cast_levels(f.pixels, model.geometry(f), f.not_sky()); sun_ = SUN[id(f.pixels)]
    k = "past CAST_MAX" if lv[0] - C.NEUTRAL_NRBR < -C.CAST_MAX else ("bars not passed" if not (lv[0] < C.FRAME_WARM_RED and lv[1] < C.FRAME_WARM_BULK) else "passes")
    cat.setdefault(k, []).append((sun_, b[i], lv[0], lv[1]))
for k, v in cat.items():
    v = np.array(v); print(k, len(v), "sun", np.round(v[:, 0].min(), 1), np.round(v[:, 0].max(), 1), "read warm hist", np.bincount(v[:, 1].astype(int)), "grey", np.round(v[:, 2].min(), 2), np.round(v[:, 2].max(), 2), "bulk", np.round(v[:, 3].min(), 2), np.round(v[:, 3].max(), 2))
