"""The gate searched on paleday_probe.py rows (rows.pkl: as judged; oracle.pkl: ORACLE=1, haze's own-sky re-read asked of
every day answer >= 6 with a seen disc): side-ratio, standout, kept-at octas. Chosen on 2018-2019, 2020 shown."""
import pickle, numpy as np, itertools
a = {(r["look"],r["name"]):r for r in pickle.load(open("rows.pkl","rb"))}
b = {(r["look"],r["name"]):r for r in pickle.load(open("oracle.pkl","rb"))}
def ok(r): return r["octas"] is not None and (r["octas"]<=2 if r["truth"]<=2 else r["octas"]>=6)
def score(gate, yrs, cap):
    res={}
    for look in ("none","dusty dome"):
        ks=[k for k in a if k[0]==look and k[1][:4] in yrs]
        res[look]=sum(ok(b[k]) if (b[k]["octas"]!=a[k]["octas"] and b[k]["octas"]<=cap and gate(a[k])) else ok(a[k]) for k in ks)
    return res
f=lambda r,k,d=-1: r.get(k) if r.get(k) is not None else d
best=[]
for cap in (2,1,0):
  for an,lv,so,fo,al in itertools.product([0.7,0.75,0.8,0.85,0.9,9],[0,0.11,0.12,0.13],[0,2.1,2.2,2.3],[0,1.2,1.25],[0,5,10,20]):
    g=lambda r: f(r,"anti",9)<=an and f(r,"lvl")>=lv and f(r,"standout")>=so and f(r,"falloff")>=fo and r["alt"]>=al
    s=score(g,("2018","2019"),cap)
    if s["none"]>=200: best.append((s["dusty dome"],cap,an,lv,so,fo,al,score(g,("2020",),cap)))
best.sort(key=lambda x:(x[0],x[2]),reverse=True)
for x in best[:20]: print(x)
# what the no-anti best is
print([x for x in best if x[2]==9][:5])
