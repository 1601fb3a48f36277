import json, sys, numpy as np
A = {r["name"]: r for r in json.load(open(f"/tmp/b23/pix_{sys.argv[1]}.json"))}
B = {r["name"]: r for r in json.load(open(f"/tmp/b23/pix_{sys.argv[2]}.json"))}
keys = ["gfrac", "fed", "fedcloudmask", "fedclear", "chan", "chancloud", "chancloud_clr", "other_cloud_clr", "cloud_clr", "miss", "rim_clr", "near_sun_clr", "cl_out", "cl_out_clip", "cl_out_glow", "clr_out", "maskfrac"]
for day in ("20170524", "20180418"):
    for lo, hi in ((0, 0), (1, 1), (2, 3), (4, 6), (7, 8)):
        sel = [k for k, r in A.items() if k.startswith(day) and lo <= r["t"] <= hi]
        if not sel: continue
        err = lambda D: np.mean([abs(D[k]["read"] - D[k]["t"]) for k in sel])
        print(f"{day} t{lo}-{hi} n{len(sel):3d} err {err(A):.2f}/{err(B):.2f} frac {np.mean([A[k]['frac'] for k in sel]):.3f} " +
              " ".join(f"{c} {np.mean([A[k][c] or 0 for k in sel]):.3f}/{np.mean([B[k][c] or 0 for k in sel]):.3f}" for c in keys))
