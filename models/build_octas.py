#!/usr/bin/env python3
"""Build models/octas.onnx and its card models/octas.json, reproducibly (same bytes on every run).

The graph is the classic whole-sky red/blue-ratio cloud detector (Long et al. 2006, "Retrieving cloud
characteristics from ground-based daytime color all-sky images", J. Atmos. Oceanic Technol. 23:633),
written as ONNX operators so that the daemon needs onnxruntime only:

  valid  = max(R, G, B) > VALID_MIN              # the lens area; the black surround of a fisheye is not sky
  p      = sigmoid((R / B - RB_THRESHOLD) / RB_SOFTNESS)  # per-pixel cloud probability
  f      = sum(p * valid) / sum(valid)           # cloud fraction over the valid area
  u      = sum(p (1 - p) valid) / sum(valid)     # how many pixels sit near the threshold (ambiguity)
  probs  = softmax_k( -(k - 8 f)^2 / (2 sigma^2) ),  sigma = SIGMA_BASE + SIGMA_AMBIGUITY * u,  k = 0..8

so `probs` is a real distribution over 0..8 octas, centred on the measured fraction and wider when many
pixels are ambiguous. Nothing is trained and nothing is downloaded: the model is licence-clean.

Usage: python models/build_octas.py [--out DIR]     (needs the `onnx` package: pip install '.[build]')
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import onnx
from onnx import TensorProto, helper

VERSION = "rbr-1.0.0"
HEIGHT, WIDTH = 120, 160  # 4:3 like most cameras; a 640x480 JPEG decodes straight to this in draft mode
OPSET = 17
IR_VERSION = 8  # readable by onnxruntime >= 1.10

VALID_MIN = 0.12
RB_THRESHOLD = 0.6
RB_SOFTNESS = 0.015
SIGMA_BASE = 0.35
SIGMA_AMBIGUITY = 4.0
EPS = 1e-3


def _const(name: str, value: float | list[float], dims: list[int] | None = None, dtype=TensorProto.FLOAT):
    values = value if isinstance(value, list) else [value]
    return helper.make_node(
        "Constant", [], [name], value=helper.make_tensor(name + "_t", dtype, dims or [], values)
    )


def build_graph() -> onnx.ModelProto:
    n = helper.make_node
    nodes = [
        _const("valid_min", VALID_MIN),
        _const("eps", EPS),
        _const("rb_threshold", RB_THRESHOLD),
        _const("rb_gain", 1.0 / RB_SOFTNESS),
        _const("one", 1.0),
        _const("eight", 8.0),
        _const("sigma_base", SIGMA_BASE),
        _const("sigma_gain", SIGMA_AMBIGUITY),
        _const("minus_half", -0.5),
        _const("octas", [float(k) for k in range(9)], [1, 9]),
        _const("pixel_axes", [1, 2, 3], [3], TensorProto.INT64),
        _const("col_axis", [1], [1], TensorProto.INT64),
        n("Split", ["image"], ["r", "g", "b"], axis=1),
        n("Max", ["r", "g", "b"], ["brightest"]),
        n("Greater", ["brightest", "valid_min"], ["valid_bool"]),
        n("Cast", ["valid_bool"], ["valid"], to=TensorProto.FLOAT),
        n("Add", ["b", "eps"], ["b_eps"]),
        n("Div", ["r", "b_eps"], ["rb"]),
        n("Sub", ["rb", "rb_threshold"], ["rb_centered"]),
        n("Mul", ["rb_centered", "rb_gain"], ["rb_logit"]),
        n("Sigmoid", ["rb_logit"], ["p"]),
        n("Mul", ["p", "valid"], ["p_valid"]),
        n("Sub", ["one", "p"], ["q"]),
        n("Mul", ["p_valid", "q"], ["pq_valid"]),
        n("ReduceSum", ["valid", "pixel_axes"], ["n_valid"], keepdims=0),
        n("Max", ["n_valid", "one"], ["denom"]),
        n("ReduceSum", ["p_valid", "pixel_axes"], ["cloud_sum"], keepdims=0),
        n("ReduceSum", ["pq_valid", "pixel_axes"], ["ambiguity_sum"], keepdims=0),
        n("Div", ["cloud_sum", "denom"], ["fraction"]),
        n("Div", ["ambiguity_sum", "denom"], ["ambiguity"]),
        n("Mul", ["fraction", "eight"], ["mean_flat"]),
        n("Unsqueeze", ["mean_flat", "col_axis"], ["mean"]),
        n("Mul", ["ambiguity", "sigma_gain"], ["sigma_extra"]),
        n("Add", ["sigma_extra", "sigma_base"], ["sigma_flat"]),
        n("Unsqueeze", ["sigma_flat", "col_axis"], ["sigma"]),
        n("Sub", ["octas", "mean"], ["dist"]),
        n("Div", ["dist", "sigma"], ["z"]),
        n("Mul", ["z", "z"], ["z2"]),
        n("Mul", ["z2", "minus_half"], ["logits"]),
        n("Softmax", ["logits"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "octas_red_blue_ratio",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, HEIGHT, WIDTH])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 9])],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="cielo models/build_octas.py",
        producer_version=VERSION,
        ir_version=IR_VERSION,
    )
    model.doc_string = "Octas (0..8) from an RGB sky image by the red/blue ratio; see models/octas.json."
    helper.set_model_props(model, {"cielo.version": VERSION, "cielo.method": "red-blue-ratio"})
    onnx.checker.check_model(model, full_check=True)
    return model


def model_card() -> dict:
    return {
        "name": "octas",
        "version": VERSION,
        "method": "red/blue-ratio cloud detector over the valid (lens) area (Long et al. 2006)",
        "licence": "MIT: hand-written graph, no training data",
        "input": {
            "name": "image",
            "type": "float32",
            "shape": ["N", 3, HEIGHT, WIDTH],
            "height": HEIGHT,
            "width": WIDTH,
            "layout": "NCHW, RGB, values 0..1",
        },
        "output": {"name": "probs", "type": "float32", "shape": ["N", 9], "meaning": "P(octas = 0..8)"},
        "preprocessing": (
            f"decode to RGB (JPEG draft mode at the smallest scale >= {WIDTH}x{HEIGHT}), resize to "
            f"{WIDTH}x{HEIGHT} bilinear, divide by 255; the aspect ratio is not kept, which leaves area "
            "fractions unchanged"
        ),
        "parameters": {
            "valid_min": VALID_MIN,
            "rb_threshold": RB_THRESHOLD,
            "rb_softness": RB_SOFTNESS,
            "sigma_base": SIGMA_BASE,
            "sigma_ambiguity": SIGMA_AMBIGUITY,
        },
        "octas_definition": "round(8 * cloud pixels / valid pixels); the reported octas is the argmax of probs",
        "confidence": "max(probs); not yet calibrated against labelled images",
        "accuracy": {
            "status": "not measured yet: no labelled images have been scored against this graph",
            "datasets_used": [],
        },
        "not_handled": [
            "sun glare and saturated regions count as cloud",
            "the valid area is a brightness threshold, not a detected lens circle",
            "night and too-dark frames are flagged by cielo before the model is trusted",
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "octas.onnx").write_bytes(build_graph().SerializeToString(deterministic=True))
    (args.out / "octas.json").write_text(json.dumps(model_card(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'octas.onnx'} and octas.json ({VERSION})")


if __name__ == "__main__":
    main()
