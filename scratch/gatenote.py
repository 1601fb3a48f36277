#!/usr/bin/env python3
"""moonlook21 probe: what each 50-frame half learned of the moonlit gate (site_gate's note, medians) per look."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "research"))
from models import skydata


def main() -> None:
    import camera_shift

    from bench.classify_regimes import fit_half, pick
    from cielo.sources.skycam import regime
    from cielo.sources.skycam.model import OctaModel
    model = OctaModel(None)
    site = skydata.LENGHU_SITE
    samples = [s for s in skydata.load_lenghu(Path(sys.argv[1]), twilight=True) if s.name[:4] in ("2018", "2019", "2020")]
    for name in sys.argv[2].split(","):
        t, q = camera_shift.TRANSFORMS[name]
        sh = [dataclasses.replace(s, jpeg=camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE)) for s in samples]
        frames = [model.decode(s.jpeg) for s in sh]
        whens = [s.extra["when"] for s in sh]
        regs = [regime.light(w, *site).regime for w in whens]
        index = {id(s): i for i, s in enumerate(sh)}
        for h, fitted in enumerate(skydata.time_halves(sh, "group")):
            cal = fit_half(model, frames, whens, regs, site, [index[id(s)] for s in pick(fitted, 50)],
                           float(model.reference.zenith))
            print(name, h, None if cal is None else cal.found.get("night"), flush=True)


if __name__ == "__main__":
    main()
