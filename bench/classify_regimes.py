#!/usr/bin/env python3
"""Octa accuracy per light (day, twilight, moonlit night, dark night) on whole-sky frames; prints the tables.

Frames: ARM TSI (every 10th frame of its 3 days, SGP C1) and LenghuSky-8 2018-2021 (day, twilight and night),
split by time into a development part and a held-out part: TSI 2018-04-19 and every LenghuSky frame of 2021
are held out (the rules' constants were never chosen looking at them). The regime of a frame is the truth
from its time and place (regime.light), whatever the classifier decided. Each part is judged blind (no time,
as the independent checks run) and timed (the frame's time given, as the daemon knows it), and calibrated:
a calibration fitted without labels on the part's other time blocks (TSI: hours, LenghuSky: days; day and
night frames together, with their times: the night side is learned too), scored on the rest, both ways round,
timed.

Per row: frames, octa MAE, exact, within one, clear (0 octas) read <= 2, overcast (8) read >= 6, the frames
that are clear (<= 2) or overcast (>= 6) read in their class ("<=2|>=6": the second-fisheye bar's terms), flagged
(no octas: counted as an error of 8), the share marked uncertain and the error of those against the rest,
and the ECE of the confidence (5 equal-count bins).

    python -m bench.classify_regimes --tsi DIR --lenghu DIR [--cloudynight DIR] [--part dev|heldout|all|both]
                                     [--json FILE] [--split 2020] [--cal-frames N] [--cal-pick even|window|random]
                                     [--cal-start SHARE] [--cal-seed K] [--cal-off PART,...]

`--json FILE` writes the tables (models/build_octas.py puts models/octas_regimes.json in the model card).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from models import skydata

HELD_OUT = ("20180419", "2021-")  # name prefixes of the held-out frames (TSI day, LenghuSky year)


def held_out(name: str) -> bool:
    return name.startswith(HELD_OUT)


def row(t: np.ndarray, o: np.ndarray, conf: np.ndarray, unc: np.ndarray) -> dict:
    judged = o >= 0
    err = np.where(judged, np.abs(o - t), 8)
    clear, over = t == 0, t == 8
    cls, n_cls = skydata.classes_right(t, np.where(judged, o, -99))
    ece = float("nan")
    if judged.sum() >= 5:
        ece = skydata.calibration_table(conf[judged], o[judged] == t[judged], bins=5)["ece"]
    unc = unc.astype(bool)
    u_err = float(err[unc].mean()) if unc.any() else float("nan")
    r_err = float(err[~unc].mean()) if (~unc).any() else float("nan")
    return {"n": len(t), "mae": float(err.mean()), "exact": float((err == 0).mean()),
            "within1": float((err <= 1).mean()),
            "clear": (float((o[clear] <= 2)[judged[clear]].sum() / clear.sum()) if clear.any() else float("nan")),
            "n_clear": int(clear.sum()),
            "overcast": (float((o[over] >= 6).sum() / over.sum()) if over.any() else float("nan")),
            "n_over": int(over.sum()), "classes": cls, "n_classes": n_cls,
            "flagged": int((~judged).sum()), "uncertain": float(unc.mean()),
            "err_ratio": u_err / r_err if r_err > 0 else float("nan"), "ece": ece}


def fmt(name: str, r: dict) -> str:
    return (f"  {name:<34} {r['n']:>4} {r['mae']:>6.3f} {r['exact']:>6.1%} {r['within1']:>6.1%} "
            f"{r['clear']:>6.1%}/{r['n_clear']:<3} {r['overcast']:>6.1%}/{r['n_over']:<3} "
            f"{r['classes']:>6.1%}/{r['n_classes']:<3} {r['flagged']:>4} "
            f"{r['uncertain']:>6.1%} {r['err_ratio']:>5.2f} {r['ece']:>6.3f}")


HEADER = (f"  {'regime / mode':<34} {'n':>4} {'MAE':>6} {'exact':>6} {'<=1':>6} {'clear<=2':>10} "
          f"{'ovc>=6':>10} {'<=2|>=6':>10} {'flag':>4} {'uncert':>6} {'x err':>5} {'ECE':>6}")


def judge(model, frames, whens, site) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    verdicts = model.judge(frames, whens, *site)
    o = np.array([-9 if v.octas is None else v.octas for v in verdicts])
    c = np.array([0.0 if v.confidence is None else v.confidence for v in verdicts])
    u = np.array([v.flag == "uncertain" for v in verdicts])
    return o, c, u


PICKS = ("even", "window", "random")
PARTS = ("threshold", "blue", "cast", "glow", "bars", "gate", "texture", "lens")  # what a calibration learns


def pick(half: list, n: int, how: str = "even", start: float = 0.0, seed: int = 0) -> list:
    """n of a half's frames to calibrate on, in time order: spread evenly over it ("even"), n consecutive from
    `start` (a share of the half, 0..1: one day and night of a 10-minute camera, a week of a sparse set), or a
    seeded random n. The independent check's choice is unknown: a calibration must do no harm whatever it gets."""
    ordered = sorted(half, key=lambda s: s.name)
    if len(ordered) <= n:
        return ordered
    if how == "window":
        first = min(round(start * len(ordered)), len(ordered) - n)
        return ordered[first:first + n]
    if how == "random":
        return [ordered[int(j)] for j in np.sort(np.random.default_rng(seed).choice(len(ordered), n, replace=False))]
    return [ordered[int(j)] for j in np.linspace(0, len(ordered) - 1, n).round()]


