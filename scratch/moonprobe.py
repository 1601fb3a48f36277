#!/usr/bin/env python3
"""moonlook21 probe: LenghuSky 2018-2020 moonlit frames (clear <= 2 / overcast >= 6), calibrated on 50 frames as
the bench (tone_loss.verdicts), per look: the gate p, the texture, the bar the half learned, the star-read octas.
    python scratch/moonprobe.py LENGHU --looks "none,gamma 1.25,vignette 30%" [--years 2018,2019]"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "research"))

from models import skydata

REC: list = []


def main() -> None:
    import camera_shift

    from bench.classify_regimes import fit_half, pick
    from cielo.sources.skycam import night, regime
    from cielo.sources.skycam.model import OctaModel

    orig = night.moonlit_read

    def spy(frame, geom, valid, site=None):
        out = orig(frame, geom, valid, site)
        p, faint = night.gate(frame, geom, site)
        x, _ = night.features(frame, geom, tone_free=not (site is not None and site.gate_mean is not None))
        tex = night.texture(frame, geom)
        bar = night.TEXTURE_BAR if site is None else site.texture_bar
        dens = night.open_sky(faint, *valid.shape) if faint is not None else None
        cloud = None if dens is None else float((dens[valid > 0] <= night.OPEN_SKY).mean())
        REC.append((p, tex, bar, cloud, out[0], x))
        return out
    night.moonlit_read = spy
    p = argparse.ArgumentParser()
    p.add_argument("lenghu", type=Path)
    p.add_argument("--looks", default="none,gamma 1.25,vignette 30%")
    p.add_argument("--years", default="2018,2019")
    p.add_argument("--cal-frames", type=int, default=50)
    a = p.parse_args()
    years = set(a.years.split(","))
    model = OctaModel(None)
    site = skydata.LENGHU_SITE
    samples = [s for s in skydata.load_lenghu(a.lenghu, twilight=True) if s.name[:4] in ("2018", "2019", "2020")]
    for name in a.looks.split(","):
        t, q = camera_shift.TRANSFORMS[name]
        sh = [dataclasses.replace(s, jpeg=camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE))
              for s in samples]
        frames = [model.decode(s.jpeg) for s in sh]
        whens = [s.extra["when"] for s in sh]
        regs = [regime.light(w, *site).regime for w in whens]
        index = {id(s): i for i, s in enumerate(sh)}
        halves = skydata.time_halves(sh, "group")
        for h, (fitted, scored) in enumerate(((halves[0], halves[1]), (halves[1], halves[0]))):
            cal = fit_half(model, frames, whens, regs, site, [index[id(s)] for s in pick(fitted, a.cal_frames)],
                           float(model.reference.zenith))
            model.calibrate(cal)
            ns = None if cal is None else cal.night
            print(f"## {name} half {h}: night {None if ns is None else ns.as_dict()} "
                  f"{None if cal is None else cal.found.get('night', {}).get('texture')}", flush=True)
            for s in scored:
                i = index[id(s)]
                if regs[i] != regime.MOONLIT or s.name[:4] not in years or 2 < s.octas < 6:
                    continue
                REC.clear()
                v = model.judge([frames[i]], [whens[i]], *site)[0]
                r = REC[-1] if REC else None
                if r is None:
                    print(f"{name:<12} {s.name} true {s.octas} -> {v.octas} (no moonlit read)")
                    continue
                pp, tex, bar, cloud, star, x = r
                print(f"{name:<12} {s.name} true {s.octas} -> {v.octas} p {pp:.2f} tex {tex if tex is None else round(tex*100, 2)} "
                      f"bar {bar*100:.2f} cloud {cloud if cloud is None else round(cloud, 2)} star {star} "
                      f"x {' '.join(f'{xi:.3f}' for xi in x) if x else None}", flush=True)
        model.calibrate(None)


if __name__ == "__main__":
    main()
