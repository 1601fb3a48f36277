import pickle, numpy as np
rows = pickle.load(open('scratch/day50.pkl','rb'))
keys = ["el","state","glow","standout","clip","nb_near","nb_far","nb_90","nb_anti","l_90","l_anti","nb_zen","nb_hor","l_zen","l_hor","nb_p10","nb_p90","thr_gap","cloudshare","zr","bright"]
def fmt(r):
    return " ".join(f"{k}={r.get(k):.3f}" if isinstance(r.get(k),float) else f"{k}={r.get(k)}" for k in keys)
miss = [r for r in rows if (r["truth"]>=6 and (r["read"] or 0)<6) or (r["truth"]<=2 and (r["read"] or 9)>2)]
for r in miss: print(r["name"], r["truth"], r["read"], r["flag"], fmt(r))
print(len(rows), sum(r['truth']<=2 for r in rows), sum(r['truth']>=6 for r in rows))
