#!/usr/bin/env python3
"""A measurement, not a shipped model: does a small CNN trained on CPU beat the classic graph?

Step 1, with the project's venv (numpy, Pillow, onnxruntime): decode the datasets the daemon's way and
write the frames and 160x120 masks to one .npz:

    .venv/bin/python -m research.cnn_probe prep --swimseg DIR --swinseg DIR --hyta DIR --out FILE.npz

Step 2, with a separate venv holding torch (never a project dependency; pip install torch==2.13.0):

    TORCH_VENV/bin/python -m research.cnn_probe train --data FILE.npz [--epochs 25]

It trains a 49k-parameter U-Net-like segmenter (inputs RGB + NRBR + brightness; flips, channel-gain and
exposure jitter) on SWIMSEG's training days only, and prints octa MAE / exact / within-1 per test set and
the single-thread ms per image. Result recorded in models/octas.json (development_notes) and
docs/design.md. Weights trained this way would carry SWIMSEG's CC BY-NC 4.0 condition.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def prep(args: argparse.Namespace) -> None:
    from PIL import Image

    from cielo.sources.skycam.model import OctaModel
    from models import skydata

    model = OctaModel()
    data = skydata.load_all(args.swimseg, args.swinseg, args.hyta)
    test_names = {s.name for s in data["sets"]["SWIMSEG test days"]}
    masks = {"swimseg": (args.swimseg / "GTmaps", "_GT.png"), "swinseg": (args.swinseg / "GTmaps", "_GT.jpg"),
             "hyta": (args.hyta / "2GT", "_GT.jpg")}
    sets = {"swimseg": data["swimseg"], "swinseg": data["sets"]["SWINSEG (night)"],
            "hyta": data["sets"]["HYTA (other cameras)"]}
    out = {}
    for key, samples in sets.items():
        folder, suffix = masks[key]
        out[f"{key}_x"] = np.stack([model.decode(s.jpeg).pixels for s in samples])
        out[f"{key}_y"] = np.stack([np.asarray(Image.open(folder / f"{s.name}{suffix}").convert("L")
                                               .resize((model.width, model.height), Image.Resampling.BILINEAR))
                                    >= 128 for s in samples])
        out[f"{key}_octas"] = np.array([s.octas for s in samples])
        out[f"{key}_frac"] = np.array([s.fraction for s in samples])
        out[f"{key}_test"] = np.array([key != "swimseg" or s.name in test_names for s in samples])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **out)
    print(f"wrote {args.out}")


def train(args: argparse.Namespace) -> None:
    import torch
    from torch import nn

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    torch.set_num_threads(2)
    data = np.load(args.data)

    def get(k: str) -> dict:
        return {a: data[f"{k}_{a}"] for a in ("x", "y", "octas", "frac", "test")}

    sw = get("swimseg")
    keep = ~sw["test"]
    x_train = torch.tensor(sw["x"][keep]).float() / 255
    y_train = torch.tensor(sw["y"][keep]).float()[:, None]

    class Net(nn.Module):
        def __init__(self, c: int = 16):
            super().__init__()
            self.enc1 = nn.Sequential(nn.Conv2d(5, c, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(c, c, 3, padding=1), nn.ReLU())
            self.enc2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(c, 2 * c, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(2 * c, 2 * c, 3, padding=1), nn.ReLU())
            self.enc3 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(2 * c, 2 * c, 3, padding=2, dilation=2), nn.ReLU(),
                                      nn.Conv2d(2 * c, 2 * c, 3, padding=4, dilation=4), nn.ReLU())
            self.up = nn.Upsample(scale_factor=2, mode="bilinear")
            self.dec2 = nn.Sequential(nn.Conv2d(4 * c, c, 3, padding=1), nn.ReLU())
            self.dec1 = nn.Sequential(nn.Conv2d(2 * c, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, 1, 1))

        def forward(self, x):
            r, b = x[:, 0:1], x[:, 2:3]
            h = torch.cat([x, (b - r) / (b + r + 1e-3), x.max(1, keepdim=True)[0]], 1)
            e1 = self.enc1(h)
            e2 = self.enc2(e1)
            e3 = self.enc3(e2)
            d2 = self.dec2(torch.cat([self.up(e3), e2], 1))
            return self.dec1(torch.cat([self.up(d2), e1], 1))

    net = Net()
    print(sum(p.numel() for p in net.parameters()), "parameters")
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    n = len(x_train)
    for epoch in range(args.epochs):
        perm, total = torch.randperm(n), 0.0
        for i in range(0, n, 32):
            idx = perm[i : i + 32]
            xb, yb = x_train[idx].clone(), y_train[idx].clone()
            if rng.random() < 0.5:
                xb, yb = xb.flip(3), yb.flip(3)
            if rng.random() < 0.5:
                xb, yb = xb.flip(2), yb.flip(2)
            gains = 1 + 0.15 * torch.randn(len(xb), 3, 1, 1)
            exposure = torch.exp(0.4 * torch.randn(len(xb), 1, 1, 1))
            xb = (xb * gains * exposure).clamp(0, 1)
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}: loss {total / n:.4f}", flush=True)
    net.eval()
    results = {}
    with torch.no_grad():
        for key in ("swimseg", "swinseg", "hyta"):
            d = get(key)
            sel = d["test"]
            x = torch.tensor(d["x"][sel]).float() / 255
            frac = np.concatenate([(torch.sigmoid(net(x[i : i + 64])) > 0.5).float().mean((1, 2, 3)).numpy()
                                   for i in range(0, len(x), 64)])
            err = np.abs(np.floor(8 * frac + 0.5) - d["octas"][sel])
            results[key] = {"n": int(sel.sum()), "octa_mae": round(float(err.mean()), 3),
                            "exact": round(float((err == 0).mean()), 3),
                            "within1": round(float((err <= 1).mean()), 3),
                            "fraction_mae": round(float(np.abs(frac - d["frac"][sel]).mean()), 3)}
        torch.set_num_threads(1)
        one = torch.rand(1, 3, 120, 160)
        for _ in range(3):
            net(one)
        t0 = time.perf_counter()
        for _ in range(20):
            net(one)
    results["ms_per_image_1_thread"] = round((time.perf_counter() - t0) / 20 * 1000, 2)
    print(json.dumps(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prep")
    p.add_argument("--swimseg", type=Path, required=True)
    p.add_argument("--swinseg", type=Path, required=True)
    p.add_argument("--hyta", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", type=Path, required=True)
    t.add_argument("--epochs", type=int, default=25)
    args = parser.parse_args()
    prep(args) if args.step == "prep" else train(args)


if __name__ == "__main__":
    main()
