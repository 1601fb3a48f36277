#!/usr/bin/env python3
"""moonlook21 probe: how often a 50-frame draw of LenghuSky 2018-2019 keeps a moonlit gate-centre shift per feature,
narrow.gate_pinned as shipped (every random half must move it the same way) against a relaxed pin (no half moves it
the other way), per look. Features as learn_nights reads them (no cast taken off: the reference's halves learn none)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "research"))
from models import skydata


def relaxed(xs, mean, narrow):
    from cielo.sources.skycam import night
    if mean is None:
        return None
    shift = np.asarray(mean) - np.asarray(night.GATE_MEAN)
    rng = np.random.default_rng(0)
    keep = shift != 0
    for _ in range(narrow.GATE_HALVES):
        half = [xs[i] for i in np.sort(rng.permutation(len(xs))[: len(xs) // 2])]
        got, _ = night.site_gate(half, least=1)
        part = np.zeros(3) if got is None else np.asarray(got) - np.asarray(night.GATE_MEAN)
        keep &= np.sign(part) != -np.sign(shift)  # relaxed: every feature, either way
    return np.where(keep, shift, 0.0)


def main() -> None:
    import camera_shift

    from cielo.sources.skycam import narrow, night, regime
    from cielo.sources.skycam.model import OctaModel
    model = OctaModel(None)
    site = skydata.LENGHU_SITE
    samples = [s for s in skydata.load_lenghu(Path(sys.argv[1]), twilight=True) if s.name[:4] in ("2018", "2019")]
    samples.sort(key=lambda s: s.extra["when"])
    for name in sys.argv[2].split(","):
        t, q = camera_shift.TRANSFORMS[name]
        xs = []
        for s in samples:
            if regime.light(s.extra["when"], *site).regime != regime.MOONLIT:
                xs.append(None)
                continue
            f = model.decode(camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE))
            x, _ = night.features(f, model.geometry(f), tone_free=False)
            xs.append(x)
        n = len(samples)
        rng = np.random.default_rng(1)
        for how in ("random", "consecutive"):
            got = {"shipped": [], "darker": [], "relaxed": []}
            for _ in range(300):
                idx = np.sort(rng.choice(n, 50, replace=False)) if how == "random" else np.arange(
                    (s0 := rng.integers(0, n - 50)), s0 + 50)
                m = [xs[i] for i in idx if xs[i] is not None]
                mean, _ = night.site_gate(m)
                a, _ = narrow.gate_pinned(m, mean)
                got["shipped"].append(np.zeros(3) if a is None else np.asarray(a) - np.asarray(night.GATE_MEAN))
                narrow.DARKER_UNSEEN = False
                a, _ = narrow.gate_pinned(m, mean)
                narrow.DARKER_UNSEEN = True
                got["darker"].append(np.zeros(3) if (c := narrow.gate_pinned(m, mean)[0]) is None
                                     else np.asarray(c) - np.asarray(night.GATE_MEAN))
                got["shipped"][-1] = np.zeros(3) if a is None else np.asarray(a) - np.asarray(night.GATE_MEAN)
                b = relaxed(m, mean, narrow)
                got["relaxed"].append(np.zeros(3) if b is None else b)
            for k, v in got.items():
                v = np.asarray(v)
                print(f"{name:<12} {how:<11} {k:<8} brightness shift kept {np.mean(v[:, 1] != 0):.1%} "
                      f"(<0 {np.mean(v[:, 1] < 0):.1%}) star {np.mean(v[:, 0] != 0):.1%} nrbr {np.mean(v[:, 2] != 0):.1%} "
                      f"median brightness shift where kept {np.median(v[v[:, 1] != 0, 1]) if (v[:, 1] != 0).any() else 0:+.3f}",
                      flush=True)


if __name__ == "__main__":
    main()
