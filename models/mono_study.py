"""The monochrome rule's constants (daemon mono.py) chosen by folds on cloudynight's 20 frames, per subregion.

cloudynight labels 33 subregions per frame (1: cloud): its frames are cropped to columns 220-1190 and rows 0-960
of the 1392x1040 FITS, and the crop is cut into a centre disc and 4 rings of 8 sectors, rings of 96 pixels
around (480, 485) (its centre's x and y, as its code has them). The rendering cielo sees is the whole frame at
640x480, so the subregions are drawn there at that scale and read at mono.MONO_SIZE.

Folds: 4 of 5 frames in file order (000-004, 005-009, ...), never random; on each, NOISE_K, CLEAR_BAR and
FRAME_BAR are chosen on the other 15 frames (least octa MAE, then the most subregions right) and scored on
its 5. Before: every frame flagged `night` (no octas: an error of 8).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from cielo.sources.skycam import mono
from models.skydata import Sample

FITS_SIZE = (1392, 1040)
CROP_X0, CENTRE, RING = 220, (480.0, 485.0), 96.0
N_CELLS = 33
KS = (6.0, 8.0, 10.0, 12.0)
CLEAR_BARS = tuple(float(v) for v in np.geomspace(1e-4, 1e-2, 21))
FRAME_BARS = (0.0, *(float(v) for v in np.geomspace(5e-4, 1e-2, 27)))


def subregions(width: int, height: int) -> np.ndarray:
    """int [height, width]: cloudynight's subregion of each pixel of the rendering at this size, -1 none."""
    y, x = np.indices((height, width), dtype=np.float64)
    xc, yc = x * FITS_SIZE[0] / width - CROP_X0, y * FITS_SIZE[1] / height
    r = np.hypot(xc - CENTRE[0], yc - CENTRE[1])
    sector = np.floor((np.arctan2(yc - CENTRE[1], xc - CENTRE[0]) + np.pi) / (2 * np.pi) * 8).clip(0, 7)
    ring = np.floor(r / RING)
    out = np.where(ring == 0, 0, (ring - 1) * 8 + sector + 1).astype(np.int32)
    out[ring > 4] = -1
    return out


def densities(samples: list[Sample]) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Per NOISE_K: (star share per subregion [frames, 33], star share over all subregions [frames])."""
    w, h = mono.MONO_SIZE
    label = subregions(w, h)
    greys = []
    for s in samples:
        im = Image.open(io.BytesIO(s.jpeg))
        im.draft("L", mono.MONO_SIZE)
        greys.append(np.asarray(im.convert("L"), dtype=np.uint8))
    sky = label >= 0
    area = np.bincount(label[sky], minlength=N_CELLS)
    out = {}
    for k in KS:
        found = [mono.points(g, label, N_CELLS, k) for g in greys]
        cells = np.array([np.bincount(label[f & sky], minlength=N_CELLS) / area for f in found])
        out[k] = (cells, np.array([float(f[sky].mean()) for f in found]))
    return out


def _cloud(dens: dict, k: float, bar: float, frame_bar: float) -> np.ndarray:
    cells, frame = dens[k]
    return ((cells < bar) | (frame < frame_bar)[:, None]).astype(int)


def score(cloud: np.ndarray, truth: np.ndarray) -> dict:
    """Subregion accuracy, frame octas MAE, clear (0) read <= 2 and overcast (8) read >= 6 (counts)."""
    o = np.floor(8 * cloud.mean(1) + 0.5).astype(int)
    t = np.floor(8 * truth.mean(1) + 0.5).astype(int)
    return {"subregions": float((cloud == truth).mean()), "mae": float(np.abs(o - t).mean()),
            "clear": (int((o[t == 0] <= 2).sum()), int((t == 0).sum())),
            "overcast": (int((o[t == 8] >= 6).sum()), int((t == 8).sum())), "octas": o.tolist()}


def folds(samples: list[Sample]) -> dict:
    """Per fold (the constants chosen on the other 15 frames and the 5 frames' scores), pooled, and the
    constants best on all 20 (what mono.py ships)."""
    truth = np.array([s.extra["cells"] for s in samples])
    dens = densities(samples)
    grid = [(k, b, f) for k in KS for b in CLEAR_BARS for f in FRAME_BARS]

    def best(idx: list[int]) -> tuple[float, float, float]:
        def key(g: tuple[float, float, float]) -> tuple[float, float]:
            r = score(_cloud(dens, *g)[idx], truth[idx])
            return (-r["mae"], r["subregions"])
        return max(grid, key=key)

    n = len(samples)
    pooled = np.zeros_like(truth)
    out: dict = {"folds": []}
    for start in range(0, n, 5):
        test = list(range(start, min(start + 5, n)))
        chosen = best([i for i in range(n) if i not in test])
        pooled[test] = _cloud(dens, *chosen)[test]
        out["folds"].append({"frames": f"{samples[test[0]].name}-{samples[test[-1]].name}", "chosen": chosen,
                             **score(pooled[test], truth[test])})
    out["pooled"] = score(pooled, truth)
    out["all_clear_subregions"] = float((truth == 0).mean())
    out["all20"] = best(list(range(n)))
    out["truth"] = np.floor(8 * truth.mean(1) + 0.5).astype(int).tolist()
    return out
