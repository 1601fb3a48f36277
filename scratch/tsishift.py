import os, sys, numpy as np
sys.path.insert(0, os.getcwd() + "/research"); sys.path.insert(0, os.getcwd())
from pathlib import Path
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens
from cielo.sources.skycam.model import OctaModel
from cielo.sources.skycam import model as M
M.GLARE_CLOUD_TEST = os.environ.get("GC", "1") == "1"
if os.environ.get("CHROMA"): lens.LIT_CHROMA = float(os.environ["CHROMA"])
if os.environ.get("TINT"): lens.LIT_TINT = float(os.environ["TINT"])
model = OctaModel()
tsi = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if cs.part(s.name) in ("fit", "check")]
parts = np.array([cs.part(s.name) for s in tsi]); t = np.array([s.octas for s in tsi])
names = sys.argv[1].split(",") if len(sys.argv) > 1 else [n for n in cs.TRANSFORMS if n not in ("original", "jpeg q60", "noise 4", "scale 0.5", "scale 2")]
line = []
for name in names:
    tr, q = cs.TRANSFORMS[name]
    o = cs.octas(model, tsi, tr, q, cs.TSI_CIRCLE, skydata.TSI_SITE, False)
    e = np.where(o >= 0, np.abs(o - t), 8)
    line.append(f"{name}: {e[parts == 'fit'].mean():.3f}/{e[parts == 'check'].mean():.3f}")
    print(line[-1], flush=True)
