"""Share of 50-frame draws (2018-2019) whose all-frames rim estimate falls under each bar, per look; 1st pct."""
import numpy as np
import sys
sys.argv = ["x"]
sys.path.insert(0, "scratch")
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    import rimtable as rt  # noqa

rng = np.random.default_rng(1)
d0 = rt.load("L", "none")
keep = np.array([i for i, n in enumerate(d0["names"]) if n[:4] in ("2018", "2019")])
order = keep[np.argsort(d0["names"][keep])]
for kind in ("random", "window"):
    ds = rt.draws(50, order, rng, kind, 1000)
    for look in rt.LOOKS:
        d = rt.load("L", look)
        e = np.array([rt.estimate(d, i, "all") for i in ds])
        print(kind, f"{look:<15}", "p1 %+.3f p99 %+.3f" % tuple(np.percentile(e, [1, 99])),
              " ".join(f"<{b}: {np.mean(e < b):.1%}" for b in (-0.15, -0.2, -0.25)))
