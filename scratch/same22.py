"""Every TSI and LenghuSky frame's decode products and verdicts, blind and timed, to a pickle; `--diff A B` compares
two such pickles (scratch, session 22: run once per tree with that tree's PYTHONPATH)."""
import hashlib
import os
import pickle
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
from pathlib import Path


def digest(a):
    return None if a is None else (a.dtype.str, a.shape, hashlib.sha1(a.tobytes()).hexdigest())


def main():
    if sys.argv[1] == "--diff":
        a, b = (pickle.load(open(p, "rb")) for p in sys.argv[2:4])
        assert a.keys() == b.keys(), "different frames"
        bad = [k for k in a if a[k] != b[k]]
        print(f"{len(a)} records, {len(bad)} differ")
        for k in bad[:10]:
            print(k, a[k], b[k], sep="\n  ")
        sys.exit(1 if bad else 0)
    from cielo.sources.skycam.model import OctaModel
    from models import skydata

    model = OctaModel(None)
    out = {}
    sets = (("tsi", skydata.load_tsi(Path("/work/data/tsi"), step=int(os.environ.get("TSI_STEP", "1"))), skydata.TSI_SITE),
            ("lenghu", skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True), skydata.LENGHU_SITE))
    for name, samples, site in sets:
        for s in samples:
            f = model.decode(s.jpeg)
            out[(name, s.name, "decode")] = (digest(f.pixels), f.brightness, f.lens, digest(f.stars), digest(f.stop),
                                            digest(f.bright), digest(f.grey))
            for mode, when in (("blind", None), ("timed", s.extra.get("when"))):
                counted = {}
                v = model.judge([f], [when], *site, counted=counted)[0]
                maps = counted.get(0)
                out[(name, s.name, mode)] = (v.octas, v.confidence, v.probs, v.flag, v.sun_elevation, v.brightness,
                                             v.light, v.seen_light, repr(v.sky), repr(v.evidence),
                                             None if maps is None else (maps[0], digest(maps[1].valid),
                                                                        digest(maps[1].threshold), maps[1].sun))
        print(name, len(samples), file=sys.stderr)
    pickle.dump(out, open(sys.argv[1], "wb"))


main()
