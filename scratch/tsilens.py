import os
os.environ["LOOKS"] = "none,wb warm"
exec(open("scratch/gate.py").read().split("for gname in")[0].replace("lh = [s for s in", "lh = [] and [s for s in"))
GATE = None
geo = {id(w.pixels): model.geometry(n) for w, n in zip(dec["tsi", "wb warm"], dec["tsi", "none"])}
orig_geom = OctaModel.geometry
def read(look, own):
    OctaModel.geometry = orig_geom if own else (lambda self, f, light=None: geo.get(id(f.pixels)) or orig_geom(self, f, light))
    return np.array([-9 if v.octas is None else v.octas for v in model.judge(dec["tsi", look], [None] * len(tsi), *skydata.TSI_SITE)])
err = lambda o: np.where(o >= 0, np.abs(o - tt), 8)
diff = np.array([(lambda a, b: abs(a.rx - b.rx) + abs(a.ry - b.ry) + abs(a.cx - b.cx) + abs(a.cy - b.cy))(model.geometry(w), model.geometry(n)) > 4 for w, n in zip(dec["tsi", "wb warm"], dec["tsi", "none"])])
b, c = read("wb warm", True), read("wb warm", False)
for p in ("fit", "check"):
    s = tp == p
    print(p, f"warm own lens {err(b)[s].mean():.3f}, warm on the untransformed frame's lens {err(c)[s].mean():.3f}; lens moved > 4 px in {(diff & s).sum()} of {s.sum()}")
