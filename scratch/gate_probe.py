"""Candidate gates for a dusty dome judged blind: light on what should be dark (session 20, veilglare20)."""
import io, json, sys
import numpy as np
from pathlib import Path
from PIL import Image
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "research"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import regime

LOOKS = ["none", "dusty dome", "dusty dome (sun in lens)"]


def feats(jpeg, circle):
    a = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.float32)
    h, w = a.shape[:2]
    cx, cy, r = circle[0] * w, circle[1] * h, circle[2] * w
    yy, xx = np.mgrid[0:h, 0:w]
    rho = np.hypot(xx - cx, yy - cy) / r
    lum = a.mean(axis=2)
    disk = rho < 0.97
    inner = rho < 0.8
    med = np.median(lum[inner])
    d = lum[disk]
    nr = (a[..., 2] - a[..., 0]) / np.maximum(a[..., 2] + a[..., 0], 1)
    out = dict(med=float(med), p1=float(np.percentile(d, 1) / med), p3=float(np.percentile(d, 3) / med),
               p05=float(np.percentile(d, 0.5) / med),
               nr50=float(np.median(nr[inner])), nr90=float(np.percentile(nr[inner], 90)))
    # darkest per quadrant: evenness
    qs = []
    for qx in (xx < cx, xx >= cx):
        for qy in (yy < cy, yy >= cy):
            s = disk & qx & qy
            qs.append(np.percentile(lum[s], 2) / med)
    out["qmin"], out["qmax"] = float(min(qs)), float(max(qs))
    ring = (rho > 1.03) & (rho < 1.3)
    out["sur"] = float(np.median(lum[ring]) / med) if ring.any() else np.nan
    # darkest pixels' chroma: saturation of the darkest 2 %
    dk = disk & (lum <= np.percentile(d, 2))
    mx, mn = a.max(axis=2), a.min(axis=2)
    out["dsat"] = float(np.median(((mx - mn) / np.maximum(mx, 1))[dk]))
    out["sat"] = float(np.median(((mx - mn) / np.maximum(mx, 1))[inner]))
    return out


def main():
    which = sys.argv[1]
    rows = []
    if which == "tsi":
        samples = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")]
        circle = cs.TSI_CIRCLE
    else:
        years = sys.argv[2].split(",")
        samples = [s for s in skydata.load_lenghu(Path("/work/data/lenghu")) if s.name[:4] in years
                   and (s.octas <= 2 or s.octas >= 6)
                   and regime.light(s.extra["when"], *skydata.LENGHU_SITE).regime == regime.DAY]
        circle = cs.LENGHU_CIRCLE
    for s in samples:
        for look in LOOKS:
            t, q = cs.TRANSFORMS[look]
            f = feats(cs.shifted(s.jpeg, t, q, circle), circle)
            rows.append(dict(name=s.name, part=cs.part(s.name), t=int(s.octas), look=look, **f))
    json.dump(rows, open(f"/tmp/vg20_{which}.json", "w"))


if __name__ == "__main__":
    main()
