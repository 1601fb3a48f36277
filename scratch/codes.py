"""TSI mask colours under the fed pixels of some frames through a look, blind (FEED on, test off)."""
import os, sys
from pathlib import Path
import numpy as np
from PIL import Image
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import model as M
from cielo.sources.skycam.model import OctaModel
M.FEED_CLEAR_TEST = False
model = OctaModel()
tr, q = cs.TRANSFORMS[sys.argv[1]]
names = sys.argv[2:]
masks = {p.name.split(".png.")[1][:14]: p for p in (Path("/work/data/tsi") / "CloudMask").glob("*/*.png")}
for s in skydata.load_tsi(Path("/work/data/tsi"), step=10):
    if s.name not in names: continue
    f = model.decode(cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE)); out = []
    model.predict([f], None, maps_out=out); g, m = out[0]
    fed = (m.valid > 0) & (f.pixels.min(axis=0) >= 245)
    H, W = fed.shape
    mk = np.asarray(Image.open(masks[s.name]).convert("RGB").resize((W, H), Image.Resampling.NEAREST)).astype(np.int32)
    code = mk[..., 0] * 65536 + mk[..., 1] * 256 + mk[..., 2]
    u, c = np.unique(code[fed], return_counts=True)
    print(s.name, "sun", m.sun, {hex(a): int(b) for a, b in zip(u, c)})
