"""Hit tables of candidate blind picks (feats.candidates + a score) against main's."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "scratch/findsun21")
from feats import candidates, features
from hits import main_pick, table


def rule(score, k=5):
    def pick(dark, area, px):
        c = candidates(dark, area, k)
        if not c:
            return main_pick(dark, area, px)
        rho = np.zeros_like(dark, dtype=float)
        best = max(c, key=lambda t: score(features(dark, area, rho, *t)))
        return best[0], best[1]
    return pick


RULES = {
    "min8": lambda f: f["min8"],
    "min8+min12": lambda f: f["min8"] + f["min12"],
    "minall": lambda f: f["min5"] + f["min8"] + f["min12"] + f["min16"],
    "min5+min8": lambda f: f["min5"] + f["min8"],
    "dens*min8": lambda f: f["dens"] * f["min8"],
}
files = sorted(Path("/tmp/fs21").glob("*_20182019_20170524.npz"))
names = [] if "--more" in sys.argv else (sys.argv[1].split(",") if len(sys.argv) > 1 else list(RULES))
for n in names:
    print("==", n)
    if n == "main":
        table(main_pick, files)
    else:
        table(rule(RULES[n]), files)


def guarded(score, k=5, over=150):
    inner = rule(score, k)

    def pick(dark, area, px):
        return inner(dark, area, px) if int(((dark >= 240) & area).sum()) > over else main_pick(dark, area, px)
    return pick


if "--more" in sys.argv:
    s = RULES["min5+min8"]
    for label, p in (("k8", rule(s, 8)), ("guard150", guarded(s)), ("guard150 k8", guarded(s, 8)),
                     ("guard300", guarded(s, 5, 300))):
        print("==", label)
        table(p, files)
if "--lens" in sys.argv:
    from cielo.sources.skycam import lens
    print("== lens.find_sun(bloom=True) (this branch's blind pick)")
    table(lambda dark, area, px: lens.find_sun(dark, area, lens.CLIPPED_SUN, bloom=True), files)
