"""The rim estimate per look over 50-frame draws of LenghuSky 2018-2019 (random and consecutive), and TSI."""
import sys

import numpy as np

LOOKS = ["none", "vignette_30", "gamma_0.8", "gamma_1.25", "exposure_x0.6", "exposure_x1.5"]
BANDS = [0, 10, 25, 45, 91]


def band(reg, sun):
    out = np.empty(len(reg), dtype=object)
    for i, (r, s) in enumerate(zip(reg, sun)):
        out[i] = f"day{np.searchsorted(BANDS, s, side='right') - 1}" if r == "day" else r
    return out


def load(tag, look):
    z = np.load(f"scratch/rim_{tag}_{look}.npz")
    return {k: z[k] for k in z.files}


ref = load("L", "none")
chose = np.array([n[:4] in ("2018", "2019") for n in ref["names"]])
rb = band(ref["regime"], ref["sun"])
REF = {b: float(np.nanmedian(ref["rim"][chose & (rb == b)])) for b in set(rb)}
print("reference medians:", {k: round(v, 3) for k, v in sorted(REF.items())})


def estimate(d, idx, which):
    b = band(d["regime"][idx], d["sun"][idx])
    x = d["rim"][idx] - np.array([REF.get(v, np.nan) for v in b])
    day = np.array([v.startswith("day") for v in b])
    sel = {"all": np.ones(len(idx), bool), "day": day, "night": ~day}[which]
    x = x[sel & np.isfinite(x)]
    return float(np.median(x)) if len(x) >= 5 else np.nan


def draws(n_frames, order, rng, kind, k=400):
    out = []
    for _ in range(k):
        if kind == "random":
            out.append(np.sort(rng.choice(order, n_frames, replace=False)))
        else:
            s = rng.integers(0, len(order) - n_frames + 1)
            out.append(order[s:s + n_frames])
    return out


rng = np.random.default_rng(0)
for tag, years in (("L", ("2018", "2019")), ("L", ("2020",)), ("T", None)):
    d0 = load(tag, "none")
    keep = np.arange(len(d0["names"])) if years is None else np.array(
        [i for i, n in enumerate(d0["names"]) if n[:4] in years])
    order = keep[np.argsort(d0["names"][keep])]
    ds = {kind: draws(50, order, rng, kind) for kind in ("random", "window")}
    print(f"\n{tag} {years}: estimate ln (median 5-95%) over 400 draws each; rim share exp(median)")
    for which in ("all", "day", "night"):
        for look in LOOKS:
            d = load(tag, look)
            cells = []
            for kind in ("random", "window"):
                e = np.array([estimate(d, i, which) for i in ds[kind]])
                e = e[np.isfinite(e)]
                if len(e) == 0:
                    cells.append("-")
                    continue
                p5, p50, p95 = np.percentile(e, [5, 50, 95])
                cells.append(f"{p50:+.3f} ({p5:+.3f}..{p95:+.3f}) n{len(e)}")
            print(f"  {which:<6}{look:<15}" + "   ".join(cells))