def drop(cal, parts, default: float) -> None:
    """Switch learned parts of a calibration off (PARTS; the model's own in their place): which part costs."""
    import dataclasses

    if "threshold" in parts:
        cal.reference, cal.sky_threshold = None, default
    if "blue" in parts:
        cal.clear_scale = 1.0
    if "cast" in parts:
        cal.cast = 0.0
    if "glow" in parts:
        cal.glow = None
    if "lens" in parts:
        cal.lens = None
    if cal.night is not None:
        off = {"star_bars": None, "starry": None} if "bars" in parts else {}
        off |= {"gate_mean": None} if "gate" in parts else {}
        off |= {"texture": None} if "texture" in parts else {}
        cal.night = dataclasses.replace(cal.night, **off)


def fit_half(model, frames, whens, regimes, site, idx: list[int], default: float):
    """A calibration fitted without labels on frames[idx] (their times known), as `cielo calibrate --images` keeps
    and learns them; None where too few are bright enough (research/misreads.py --calibrated fits the same way)."""
    from cielo.sources.skycam import calibration, regime, veil
    from cielo.sources.skycam.model import DARK_MEAN

    keep = [i for i in idx if frames[i].brightness >= DARK_MEAN or frames[i].stars is not None]
    usable = [frames[i] for i in keep]
    if sum(f.brightness >= DARK_MEAN for f in usable) < calibration.MIN_FRAMES:
        return None
    daylit: list[bool | None] = [bool(regimes[i] == regime.DAY) for i in keep]  # the daemon knows the time too
    cal = calibration.fit(usable, "half", default, daylit, [whens[i] for i in keep],
                          [regime.light(whens[i], *site).sun_altitude for i in keep])
    calibration.learn_nights(cal, usable, [whens[i] for i in keep], *site)
    veil.learn(cal, model, usable, [whens[i] for i in keep], *site)
    return cal


def evaluate(model, samples, site, block: str, split: str | None = None, cal_frames: int | None = None,
             cal_pick: str = "even", cal_start: float = 0.0, cal_seed: int = 0, off: tuple[str, ...] = (),
             frames: list | None = None, modes: tuple[str, ...] = ("blind", "timed")
             ) -> dict[str, dict[str, dict]]:
    """{mode: {regime: row}} for one part of one set; `split` (a name prefix, e.g. "2020"): each regime's frames
    before and from it get rows of their own too (constants chosen on the earlier frames, checked on the later).
    `cal_frames`: each calibration sees only this many of its half's frames, spread evenly over it in time (the
    independent check calibrates on ~50), instead of all of them; `cal_pick`, `cal_start`, `cal_seed`: which (pick);
    `off`: learned parts switched off (drop). `frames`: the samples already decoded; `modes`: the uncalibrated
    modes to score too."""
    from cielo.sources.skycam import calibration, regime

    frames = frames if frames is not None else [model.decode(s.jpeg) for s in samples]
    whens = [s.extra["when"] for s in samples]
    regimes = np.array([regime.light(w, *site).regime for w in whens])
    t = np.array([s.octas for s in samples])
    out: dict[str, dict[str, dict]] = {}
    model.calibrate(None)
    results = {mode: judge(model, frames, [None] * len(frames) if mode == "blind" else whens, site)
               for mode in modes}
    a, b = skydata.time_halves(samples, block)
    index = {id(s): i for i, s in enumerate(samples)}
    o = np.full(len(samples), -9)
    c = np.zeros(len(samples))
    u = np.zeros(len(samples), dtype=bool)
    default = float(model.reference.zenith)  # the model's: each half is fitted from the same start
    for fitted, score_half in ((a, b), (b, a)):
        if cal_frames:
            fitted = pick(fitted, cal_frames, cal_pick, cal_start, cal_seed)
        cal = fit_half(model, frames, whens, regimes, site, [index[id(s)] for s in fitted], default)
        if cal is None:
            continue
        drop(cal, off, default)
        model.calibrate(cal)
        idx = [index[id(s)] for s in score_half]
        o[idx], c[idx], u[idx] = judge(model, [frames[i] for i in idx], [whens[i] for i in idx], site)
    model.calibrate(None)
    if (o == -9).any():  # a half with too few frames to fit: its frames count as flagged (error 8)
        print(f"  calibrated: {int((o == -9).sum())} frames not scored (the other half had under "
              f"{calibration.MIN_FRAMES} usable frames)")
    results["calibrated"] = (o, c, u)
    for mode, (o, c, u) in results.items():
        per: dict[str, dict] = {}
        later = np.array([s.name >= split for s in samples]) if split else None
        for name in (*regime.REGIMES, "all"):
            sel = regimes == name if name != "all" else np.ones(len(t), dtype=bool)
            if sel.any():
                per[name] = row(t[sel], o[sel], c[sel], u[sel])
            if later is None:
                continue
            for label, part in ((f"< {split}", sel & ~later), (f">= {split}", sel & later)):
                if part.any():
                    per[f"{name} {label}"] = row(t[part], o[part], c[part], u[part])
        out[mode] = per
    return out


