#!/usr/bin/env python3
"""Octa accuracy and speed on labelled sky images; prints the figures table (not a test).

Whole-frame sets first: ARM TSI (every 10th frame of its 3 days; octas from the instrument's masks within 0.85
of the mirror radius) and LenghuSky-8 2018-2021 (day and night apart): octa MAE, exact and within-1 rates, the
share of clear (0 octas) frames read <= 2 and overcast (8) read >= 6, without calibration and with a
calibration fitted (no labels) on the other half of the frames by time block; the old hybrid rule over all
pixels as the baseline; ECE of the confidence. Then the crop sets (SWIMSEG test days, split by capture day;
SWINSEG night patches; HYTA, other cameras; and the SWIMSEG test skies in a simulated fisheye frame with a wall
and a pole) with the baselines (fixed R/B >= 0.6, per-image Otsu on NRBR, the HYTA hybrid rule).
Speed: decode + preprocess + inference per 640x480 JPEG on one thread, one image per call and 32.

    python -m bench.classify --tsi DIR --lenghu DIR --swimseg DIR --swinseg DIR --hyta DIR [--model FILE] [--json]

The datasets stay outside the repository; models/octas.json says where they come from (fetch and extract
commands in README.md, "The octa model").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ORDER = ["fixed R/B>=0.6", "Otsu on NRBR", "HYTA hybrid", "shipped",
         "fixed R/B>=0.6 + calibration", "HYTA hybrid + calibration", "shipped + calibration"]


def whole_table(whole: dict) -> str:
    lines = [f"{'whole-frame set / method':<46} {'n':>4} {'MAE':>6} {'exact':>6} {'<=1':>6} {'clr/ovc':>8}"]
    for name, r in whole.items():
        lines.append(name)
        for method, s in r["rows"].items():
            lines.append(f"  {method:<44} {s['n']:>4} {s['octa_mae']:>6.3f} {s['exact']:>6.1%} {s['within1']:>6.1%} "
                         f"{s['clear_overcast_right']:>8.1%} (of {s['clear_overcast_n']}; <=2/>=6 classes "
                         f"{s.get('classes_right', float('nan')):.1%} of {s.get('classes_n', 0)}; "
                         f"bias {s['bias']:+.2f}; "
                         f"flagged {s['flagged']})")
        lines.append(f"  ECE (no calibration) {r['confidence_calibration']['ece']:.3f}; calibrations: "
                     + ", ".join(f"t={c['sky_threshold']:.2f} on {c['frames']} frames" for c in r["calibrations"]))
    return "\n".join(lines)


def table(evaluation: dict) -> str:
    lines = [whole_table(evaluation["whole_frame_sets"])] if "whole_frame_sets" in evaluation else []
    for name, r in evaluation.get("monochrome_night_sets", {}).items():
        s = r["rows"]["no calibration"]
        mae = "-" if s["octa_mae_judged"] is None else f"{s['octa_mae_judged']:.3f}"
        lines.append(f"{name}: {s['n']} frames, flagged {s['flagged']} ({', '.join(s['flags']) or 'none'}), "
                     f"judged {s['judged']} (MAE {mae}); clear skies read 8: {s['confident_wrong_8']}")
    lines.append(f"{'crop set / method':<46} {'n':>4} {'MAE':>6} {'exact':>6} {'<=1':>6} {'fracMAE':>8}")
    for name, r in evaluation["test_sets"].items():
        lines.append(name)
        for method in ORDER:
            s = r["rows"][method]
            lines.append(f"  {method:<44} {s['n']:>4} {s['octa_mae']:>6.3f} {s['exact']:>6.1%} "
                         f"{s['within1']:>6.1%} {s['fraction_mae']:>8.3f}")
        cals = ", ".join(f"t={c['sky_threshold']:.2f} sky={c['sky_share']:.0%}" for c in r["calibrations"])
        lines.append(f"  calibrations fitted: {cals}; shipped ECE {r['confidence_calibration']['ece']:.3f}")
    c = evaluation["confidence_calibration_real_test_sets"]
    lines.append(f"confidence (real test sets): ECE {c['ece']:.3f}; per decile (confidence -> accuracy): "
                 + ", ".join(f"{d['mean_confidence']:.2f}->{d['accuracy']:.2f}" for d in c["deciles"]))
    sp = evaluation["speed"]
    lines.append(f"speed ({sp['size']}, {sp['threads']} thread): decode {sp['decode_ms']} ms; end to end "
                 f"{sp['batch1_ms']} ms/image one at a time, {sp['batch32_ms']} ms/image in batches of 32")
    return "\n".join(lines)


def main() -> None:
    from cielo.sources.skycam.model import OctaModel
    from models import skydata

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsi", type=Path, required=True, help="ARM TSI folder (SkyImage/, CloudMask/)")
    parser.add_argument("--lenghu", type=Path, required=True, help="LenghuSky-8 JSONs (2018-2021 are read)")
    parser.add_argument("--swimseg", type=Path, required=True)
    parser.add_argument("--swinseg", type=Path, required=True)
    parser.add_argument("--hyta", type=Path, required=True)
    parser.add_argument("--cloudynight", type=Path, help="cloudynight folder (*.fits.bz2, y_train.dat): the "
                        "monochrome night figures")
    parser.add_argument("--model", type=Path, help="an ONNX model with the octa I/O (default: the bundled one)")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    args = parser.parse_args()
    model = OctaModel(args.model)
    evaluation = skydata.evaluate_everything(model, args)
    print(json.dumps(evaluation, indent=1) if args.json else f"model: {model.path} ({model.version})\n"
          + table(evaluation))


if __name__ == "__main__":
    main()
