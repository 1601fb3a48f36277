"""The gate's candidates as the judge sees a frame (model size, its own lens, blind light): darkest share of the
lens circle over the sky's median, the surface's bluest tenth (session 20, veilglare20)."""
import json, sys
import numpy as np
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "research"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens, regime
from cielo.sources.skycam.model import OctaModel

LOOKS = ["none", "dusty dome", "dusty dome (sun in lens)"]


def feats(model, f):
    g = model.geometry(f)
    light = model.seen_light(f)
    rho = g.rho()
    px = f.pixels
    bright = px.max(axis=0).astype(np.float32)
    sky = (rho <= lens.OCTA_RADIUS) & ~f.not_sky()
    circle = rho <= 1.0
    med = float(np.median(bright[sky])) if sky.any() else np.nan
    out = dict(day=light is not None, found=bool(g.found))
    for p in (0.5, 1, 2, 5):
        out[f"lift{p}"] = float(np.percentile(bright[circle], p) / max(med, 1)) if circle.any() else np.nan
    lum = px.astype(np.float32).mean(axis=0)
    inner, disk = rho < 0.8, rho < 0.97
    lmed = float(np.median(lum[inner])) if inner.any() else np.nan
    for p in (0.25, 0.5, 1):
        out[f"mlift{p}"] = float(np.percentile(lum[disk], p) / max(lmed, 1)) if disk.any() else np.nan
    out["lmed"] = lmed
    obst = circle & f.not_sky()
    out["obst"] = float(obst.mean() / max(circle.mean(), 1e-6))
    out["obst_med"] = float(np.median(bright[obst]) / max(med, 1)) if obst.sum() > 20 else np.nan
    m = model.maps(f, g, light)
    out["level"] = np.nan
    if m.sun is not None:
        lv = lens.surface_level(lens.nrbr(px), m.valid > 0, rho, lens.sun_distance(g, m.sun))
        out["level"] = np.nan if lv is None else float(lv)
    return out


def main():
    which = sys.argv[1]
    model = OctaModel()
    if which == "tsi":
        samples = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")]
        circle = cs.TSI_CIRCLE
    else:
        years = sys.argv[2].split(",")
        samples = [s for s in skydata.load_lenghu(Path("/work/data/lenghu")) if s.name[:4] in years
                   and (s.octas <= 2 or s.octas >= 6)
                   and regime.light(s.extra["when"], *skydata.LENGHU_SITE).regime == regime.DAY]
        circle = cs.LENGHU_CIRCLE
    rows = []
    for s in samples:
        for look in LOOKS:
            t, q = cs.TRANSFORMS[look]
            f = model.decode(cs.shifted(s.jpeg, t, q, circle))
            rows.append(dict(name=s.name, part=cs.part(s.name), t=int(s.octas), look=look, **feats(model, f)))
    json.dump(rows, open(f"/tmp/vg20m_{which}{sys.argv[2] if len(sys.argv) > 2 else ''}.json", "w"))


if __name__ == "__main__":
    main()
