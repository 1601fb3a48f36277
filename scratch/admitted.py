"""glare23: what lens.glare_cloud counts as cloud, against TSI's own mask: per frame (TSI dev through a look, timed,
uncalibrated), the admitted share of the counted area and its split by the mask (cloud / clear / other), by truth.
usage: admitted.py LOOK [LOOK...]"""
import os, sys, dataclasses
from pathlib import Path
import numpy as np
from PIL import Image
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens, regime
from cielo.sources.skycam import model as M
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
folder = Path("/work/data/tsi")
masks = {p.name.split(".png.")[1][:14]: p for p in (folder / "CloudMask").glob("*/*.png")}
tsi = [s for s in skydata.load_tsi(folder, step=10) if cs.part(s.name) in ("fit", "check")]
site = skydata.TSI_SITE
got = []
orig = lens.glare_cloud
def spy(*a):
    out = orig(*a)
    got.append(out)
    return out
lens.glare_cloud = spy
for name in sys.argv[1:]:
    tr, q = cs.TRANSFORMS[name]
    agg = {}
    for s in tsi:
        f = model.decode(cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE))
        li = regime.light(s.extra["when"], *site)
        got.clear()
        mo = []
        M.GLARE_CLOUD_TEST = True
        on = model.predict([model.as_read(f, li)], [li], maps_out=mo)[0]
        M.GLARE_CLOUD_TEST = False
        off = model.predict([model.as_read(f, li)], [li])[0]
        adm = got[0] if got else None
        key = (s.name[:8], "0" if s.octas == 0 else "1" if s.octas == 1 else "2-3" if s.octas <= 3 else "4-8")
        a = agg.setdefault(key, dict(n=0, hit=0, share=0.0, cloud=0.0, clear=0.0, other=0.0, up=0, down=0))
        a["n"] += 1
        a["up"] += int(on.argmax() > off.argmax()); a["down"] += int(on.argmax() < off.argmax())
        if adm is None or not adm.any():
            continue
        g, m = mo[0]
        H, W = adm.shape
        mk = np.asarray(Image.open(masks[s.name]).convert("RGB").resize((W, H), Image.Resampling.NEAREST)).astype(np.int32)
        code = mk[..., 0] * 65536 + mk[..., 1] * 256 + mk[..., 2]
        isc = (code == 0xFFFFFF) | (code == 0xC0C0C0)
        clr = code == 0x0000FF
        area = max(int((m.valid > 0).sum()), 1)
        a["hit"] += 1
        a["share"] += adm.sum() / area
        a["cloud"] += (adm & isc).sum() / area
        a["clear"] += (adm & clr).sum() / area
        a["other"] += (adm & ~isc & ~clr).sum() / area
    for (day, tr_), a in sorted(agg.items()):
        n = a["n"]
        print(f"{name} {day} truth {tr_}: {n} frames, {a['hit']} with blob counted; mean share {a['share']/n:.4f} "
              f"(cloud {a['cloud']/n:.4f}, clear {a['clear']/n:.4f}, other {a['other']/n:.4f}); argmax up {a['up']} down {a['down']}")
