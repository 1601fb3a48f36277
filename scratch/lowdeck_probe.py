"""Low-sun day frames: features of the light's shape, calibrated on 50 frames (LenghuSky) and timed (TSI)."""
import sys, pickle
from pathlib import Path
import numpy as np
sys.path.insert(0, "research")
from models import skydata
from cielo.sources.skycam import lowsun, lens
from cielo.sources.skycam.model import OctaModel
import misreads

CAP = {}
orig = lowsun.zenith_ratio
CUR = [None]
def spy(px, valid, geom):
    CAP[CUR[0]] = (px.copy(), valid.copy(), geom)
    return orig(px, valid, geom)
lowsun.zenith_ratio = spy

def antisolar(px, valid, geom, sx, sy):
    rho = geom.rho(); h, w = rho.shape
    yy, xx = np.mgrid[0:h, 0:w]
    az = np.arctan2((yy - geom.cy) / geom.ry, (xx - geom.cx) / geom.rx)
    za = np.radians(rho * 90.0)
    srho = np.hypot((sx - geom.cx) / geom.rx, (sy - geom.cy) / geom.ry)
    saz = np.arctan2((sy - geom.cy) / geom.ry, (sx - geom.cx) / geom.rx); sza = np.radians(min(srho, 1.0) * 90)
    cosd = np.cos(za) * np.cos(sza) + np.sin(za) * np.sin(sza) * np.cos(az - saz)
    d = np.degrees(np.arccos(np.clip(cosd, -1, 1)))
    darkest = np.minimum(np.minimum(px[0], px[1]), px[2])
    sky = (valid > 0) & (darkest < int(lens.SATURATED * 255)) & (rho < 0.85)
    light = px[0].astype(np.float32) + px[1] + px[2]
    a = sky & (d >= 80) & (d <= 100); b = sky & (d > 135)
    if a.sum() < 20 or b.sum() < 20: return None
    ring = sky & (rho >= 0.6)
    ra, rb, zt = ring & a, ring & b, sky & (rho < 0.35)
    asrim = float(np.median(light[ra]) / np.median(light[rb])) if ra.sum() >= 10 and rb.sum() >= 10 else None
    aszen = float(np.median(light[zt]) / np.median(light[rb])) if zt.sum() >= 10 and rb.sum() >= 10 else None
    return (float(np.median(light[a]) / np.median(light[b])), asrim, aszen)

def feats(px, valid, geom, nsec=8):
    rho = geom.rho()
    darkest = np.minimum(np.minimum(px[0], px[1]), px[2])
    sky = (valid > 0) & (darkest < int(lens.SATURATED * 255))
    light = px[0].astype(np.float32) + px[1] + px[2]
    top = sky & (rho < 0.35); rim = sky & (rho >= 0.6)
    if top.sum() < 20 or rim.sum() < 20: return None
    z = float(np.median(light[top])); r = float(np.median(light[rim]))
    h, w = rho.shape
    yy, xx = np.mgrid[0:h, 0:w]
    ang = np.arctan2((yy - geom.cy) / geom.ry, (xx - geom.cx) / geom.rx)
    sec = ((ang + np.pi) / (2 * np.pi) * nsec).astype(int) % nsec
    meds = []
    for k in range(nsec):
        m = rim & (sec == k)
        if m.sum() >= 10: meds.append(float(np.median(light[m])))
    meds = sorted(meds)
    nr = (px[2].astype(np.float32) - px[0]) / np.maximum(px[2].astype(np.float32) + px[0], 1)
    return dict(zr=z / r, zmin=z / meds[0], z2=z / meds[1], asym=meds[-1] / meds[0], nsec=len(meds),
                znrbr=float(np.median(nr[top])), rnrbr=float(np.median(nr[rim])))

def run_lenghu():
    model = OctaModel(None)
    site = skydata.LENGHU_SITE
    every = skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True)
    samples = [s for s in every if s.name[:4] in ("2018", "2019", "2020")]
    byname = {}
    def one(frame, when):
        s = cur_sample[id(frame)]
        CUR[0] = s
        return model.judge([frame], [when], *site)[0]
    # map frames to samples via decode order
    cur_sample = {}
    dec = model.decode
    it = iter(samples)
    def decode(data):
        f = dec(data); cur_sample[id(f)] = next(it).name; return f
    model.decode = decode
    vs = misreads.calibrated_verdicts(model, samples, site, 50, judge_one=one)
    out = []
    for s, v in zip(samples, vs):
        if s.name in CAP:
            px, valid, geom = CAP[s.name]
            out.append((s.name, s.octas, v.octas, v.sun_elevation, v.sun_state, feats(px, valid, geom), None if v.sky is None or not v.sky.seen else antisolar(px, valid, geom, v.sky.x, v.sky.y)))
    return out

def run_tsi():
    model = OctaModel(None)
    site = skydata.TSI_SITE
    samples = [s for s in skydata.load_tsi(Path("/work/data/tsi"), step=10) if not s.name.startswith("20180419")]
    out = []
    for s in samples:
        CUR[0] = s.name
        v = model.judge([model.decode(s.jpeg)], [s.extra["when"]], *site)[0]
        if s.name in CAP:
            px, valid, geom = CAP[s.name]
            out.append((s.name, s.octas, v.octas, v.sun_elevation, v.sun_state, feats(px, valid, geom), None if v.sky is None or not v.sky.seen else antisolar(px, valid, geom, v.sky.x, v.sky.y)))
    return out

if __name__ == "__main__":
    res = {"lenghu": run_lenghu(), "tsi": run_tsi()}
    pickle.dump(res, open("/tmp/ld23/feats.pkl", "wb"))
