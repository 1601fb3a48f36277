#!/usr/bin/env python3
"""Octa accuracy and speed on labelled sky images; prints the figures table (not a test).

Per test set (SWIMSEG test days, split by capture day; SWINSEG night patches; HYTA, other cameras; and the
SWIMSEG test skies in a simulated fisheye frame with a wall and a pole): octa MAE, exact and within-1 rates,
cloud-fraction MAE, for the baselines (fixed R/B >= 0.6, per-image Otsu on NRBR, the HYTA hybrid rule) and
the model, each without and with a site calibration fitted on the other half of the set without labels.
Speed: decode + preprocess + inference per 640x480 JPEG on one thread, one image per call and 32.

    python bench/classify.py --swimseg DIR --swinseg DIR --hyta DIR [--model FILE] [--json]

The datasets stay outside the repository; models/octas.json says where they come from (fetch and extract
commands in README.md, "The octa model").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "models"))

ORDER = ["fixed R/B>=0.6", "Otsu on NRBR", "HYTA hybrid", "shipped",
         "fixed R/B>=0.6 + calibration", "HYTA hybrid + calibration", "shipped + calibration"]


def table(evaluation: dict) -> str:
    lines = [f"{'test set / method':<46} {'n':>4} {'MAE':>6} {'exact':>6} {'<=1':>6} {'fracMAE':>8}"]
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
    import skydata

    from cielo.sources.skycam.model import OctaModel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swimseg", type=Path, required=True)
    parser.add_argument("--swinseg", type=Path, required=True)
    parser.add_argument("--hyta", type=Path, required=True)
    parser.add_argument("--model", type=Path, help="an ONNX model with the octa I/O (default: the bundled one)")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    args = parser.parse_args()
    model = OctaModel(args.model)
    data = skydata.load_all(args.swimseg, args.swinseg, args.hyta)
    evaluation = skydata.evaluate_all(model, data, float(model.defaults.get("sky_threshold", 0.25)))
    print(json.dumps(evaluation, indent=1) if args.json else f"model: {model.path} ({model.version})\n"
          + table(evaluation))


if __name__ == "__main__":
    main()
