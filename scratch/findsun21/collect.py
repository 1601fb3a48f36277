"""Per look, per chose frame: the blind find_sun's inputs (darkest, lens area, rho) and the true sun's place.
TSI 2017-05-24: the mask's sun code (0xFFFF00) centroid; LenghuSky-8 2018-2019 day: orientation.fit per camera epoch
(models/sun_study.py's LENGHU_EPOCHS) on the timed discs of the untransformed frames. Writes /tmp/fs21/<look>.npz."""
import sys
from datetime import UTC
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, "research")
sys.path.insert(0, "models")
import camera_shift as cs
import skydata
from sun_study import LENGHU_EPOCHS

from cielo.astro import sun
from cielo.sources.skycam import orientation
from cielo.sources.skycam.model import OctaModel

out = Path("/tmp/fs21")
out.mkdir(exist_ok=True)
looks = sys.argv[1].split(",")
years = sys.argv[2] if len(sys.argv) > 2 else "2018,2019"
tday = sys.argv[3] if len(sys.argv) > 3 else "20170524"
model = OctaModel()
W, H = model.width, model.height
folder = Path("/work/data/tsi")
masks = {p.name.split(".png.")[1][:14]: p for p in (folder / "CloudMask").glob("*/*.png")}
tsi = [s for s in skydata.load_tsi(folder, step=10) if s.name.startswith(tday)]
truth = []
for s in tsi:
    m = np.asarray(Image.open(masks[s.name]).convert("RGB").resize((W, H), Image.Resampling.NEAREST)).astype(np.int32)
    code = m[..., 0] * 65536 + m[..., 1] * 256 + m[..., 2]
    ys, xs = np.nonzero(code == 0xFFFF00)
    truth.append((xs.mean(), ys.mean()) if len(ys) >= 3 else (np.nan, np.nan))
lh = [s for s in skydata.load_lenghu(Path("/work/data/lenghu")) if not s.extra["night"]
      and s.name[:4] in years.split(",")]
site = skydata.LENGHU_SITE
seen = []
for s in lh:
    ts = s.extra["when"].astimezone(UTC)
    v = model.judge([model.decode(s.jpeg)], [ts], *site)[0]
    if v.sky is not None and v.sky.seen:
        seen.append((s.name, v.sky.x, v.sky.y, ts))
geom0 = model.geometry(model.decode(lh[0].jpeg))
starts = [*LENGHU_EPOCHS, "2022"]
fits = []
for a, b in zip(starts, starts[1:]):
    pts = [(x, y, *sun.position(ts, *site)) for name, x, y, ts in seen if a <= name < b]
    fits.append((a, b, orientation.fit(pts, W, H, geom0.rx / geom0.ry) if len(pts) >= 5 else None))
ltruth = []
for s in lh:
    ts = s.extra["when"].astimezone(UTC)
    el, az = sun.position(ts, *site)
    o = next((o for a, b, o in fits if a <= s.name < b), None)
    ltruth.append(o.where(el, az, W, H) if o is not None and el > 0 else (np.nan, np.nan))
print("lenghu fits", [(a, o is not None) for a, b, o in fits], "discs", len(seen))
for look in looks:
    t, q = cs.TRANSFORMS[look]
    rec = {k: [] for k in ("set", "name", "dark", "px", "area", "rho", "tx", "ty", "r", "octas")}
    for sset, samples, tr, circle in (("tsi", tsi, truth, cs.TSI_CIRCLE), ("lenghu", lh, ltruth, cs.LENGHU_CIRCLE)):
        for s, (tx, ty) in zip(samples, tr):
            f = model.decode(cs.shifted(s.jpeg, t, q, circle))
            g = model.geometry(f)
            px = f.pixels
            dark = np.minimum(np.minimum(px[0], px[1]), px[2])
            rho = g.rho()
            rec["set"].append(sset)
            rec["name"].append(s.name)
            rec["dark"].append(dark)
            rec["px"].append(px)
            rec["area"].append(rho <= 1.0)
            rec["rho"].append(rho.astype(np.float32))
            rec["tx"].append(tx)
            rec["ty"].append(ty)
            rec["r"].append((g.cx, g.cy, g.rx, g.ry) if g.found else (np.nan,) * 4)
            rec["octas"].append(s.octas)
    np.savez_compressed(out / f"{look.replace(' ', '_')}_{years.replace(',', '')}_{tday}.npz",
                        **{k: np.array(v) for k, v in rec.items()})
    print(look, len(rec["name"]))
