import pickle, sys, numpy as np
out = pickle.load(open(sys.argv[1], "rb"))
for (look, key), d in out.items():
    if key != "tsi": continue
    for pt in ("fit", "check"):
        sel = d["parts"] == pt
        t, off, on, st = d["t"][sel], d["off"][sel], d["on"][sel], d["stats"][sel]
        print(f"== {look} {pt}")
        for o in range(9):
            s = t == o
            if not s.any(): continue
            eo, en = off[s] - o, on[s] - o
            print(f"  truth {o}: n={s.sum():3d} off err {np.abs(eo).mean():.2f} (under {(eo<0).sum()}, over {(eo>0).sum()})  on {np.abs(en).mean():.2f} (under {(en<0).sum()}, over {(en>0).sum()})  split {np.nanmedian(st[s,0]):.3f} contr {np.nanmedian(st[s,1]):.3f}")
        mv = np.flatnonzero(on != off)
        for i in mv[:40]:
            print(f"    moved: truth {t[i]} off {off[i]} on {on[i]} split {st[i,0]:.3f} contrast {st[i,1]:.3f} below split {st[i,2]:.3f} below .14 {st[i,3]:.3f}")