def mono_folds(samples: list[skydata.Sample]) -> dict:
    """The monochrome rule by folds in file order on cloudynight's subregions (models/mono_study.py); prints
    each fold and the pooled figures. Before, every frame was flagged (an error of 8)."""
    from models import mono_study

    study = mono_study.folds(samples)
    print("  monochrome rule by folds (file order; NOISE_K, CLEAR_BAR, FRAME_BAR chosen on the other 15 frames):")
    print("  frames      chosen (k, cell bar, frame bar)   subregions    MAE  clear<=2  ovc>=6")
    for f in (*study["folds"], {"frames": "pooled", "chosen": None, **study["pooled"]}):
        chosen = "" if f["chosen"] is None else f"{f['chosen'][0]:.0f}, {f['chosen'][1]:.2g}, {f['chosen'][2]:.2g}"
        print(f"  {f['frames']:<11} {chosen:<33} {f['subregions']:>10.1%} {f['mae']:>6.2f} "
              f"{f['clear'][0]:>5}/{f['clear'][1]:<3} {f['overcast'][0]:>3}/{f['overcast'][1]}")
    k, bar, frame_bar = study["all20"]
    print(f"  always clear: subregions {study['all_clear_subregions']:.1%}; best on all 20 (shipped): "
          f"{k:.0f}, {bar:.2g}, {frame_bar:.2g}")
    return study


def main() -> None:
    from cielo.sources.skycam.model import OctaModel

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tsi", type=Path, required=True)
    p.add_argument("--lenghu", type=Path, required=True)
    p.add_argument("--cloudynight", type=Path)
    p.add_argument("--part", choices=("dev", "heldout", "all", "both"), default="dev")
    p.add_argument("--model", type=Path)
    p.add_argument("--json", type=Path, help="write the tables here as JSON")
    p.add_argument("--split", help="also score LenghuSky frames before / from this name prefix apart (e.g. 2020)")
    p.add_argument("--cal-frames", type=int, help="calibrate on this many frames of each half, spread evenly in "
                   "time (the independent check's ~50), instead of all")
    p.add_argument("--cal-pick", choices=PICKS, default="even", help="which --cal-frames: spread evenly in time, "
                   "consecutive from --cal-start (a share of the half), or a --cal-seed random sample")
    p.add_argument("--cal-start", type=float, default=0.0)
    p.add_argument("--cal-seed", type=int, default=0)
    p.add_argument("--cal-off", default="", help=f"learned parts switched off, comma-separated ({', '.join(PARTS)})")
    args = p.parse_args()
    model = OctaModel(args.model)
    sets = {"ARM TSI": (skydata.load_tsi(args.tsi, step=10), skydata.TSI_SITE, "hour"),
            "LenghuSky-8 2018-2021": (skydata.load_lenghu(args.lenghu, twilight=True), skydata.LENGHU_SITE,
                                      "group")}
    print(f"model: {model.path} ({model.version}); part: {args.part} (held out: TSI 2018-04-19, LenghuSky 2021)")
    tables: dict[str, dict] = {"model": model.version, "held_out": "TSI 2018-04-19, LenghuSky-8 2021", "parts": {}}
    parts = ("dev", "heldout") if args.part == "both" else (args.part,)
    for part in parts:
        for name, (samples, site, block) in sets.items():
            if part != "all":
                samples = [s for s in samples if held_out(s.name) == (part == "heldout")]
            if not samples:
                continue
            print(f"{name}, {part}: {len(samples)} frames")
            print(HEADER)
            result = evaluate(model, samples, site, block, args.split if block == "group" else None,
                              args.cal_frames, args.cal_pick, args.cal_start, args.cal_seed,
                              tuple(x for x in args.cal_off.split(",") if x))
            tables["parts"].setdefault(part, {})[name] = {
                mode: {reg: {k: (None if isinstance(v, float) and v != v else round(v, 3)) for k, v in r.items()}
                       for reg, r in per.items()} for mode, per in result.items()}
            for mode, per in result.items():
                for reg, r in per.items():
                    print(fmt(f"{mode}, {reg}", r))
    if args.cloudynight:
        samples = skydata.load_cloudynight(args.cloudynight)
        frames = [model.decode(s.jpeg) for s in samples]
        o, c, u = judge(model, frames, [None] * len(frames), (0.0, 0.0))
        t = np.array([s.octas for s in samples])
        print(f"cloudynight (monochrome, blind): {len(samples)} frames")
        print(HEADER)
        print(fmt("blind, night", row(t, o, c, u)))
        tables["cloudynight"] = {"n": len(samples), "flagged": int((o < 0).sum()), "octas": o.tolist()}
        tables["cloudynight"]["folds"] = mono_folds(samples)
    if args.json:
        import json

        args.json.write_text(json.dumps(tables, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
