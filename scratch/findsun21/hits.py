"""Hit table of a blind sun pick on /tmp/fs21/*.npz (collect.py): hit (within HIT lens radii of the true sun),
miss with the real disc visible (saturated within VIS of the true place), no sun (none visible, or no truth)."""
import sys
from pathlib import Path

import numpy as np

from cielo.sources.skycam import lens

HIT, VIS = 0.12, 0.10


def table(pick, files, verbose=False):
    tot = {}
    for f in files:
        d = dict(np.load(f))
        look = f.stem
        for i in range(len(d["name"])):
            cx, cy, rx, ry = d["r"][i]
            if np.isnan([cx, cy, rx, ry]).any():
                continue
            dark, area = d["dark"][i], d["area"][i]
            tx, ty = d["tx"][i], d["ty"][i]
            p = pick(dark, area, d["px"][i])
            H, W = dark.shape
            yy, xx = np.mgrid[:H, :W]
            vis = False
            if not np.isnan(tx):
                near = (((xx - tx) / rx) ** 2 + ((yy - ty) / ry) ** 2) < VIS**2
                vis = bool(((dark >= 240) & near & area).sum() >= 2)
            key = (look, str(d["set"][i]))
            t = tot.setdefault(key, {"hit": 0, "miss_vis": 0, "miss_novis": 0, "none_vis": 0, "none": 0, "why": {}})
            if p is None:
                t["none_vis" if vis else "none"] += 1
                continue
            hit = not np.isnan(tx) and np.hypot((p[0] - tx) / rx, (p[1] - ty) / ry) < HIT
            if hit:
                t["hit"] += 1
                continue
            t["miss_vis" if vis else "miss_novis"] += 1
            if vis:
                prho = np.hypot((p[0] - cx) / rx, (p[1] - cy) / ry)
                what = "horizon" if prho > 0.8 else "cloud"
                t["why"][what] = t["why"].get(what, 0) + 1
                if verbose:
                    print(look, d["set"][i], d["name"][i], f"pick rho {prho:.2f}", f"octas {d['octas'][i]}")
    for (look, s), t in sorted(tot.items()):
        print(f"{look:<32}{s:<8} hit {t['hit']:>4}  miss(disc visible) {t['miss_vis']:>3} {t['why']}  "
              f"miss(no disc) {t['miss_novis']:>3}  none(disc visible) {t['none_vis']:>3}  none {t['none']:>4}")
    return tot


def main_pick(dark, area, px):
    return lens.find_sun(dark, area, lens.CLIPPED_SUN)


if __name__ == "__main__":
    files = sorted(Path("/tmp/fs21").glob(sys.argv[1] if len(sys.argv) > 1 else "*_20182019_20170524.npz"))
    table(main_pick, files, verbose="-v" in sys.argv)
