import os, sys, time, pickle
from pathlib import Path
import numpy as np
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.getcwd() + "/research")
import camera_shift as cs
from models import skydata
from cielo.sources.skycam import lens as L
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
tr, q = cs.TRANSFORMS["exposure x1.5"]
samples = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if s.name[:8] == "20170524"]
masks = []
for s in samples[::3]:
    f = model.decode(cs.shifted(s.jpeg, tr, q, cs.TSI_CIRCLE))
    out = []; model.predict([f], None, maps_out=out); g, m = out[0]
    d = f.pixels.min(axis=0); valid = m.valid > 0; fed = valid & (d >= 245)
    if fed.any(): masks.append((fed, (d >= 239) & ~valid))
pickle.dump(masks, open("/tmp/white21_masks.pkl", "wb"))
print(len(masks), masks[0][0].shape)
