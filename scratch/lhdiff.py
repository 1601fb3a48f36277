import os
os.environ["LOOKS"] = "none"
exec(open("scratch/gate.py").read().split("for gname in")[0].replace("tsi = [s for s in", "tsi = [] and [s for s in"))
def read(gate):
    global GATE
    GATE = GATES[gate]
    return np.array([-9 if v.octas is None else v.octas for v in model.judge(dec["lh", "none"], [None] * len(lh), *skydata.LENGHU_SITE)])
a, b = read("off"), read("quiet")
for i in np.flatnonzero(a != b):
    f = dec["lh", "none"][i]
    print(lh[i].name, "t", lt[i], "off", a[i], "quiet", b[i], "sun", round(SUN[id(f.pixels)], 1), "noise", round(daylight.noise_share(f.bright), 4), "lv", np.round(C.cast_levels(f.pixels, model.geometry(f), f.not_sky()), 3))
