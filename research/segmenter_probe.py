#!/usr/bin/env python3
"""A measurement, not a shipped model: does a small segmenter trained on whole TSI frames carry over to a
fisheye camera it never saw?

Step 1, with the project's venv: decode the frames the daemon's way (the same lens ellipse, octa area and
clear-sky reference that the shipped rule gets) and write them to one .npz. TSI: every 3rd frame with its
instrument mask at 160x120; LenghuSky-8 2018-2021: frames and octas only (validation, never trained on):

    .venv/bin/python -m research.segmenter_probe prep --tsi DIR --lenghu DIR --out FILE.npz

Step 2, with a separate venv holding torch (never a project dependency; pip install torch==2.13.0 numpy):

    TORCH_VENV/bin/python -m research.segmenter_probe train --data FILE.npz [--epochs 40]

It trains a 39k-parameter encoder-decoder (dilated convolutions and a global-context branch; inputs RGB over
the frame's level, NRBR minus the fed reference, and the octa area) on TSI 2017-05-24 only, with heavy
augmentation: flips, zoom, shift and squash of the lens, per-channel white balance, desaturation toward grey
(a pale sky), horizon haze, exposure, gamma and noise; loss: per-pixel cross-entropy plus the cloud fraction's
error. It prints octa MAE / exact / clear-and-overcast right on the TSI 2018 days (unseen), on the training
day, and on LenghuSky day and night, every 5 epochs. The result is in models/octas.json (method_comparison).
Weights trained this way would be ARM data only (licence-clean, with ARM acknowledged).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

TRAIN_DAY = "20170524"


def prep(args: argparse.Namespace) -> None:
    from PIL import Image

    from cielo.sources.skycam.model import OctaModel
    from models import skydata

    model = OctaModel()

    def arrays(jpeg: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        frame = model.decode(jpeg)
        maps = model.maps(frame, model.geometry(frame))
        return frame.pixels, maps.valid.astype(np.uint8), maps.threshold.astype(np.float16)

    def stamp(p: Path, sep: str) -> str:
        return p.name.split(sep)[1][:14]

    images = {stamp(p, ".jpg."): p for p in (args.tsi / "SkyImage").glob("*/*.jpg")}
    masks = {stamp(p, ".png."): p for p in (args.tsi / "CloudMask").glob("*/*.png")}
    tsi: dict[str, list] = {k: [] for k in ("x", "v", "th", "y", "o", "g")}
    for key in sorted(set(images) & set(masks))[::3]:
        try:
            m = np.asarray(Image.open(masks[key]).convert("RGB")).astype(np.int32)
        except OSError:
            continue  # a few masks in the snapshot are truncated
        code = m[..., 0] * 65536 + m[..., 1] * 256 + m[..., 2]
        ys, xs = np.nonzero(code != 0)
        if len(ys) == 0:
            continue
        cloud, clear = (code == 0xFFFFFF) | (code == 0xC0C0C0), code == 0x0000FF
        f, n = skydata._fraction_in_circle(cloud, clear, (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2,
                                           skydata.TSI_MIRROR_RADIUS)
        if n < 1000:
            continue
        label = np.full(code.shape, 255, np.uint8)
        label[cloud], label[clear] = 1, 0
        px, v, th = arrays(images[key].read_bytes())
        for k, val in zip(tsi, (px, v, th, np.asarray(Image.fromarray(label).resize((160, 120), Image.NEAREST)),
                                skydata.octas_of(f), key[:8]), strict=True):
            tsi[k].append(val)
    lh: dict[str, list] = {k: [] for k in ("x", "v", "th", "o", "night")}
    for s in skydata.load_lenghu(args.lenghu):
        px, v, th = arrays(s.jpeg)
        for k, val in zip(lh, (px, v, th, s.octas, s.extra["night"]), strict=True):
            lh[k].append(val)
    np.savez_compressed(args.out, **{f"tsi_{k}": np.stack(v) for k, v in tsi.items()},
                        **{f"lh_{k}": np.stack(v) for k, v in lh.items()})
    print(f"wrote {args.out}: {len(tsi['o'])} TSI frames, {len(lh['o'])} LenghuSky frames")


def train(args: argparse.Namespace) -> None:
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    d = np.load(args.data)
    sel = d["tsi_g"] == TRAIN_DAY
    xs, vs = torch.tensor(d["tsi_x"][sel]), torch.tensor(d["tsi_v"][sel]).float()
    ths, ys = torch.tensor(d["tsi_th"][sel].astype(np.float32)), torch.tensor(d["tsi_y"][sel].astype(np.int64))

    def features(x, valid, thr):
        r, b = x[:, 0:1], x[:, 2:3]
        bright = x.max(1, keepdim=True).values
        level = (bright * valid).sum((2, 3), keepdim=True) / valid.sum((2, 3), keepdim=True).clamp(min=1)
        nrbr = (b - r) / (b + r + 0.001)
        return torch.cat([x / level.clamp(min=0.02) * 0.5 * valid, (nrbr - thr) * valid, valid], 1)

    class Net(nn.Module):
        def __init__(self, c: int = 16):
            super().__init__()
            self.e1, self.e2 = nn.Conv2d(5, c, 3, 2, 1), nn.Conv2d(c, c, 3, 1, 1)
            self.e3, self.e4 = nn.Conv2d(c, 2 * c, 3, 2, 1), nn.Conv2d(2 * c, 2 * c, 3, 1, 2, dilation=2)
            self.e5, self.g = nn.Conv2d(2 * c, 2 * c, 3, 1, 4, dilation=4), nn.Linear(2 * c, 2 * c)
            self.d1, self.out = nn.Conv2d(5 * c, c, 3, 1, 1), nn.Conv2d(c + 5, 1, 1)

        def forward(self, f):
            a = F.relu(self.e2(F.relu(self.e1(f))))
            b = F.relu(self.e5(F.relu(self.e4(F.relu(self.e3(a))))))
            g = F.relu(self.g(b.mean((2, 3))))[:, :, None, None].expand_as(b)
            u = F.interpolate(torch.cat([b, g], 1), scale_factor=2, mode="bilinear", align_corners=False)
            u = F.relu(self.d1(torch.cat([u, a], 1)))
            u = F.interpolate(u, scale_factor=2, mode="bilinear", align_corners=False)
            return self.out(torch.cat([u, f], 1))

    def uniform(n: int, lo: float, hi: float, *shape: int):
        return torch.empty(n, *shape).uniform_(lo, hi)

    def augment(x, v, th, y):
        n = x.shape[0]
        x = x.float() / 255
        theta = torch.zeros(n, 2, 3)
        sc, asp = uniform(n, 0.85, 1.25), uniform(n, 0.85, 1.15)
        theta[:, 0, 0] = sc * asp * torch.where(torch.rand(n) < 0.5, -1.0, 1.0)
        theta[:, 1, 1] = sc / asp * torch.where(torch.rand(n) < 0.5, -1.0, 1.0)
        theta[:, :, 2] = uniform(n, -0.15, 0.15, 2)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", align_corners=False)
        v = F.grid_sample(v[:, None], grid, mode="nearest", align_corners=False)
        th = F.grid_sample(th[:, None], grid, mode="nearest", align_corners=False, padding_mode="border")
        y = F.grid_sample(y[:, None].float(), grid, mode="nearest", align_corners=False)
        y = torch.where(v > 0, y, torch.full_like(y, 255))
        x = x * uniform(n, 0.7, 1.3, 3, 1, 1)
        s = uniform(n, 0, 0.7, 1, 1, 1) * (torch.rand(n, 1, 1, 1) < 0.7)
        x = x * (1 - s) + x.mean(1, keepdim=True) * s
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, x.shape[2]), torch.linspace(-1, 1, x.shape[3]), indexing="ij")
        rr = (xx**2 + yy**2)[None, None]
        x = x + uniform(n, 0, 0.35, 1, 1, 1) * rr ** uniform(n, 1, 3, 1, 1, 1) * (torch.rand(n, 1, 1, 1) < 0.5)
        x = (x * uniform(n, 0.6, 1.4, 1, 1, 1)).clamp(0, 1) ** uniform(n, 0.7, 1.4, 1, 1, 1)
        return (x + torch.randn_like(x) * 0.01).clamp(0, 1), v, th, y

    def fractions(net, x, v, th) -> np.ndarray:
        net.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(x), 64):
                xb = torch.tensor(x[i : i + 64]).float() / 255
                vb = torch.tensor(v[i : i + 64]).float()[:, None]
                tb = torch.tensor(th[i : i + 64].astype(np.float32))[:, None]
                p = torch.sigmoid(net(features(xb, vb, tb)))
                p = torch.where(tb < -0.5, torch.zeros_like(p), p)  # the star rule, as the shipped graph gets it
                out.append(((p * vb).sum((1, 2, 3)) / vb.sum((1, 2, 3)).clamp(min=1)).numpy())
        net.train()
        return np.concatenate(out)

    def score(f: np.ndarray, t: np.ndarray) -> str:
        p = np.floor(8 * f + 0.5)
        ends = (t == 0) | (t == 8)
        ok = ((t == 0) & (p <= 2)) | ((t == 8) & (p >= 6))
        return f"{np.abs(p - t).mean():.2f} / {np.mean(p == t):.0%} / {ok[ends].mean():.0%}"

    def report(net) -> str:
        ft = fractions(net, d["tsi_x"], d["tsi_v"], d["tsi_th"])
        fl = fractions(net, d["lh_x"], d["lh_v"], d["lh_th"])
        held, day = d["tsi_g"] != TRAIN_DAY, ~d["lh_night"]
        return (f"TSI 2018 (unseen) {score(ft[held], d['tsi_o'][held])} | TSI {TRAIN_DAY} (trained) "
                f"{score(ft[~held], d['tsi_o'][~held])} | LenghuSky day {score(fl[day], d['lh_o'][day])} | "
                f"night {score(fl[~day], d['lh_o'][~day])}")

    net = Net()
    print(f"{sum(p.numel() for p in net.parameters())} parameters; {len(xs)} training frames")
    opt = torch.optim.AdamW(net.parameters(), 3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=args.epochs * math.ceil(len(xs) / 16))
    start = time.time()
    for epoch in range(args.epochs):
        total = 0.0
        perm = torch.randperm(len(xs))
        for i in range(0, len(xs), 16):
            j = perm[i : i + 16]
            x, v, th, y = augment(xs[j], vs[j], ths[j], ys[j])
            logit = net(features(x, v, th))
            known, cloud = (y != 255).float(), (y == 1).float()
            loss = (F.binary_cross_entropy_with_logits(logit, cloud, reduction="none") * known).sum()
            loss = loss / known.sum().clamp(min=1)
            n_known = known.sum((1, 2, 3)).clamp(min=1)
            pf, tf = (torch.sigmoid(logit) * known).sum((1, 2, 3)) / n_known, (cloud * known).sum((1, 2, 3)) / n_known
            loss = loss + 2 * (pf - tf).abs().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1}: loss {total:.2f}, {time.time() - start:.0f} s | {report(net)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prep")
    p.add_argument("--tsi", type=Path, required=True)
    p.add_argument("--lenghu", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", type=Path, required=True)
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    prep(args) if args.step == "prep" else train(args)


if __name__ == "__main__":
    main()
