import sys, pickle
from pathlib import Path
import numpy as np
sys.path.insert(0, "research")
from models import skydata
from cielo.sources.skycam import twilight, lens
from cielo.sources.skycam.model import OctaModel
import misreads
CAP = {}; CUR = [None]
orig = twilight.roughness
def spy(px, valid, geom):
    CAP[CUR[0]] = (px.copy(), valid.copy(), geom); return orig(px, valid, geom)
twilight.roughness = spy
def feats(px, valid, geom, nsec=12):
    if (geom.width, geom.height) != (px.shape[2], px.shape[1]): geom = geom.scaled(px.shape[2], px.shape[1])
    rho = geom.rho(); h, w = rho.shape
    sky = (valid > 0) & (np.max(px, 0) < 250) & (rho < 0.85)
    light = px.max(0).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    ang = np.arctan2((yy - geom.cy) / geom.ry, (xx - geom.cx) / geom.rx)
    sec = ((ang + np.pi) / (2 * np.pi) * nsec).astype(int) % nsec
    rim = sky & (rho >= 0.55)
    meds = np.array([np.median(light[rim & (sec == k)]) if (rim & (sec == k)).sum() >= 8 else np.nan for k in range(nsec)])
    g = int(np.nanargmax(meds)); q = nsec // 4
    side = np.nanmean([meds[(g + q) % nsec], meds[(g - q) % nsec]]); anti = meds[(g + 2 * q) % nsec]
    zen = np.median(light[sky & (rho < 0.3)])
    # the 90-degree band: the great circle through the zenith across the glow's azimuth
    d = np.abs(((ang - (g + 0.5) * 2 * np.pi / nsec - np.pi) + np.pi) % (2 * np.pi) - np.pi)
    band = sky & (np.abs(np.abs(d) - np.pi / 2) < np.pi / 12)
    return dict(side_anti=side / anti, zen_anti=zen / anti, band_anti=float(np.median(light[band])) / anti, glow_anti=meds[g] / anti)
model = OctaModel(None); site = skydata.LENGHU_SITE
every = skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True)
samples = [s for s in every if s.name[:4] in ("2018", "2019", "2020")]
cur = {}; dec = model.decode; it = iter(samples)
def decode(data):
    f = dec(data); cur[id(f)] = next(it).name; return f
model.decode = decode
def one(frame, when):
    CUR[0] = cur[id(frame)]; return model.judge([frame], [when], *site)[0]
vs = misreads.calibrated_verdicts(model, samples, site, 50, judge_one=one)
years = sys.argv[1].split(",")
rows = []
for s, v in zip(samples, vs):
    if s.name in CAP and s.name[:4] in years and (s.octas <= 2 or s.octas >= 6):
        f = feats(*CAP[s.name]); rows.append((s.name, s.octas, v.octas, v.sun_elevation, f))
for k in rows[0][4]:
    cl = [r[4][k] for r in rows if r[1] <= 2 and r[2] <= 2]
    print(k, "clear read clear %.3f..%.3f n=%d" % (min(cl), max(cl), len(cl)),
          "overcast missed:", " ".join("%s %.3f" % (r[0][5:16], r[4][k]) for r in rows if r[1] >= 6 and r[2] < 6),
          "| overcast read right med %.3f" % np.median([r[4][k] for r in rows if r[1] >= 6 and r[2] >= 6] or [np.nan]))
