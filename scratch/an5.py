import pickle, math
rows = pickle.load(open("scratch/twinum.pkl", "rb"))
for yrs in (("2018","2019"),("2020",)):
  for look in ("none","dusty dome"):
    for s in (0, -0.1, -0.15, -0.2, -0.25, -0.3):
        k = math.exp(-s)
        c = {"clear_ovc":0,"clear":0,"ovc_ovc":0,"ovc":0}
        for r in rows:
            if r[0] != look or r[1][:4] not in yrs: continue
            w, a = r[5], r[6]
            w2 = (1+w)*k-1; a2 = None if a is None else (1+a)*k-1
            ov = w2 < 0.3 or (a2 is not None and a2 < 0.05)
            key = "clear" if r[2] <= 2 else "ovc"
            c[key] += 1; c[key+"_ovc"] += ov
        print(yrs, look, s, f"clear read ovc by rise {c['clear_ovc']}/{c['clear']}, overcast caught by rise {c['ovc_ovc']}/{c['ovc']}")
