"""The gate searched on paleday_probe.py rows (rows.pkl: as judged; oracle.pkl: ORACLE=1, haze's own-sky re-read asked of
every day answer >= 6 with a seen disc): side-ratio, standout, kept-at octas. Chosen on 2018-2019, 2020 shown."""
import pickle, numpy as np, sys
a = pickle.load(open("rows_d.pkl","rb"))
b = {(r["look"],r["name"]):r for r in pickle.load(open("oracle.pkl","rb"))}
def ok(r): return r["octas"] is not None and (r["octas"]<=2 if r["truth"]<=2 else r["octas"]>=6)
AN,SO,CAP=float(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3])
g=lambda r: r.get("anti") is not None and r["anti"]<=AN and (r.get("standout") or 0)>=SO
for look in ("none","dusty dome"):
  for yrs in (("2018","2019"),("2020",)):
    ks=[k for k in a if k[0]==look and k[1][:4] in yrs]
    fire=[k for k in ks if b[k]["octas"]!=a[k]["octas"] and b[k]["octas"]<=CAP and g(a[k])]
    after=sum(ok(b[k]) if k in fire else ok(a[k]) for k in ks)
    print(f"{look[:5]}{yrs[0][-2:]}:{sum(ok(a[k]) for k in ks)}->{after}", end=" ")
