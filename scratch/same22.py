"""Every TSI and LenghuSky frame's decode products and verdicts (blind, timed, and timed under a calibration fitted on
every 2nd frame as bench.classify_regimes fits one) to a pickle; `--diff A B` compares two such pickles (scratch,
session 22: run once per tree, with that tree's PYTHONPATH)."""
import hashlib
import os
import pickle
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")


def digest(a):
    return None if a is None else (a.dtype.str, a.shape, hashlib.sha1(a.tobytes()).hexdigest())


def verdict(v, counted):
    maps = counted.get(0)
    return (v.octas, v.confidence, v.probs, v.flag, v.sun_elevation, v.brightness, v.light, v.seen_light, repr(v.sky),
            repr(v.evidence), None if maps is None else (maps[0], digest(maps[1].valid), digest(maps[1].threshold),
                                                         maps[1].sun))


def main():
    if sys.argv[1] == "--diff":
        with open(sys.argv[2], "rb") as fa, open(sys.argv[3], "rb") as fb:
            a, b = pickle.load(fa), pickle.load(fb)
        assert a.keys() == b.keys(), "different frames"
        bad = [k for k in a if a[k] != b[k]]
        modes = sorted({k[2] for k in a})
        print(f"{len(a)} records ({', '.join(f'{m} {sum(k[2] == m for k in a)}' for m in modes)}), {len(bad)} differ")
        for k in bad[:10]:
            print(k, a[k], b[k], sep="\n  ")
        sys.exit(1 if bad else 0)
    from bench.classify_regimes import fit_half
    from cielo.sources.skycam import regime
    from cielo.sources.skycam.model import OctaModel
    from models import skydata

    model = OctaModel(None)
    out = {}
    step = int(os.environ.get("TSI_STEP", "1"))
    sets = (("tsi", skydata.load_tsi(Path("/work/data/tsi"), step=step), skydata.TSI_SITE),
            ("lenghu", skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True), skydata.LENGHU_SITE))
    for name, samples, site in sets:
        model.calibrate(None)
        frames = [model.decode(s.jpeg) for s in samples]
        whens = [s.extra.get("when") for s in samples]
        for s, f, when in zip(samples, frames, whens, strict=True):
            out[(name, s.name, "decode")] = (digest(f.pixels), f.brightness, f.lens, digest(f.stars), digest(f.stop),
                                            digest(f.bright), digest(f.grey))
            for mode, t in (("blind", None), ("timed", when)):
                counted = {}
                out[(name, s.name, mode)] = verdict(model.judge([f], [t], *site, counted=counted)[0], counted)
        regimes = np.array([regime.light(w, *site).regime for w in whens])
        cal = fit_half(model, frames, whens, regimes, site, list(range(0, len(frames), 2)),
                       float(model.reference.zenith))
        model.calibrate(cal)
        for s, f, when in zip(samples, frames, whens, strict=True):
            counted = {}
            out[(name, s.name, "calibrated")] = verdict(model.judge([f], [when], *site, counted=counted)[0], counted)
        model.calibrate(None)
        print(name, len(samples), file=sys.stderr)
    with open(sys.argv[1], "wb") as fh:
        pickle.dump(out, fh)


main()
