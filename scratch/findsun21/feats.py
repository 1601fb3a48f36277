"""Candidate saturated spots per chose frame (greedy clusters of main's 150-pixel subsample) and their features,
labelled sun (within 0.12 lens radii of the true sun) or not; prints medians per label and look."""
from pathlib import Path

import numpy as np

ANG = np.linspace(0, 2 * np.pi, 8, endpoint=False)


def candidates(dark, area, k=5):
    sat = (dark >= 240) & area
    ys, xs = np.nonzero(sat)
    n = len(ys)
    if n < 3:
        return []
    if n > 150:
        pick = np.linspace(0, n - 1, 150).astype(int)
        ys, xs = ys[pick], xs[pick]
    d2 = (xs[:, None] - xs[None]) ** 2 + (ys[:, None] - ys[None]) ** 2
    near = d2 < 25
    score = near.sum(axis=1)
    left = np.ones(len(xs), bool)
    out = []
    while left.any() and len(out) < k:
        s = np.where(left, score, -1)
        b = int(s.argmax())
        m = near[b] & left
        out.append((float(xs[near[b]].mean()), float(ys[near[b]].mean()), int(score[b])))
        left &= ~near[b]
    return out


def features(dark, area, rho, x, y, dens):
    H, W = dark.shape
    f = {"dens": dens}
    xi, yi = int(round(x)), int(round(y))
    f["rho"] = float(rho[min(max(yi, 0), H - 1), min(max(xi, 0), W - 1)])
    yy, xx = np.ogrid[:H, :W]
    r2 = (xx - x) ** 2 + (yy - y) ** 2
    sat = (dark >= 240) & area
    for R in (3, 6):
        f[f"fill{R}"] = float(sat[r2 <= R * R].mean())
    for R in (5, 8, 12, 16):
        px = np.clip(np.round(x + R * np.cos(ANG)).astype(int), 0, W - 1)
        py = np.clip(np.round(y + R * np.sin(ANG)).astype(int), 0, H - 1)
        v = dark[py, px].astype(float)
        inl = area[py, px]
        v = np.where(inl, v, np.nan)
        f[f"min{R}"] = float(np.nanmin(v)) if inl.any() else np.nan
        f[f"mean{R}"] = float(np.nanmean(v)) if inl.any() else np.nan
    return f


if __name__ == "__main__":
    files = sorted(Path("/tmp/fs21").glob("*_20182019_20170524.npz"))
    rows = []
    for fl in files:
        d = dict(np.load(fl))
        for i in range(len(d["name"])):
            cx, cy, rx, ry = d["r"][i]
            if np.isnan([cx, cy, rx, ry]).any():
                continue
            tx, ty = d["tx"][i], d["ty"][i]
            for x, y, dens in candidates(d["dark"][i], d["area"][i]):
                f = features(d["dark"][i], d["area"][i], d["rho"][i], x, y, dens)
                f["sun"] = (not np.isnan(tx)) and np.hypot((x - tx) / rx, (y - ty) / ry) < 0.12
                f["look"], f["set"], f["i"] = fl.stem.split("_2018")[0], str(d["set"][i]), i
                rows.append(f)
    import pickle
    pickle.dump(rows, open("/tmp/fs21/feats.pkl", "wb"))
    keys = [k for k in rows[0] if k not in ("sun", "look", "set", "i")]
    for look in sorted({r["look"] for r in rows}):
        for s in ("tsi", "lenghu"):
            for lab in (True, False):
                sel = [r for r in rows if r["look"] == look and r["set"] == s and r["sun"] == lab]
                print(f"{look:<14}{s:<7}{'sun' if lab else 'not':<4} n {len(sel):>4} " + " ".join(
                    f"{k} {np.nanmedian([r[k] for r in sel]):.2f}" for k in keys))
