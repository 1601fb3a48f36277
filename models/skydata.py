"""Labelled sky images for building and scoring the octa model: loaders, the SWIMSEG split, metrics, baselines.

Used by models/build_octas.py and bench/classify.py; never by the daemon. The datasets live outside the
repository (see models/octas.json, "datasets"); this module only reads the folders it is given.

Octas from a mask (the definition used everywhere here): over the valid area, f = cloud pixels / (cloud + sky
pixels), octas = round(8 f) (half up). SWIMSEG, SWINSEG and HYTA are crops of the sky, so every pixel of their
masks is valid (cloud or sky).
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

HEIGHT, WIDTH = 120, 160


@dataclass
class Sample:
    name: str
    group: str  # capture time (or day) for splits
    jpeg: bytes  # the image as a 640x480 JPEG, like a sky camera serves it
    fraction: float  # cloud fraction from the mask
    octas: int
    extra: dict = field(default_factory=dict)


def octas_of(fraction: float) -> int:
    return int(np.floor(8.0 * fraction + 0.5))


def _as_camera_jpeg(path: Path) -> bytes:
    """The image re-encoded as a 640x480 JPEG (quality 90): the daemon's input, decoded the daemon's way."""
    im = Image.open(path).convert("RGB").resize((640, 480), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _mask_fraction(path: Path) -> float:
    m = np.asarray(Image.open(path).convert("L"), dtype=np.uint8)
    return float((m >= 128).mean())


def _small_mask(path: Path) -> np.ndarray:
    """The cloud mask at 320x240 (bit-packed), kept for the simulated fisheye set."""
    m = Image.open(path).convert("L").resize((320, 240), Image.Resampling.NEAREST)
    return np.packbits(np.asarray(m, dtype=np.uint8) >= 128)


def git_commit(folder: Path) -> str | None:
    """The commit a dataset folder was extracted from, when it carries a COMMIT file or is a git checkout."""
    for parent in [folder, *folder.parents]:
        marker = parent / "COMMIT"
        if marker.is_file():
            return marker.read_text().split()[0]
    try:
        out = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True)
        return out.stdout.strip() or None
    except OSError:
        return None


def load_swimseg(folder: Path) -> list[Sample]:
    """SWIMSEG (daytime patches, 600x600): images/NNNN.png, GTmaps/NNNN_GT.png, metadata.csv (Date, Time)."""
    with open(folder / "metadata.csv", encoding="utf-8") as fh:
        rows = {r["Number"].strip(): r for r in csv.DictReader(fh)}
    out = []
    for img in sorted((folder / "images").glob("*.png")):
        meta = rows[img.stem]
        gt = folder / "GTmaps" / f"{img.stem}_GT.png"
        f = _mask_fraction(gt)
        out.append(Sample(img.stem, meta["Date"].strip(), _as_camera_jpeg(img), f, octas_of(f),
                          {"time": meta["Time"].strip(), "mask320": _small_mask(gt)}))
    return out


def load_swinseg(folder: Path) -> list[Sample]:
    """SWINSEG (night patches, 500x500): images/NNN.jpg, GTmaps/NNN_GT.jpg, metadata.txt (Date, Time)."""
    dates = {}
    for line in (folder / "metadata.txt").read_text(encoding="utf-8").splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 3:
            dates[int(parts[0])] = (parts[1], parts[2])
    out = []
    for img in sorted((folder / "images").glob("*.jpg")):
        date, time = dates.get(int(img.stem), ("?", "?"))
        f = _mask_fraction(folder / "GTmaps" / f"{img.stem}_GT.jpg")
        out.append(Sample(img.stem, date, _as_camera_jpeg(img), f, octas_of(f), {"time": time}))
    return out


def load_hyta(folder: Path) -> list[Sample]:
    """HYTA (32 images of several sizes): images/X.jpg, 2GT/X_GT.jpg (binary masks)."""
    out = []
    for img in sorted((folder / "images").glob("*.jpg"), key=lambda p: (p.stem[0], int(p.stem[1:]))):
        f = _mask_fraction(folder / "2GT" / f"{img.stem}_GT.jpg")
        out.append(Sample(img.stem, img.stem, _as_camera_jpeg(img), f, octas_of(f)))
    return out


def split_swimseg(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    """By capture day, never at random: the 17 days in date order, every third day (2nd, 5th, ...) is test.

    Patches of one capture are near-copies, and captures of one day share the weather, so a whole day goes to
    one side."""
    days = sorted({s.group for s in samples})
    test_days = {d for i, d in enumerate(days) if i % 3 == 2}
    return [s for s in samples if s.group not in test_days], [s for s in samples if s.group in test_days]


def halves(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    """Two halves for calibrate-on-one, score-on-the-other: by capture group where there are several groups
    (whole groups alternate, in time order), else alternating images."""
    groups = sorted({(s.group, s.extra.get("time", "")) for s in samples})
    if len(groups) >= 4 and len(groups) < len(samples):
        first = {g for i, g in enumerate(groups) if i % 2 == 0}
        a = [s for s in samples if (s.group, s.extra.get("time", "")) in first]
        b = [s for s in samples if (s.group, s.extra.get("time", "")) not in first]
        return a, b
    return samples[0::2], samples[1::2]


def fisheye_with_obstructions(samples: list[Sample]) -> list[Sample]:
    """The same skies seen by a simulated all-sky camera: each patch inside a lens circle on a black 640x480
    frame, with a grey wall along the lower edge and a pole, the same in every frame. The truth is the patch's
    own mask over the lens less the wall and pole. Real sky content, constructed camera: it measures what the
    valid-area detection and the calibration's obstruction mask are for, which the crop datasets cannot."""
    w, h, r = 640, 480, 236
    yy, xx = np.mgrid[0:h, 0:w]
    lens = (xx - w // 2) ** 2 + (yy - h // 2) ** 2 <= r * r
    wall = lens & (yy > h // 2 + r // 2)
    pole = lens & (xx >= w // 2 + r // 3) & (xx < w // 2 + r // 3 + r // 10) & (yy > h // 2 - r // 4)
    valid = lens & ~wall & ~pole
    rng = np.random.default_rng(0)
    texture = rng.normal(0, 4, (h, w, 1))
    out = []
    for s in samples:
        sky = np.asarray(Image.open(io.BytesIO(s.jpeg)).convert("RGB").resize((2 * r, 2 * r)), dtype=np.float64)
        cloud_small = np.unpackbits(s.extra["mask320"])[: 320 * 240].reshape(240, 320)
        cloud = np.asarray(Image.fromarray(cloud_small * 255).resize((2 * r, 2 * r), Image.Resampling.NEAREST)) > 0
        frame = np.zeros((h, w, 3))
        cloud_full = np.zeros((h, w), dtype=bool)
        x0, y0 = w // 2 - r, h // 2 - r
        frame[y0 : y0 + 2 * r, x0 : x0 + 2 * r] = sky
        cloud_full[y0 : y0 + 2 * r, x0 : x0 + 2 * r] = cloud
        frame[wall] = np.array([120.0, 115.0, 110.0]) + texture[wall]
        frame[pole] = np.array([150.0, 150.0, 150.0]) + texture[pole]
        frame[~lens] = 0
        buf = io.BytesIO()
        Image.fromarray(frame.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
        f = float(cloud_full[valid].mean())
        out.append(Sample(s.name, s.group, buf.getvalue(), f, octas_of(f), {"time": s.extra.get("time", "")}))
    return out


# --- metrics ---------------------------------------------------------------------------------------------

def scores(true_octas, pred_octas, true_frac, pred_frac) -> dict:
    t, p = np.asarray(true_octas), np.asarray(pred_octas)
    err = np.abs(t - p)
    return {
        "n": len(t),
        "octa_mae": round(float(err.mean()), 3),
        "exact": round(float((err == 0).mean()), 3),
        "within1": round(float((err <= 1).mean()), 3),
        "fraction_mae": round(float(np.abs(np.asarray(true_frac) - np.asarray(pred_frac)).mean()), 3),
    }


def calibration_table(confidence, correct, bins: int = 10) -> dict:
    """Expected calibration error and accuracy per confidence decile (equal-count bins)."""
    c, ok = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    order = np.argsort(c)
    ece, rows = 0.0, []
    for chunk in np.array_split(order, bins):
        if len(chunk) == 0:
            continue
        conf, acc = float(c[chunk].mean()), float(ok[chunk].mean())
        ece += len(chunk) / len(c) * abs(conf - acc)
        rows.append({"n": len(chunk), "mean_confidence": round(conf, 3), "accuracy": round(acc, 3)})
    return {"ece": round(ece, 3), "deciles": rows}


# --- baselines (numpy, on the daemon's decoded frames: uint8 [3, H, W]) -------------------------------------

def _rgb(pixels: np.ndarray):
    x = pixels.astype(np.float32) / 255.0
    return x[0], x[1], x[2]


def nrbr(pixels: np.ndarray) -> np.ndarray:
    """Normalised blue/red ratio (b - r) / (b + r): clear sky high, cloud near 0 (Li et al. 2011)."""
    r, _, b = _rgb(pixels)
    return (b - r) / (b + r + 1e-3)


def otsu(values: np.ndarray, lo: float = -0.3, hi: float = 0.7, bins: int = 100) -> float:
    hist, edges = np.histogram(np.clip(values, lo, hi), bins=bins, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    w = hist.astype(float)
    w0 = np.cumsum(w)
    m0 = np.cumsum(w * centres)
    total, mtotal = w0[-1], m0[-1]
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = w0 * w1 * (m0 / w0 - (mtotal - m0) / w1) ** 2
    between = np.nan_to_num(between)
    return float(edges[1:][int(between.argmax())])


def baseline_fixed_rb(pixels: np.ndarray) -> float:
    """Fixed red/blue >= 0.6 is cloud (Long et al. 2006), every pixel."""
    r, _, b = _rgb(pixels)
    return float((r / (b + 1e-3) >= 0.6).mean())


def baseline_otsu(pixels: np.ndarray) -> float:
    """Per-image Otsu threshold on NRBR; below it is cloud."""
    v = nrbr(pixels).ravel()
    return float((v < otsu(v)).mean())


def baseline_hybrid(pixels: np.ndarray) -> float:
    """HYTA hybrid rule (Li, Lu, Yang 2011): NRBR std <= 0.03 → unimodal, fixed threshold 0.25; else an
    adaptive threshold (minimum cross entropy in the paper; Otsu here, which picks near the same valley)."""
    v = nrbr(pixels).ravel()
    t = 0.25 if v.std() <= 0.03 else otsu(v)
    return float((v < t).mean())


BASELINES = {
    "fixed R/B>=0.6": baseline_fixed_rb,
    "Otsu on NRBR": baseline_otsu,
    "HYTA hybrid": baseline_hybrid,
}


# --- the shipped model, with and without a site calibration ------------------------------------------------

def decode_all(model, samples: list[Sample]):
    return [model.decode(s.jpeg) for s in samples]


def _model_outputs(model, frames) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    probs = model.predict(frames).astype(np.float64)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs.argmax(axis=1), probs.max(axis=1), (probs * np.arange(9)).sum(axis=1) / 8.0


def _masked(pixels: np.ndarray, cal) -> np.ndarray:
    return pixels if cal is None else pixels * cal.mask_at(*pixels.shape[1:])[None]


def _fixed_site(pixels: np.ndarray, cal) -> float:
    v, valid = nrbr(pixels), cal.mask_at(*pixels.shape[1:])
    return float((v[valid] < cal.sky_threshold).mean())


def _hybrid_site(pixels: np.ndarray, cal) -> float:
    v = nrbr(pixels)[cal.mask_at(*pixels.shape[1:])]
    t = cal.sky_threshold if v.std() <= 0.03 else otsu(v)
    return float((v < t).mean())


def evaluate_set(model, samples: list[Sample], default_threshold: float) -> dict:
    """Every baseline and the model on one test set; `+ calibration`: fitted on one half of the set's images
    (no labels), scored on the other half, both ways round, so every image is scored once by a calibration
    that never saw it."""
    from cielo.sources.skycam import calibration

    frames = decode_all(model, samples)
    t_oct = [s.octas for s in samples]
    t_frac = [s.fraction for s in samples]
    rows: dict[str, dict] = {}
    for name, fn in BASELINES.items():
        f = [fn(fr.pixels) for fr in frames]
        rows[name] = scores(t_oct, [octas_of(x) for x in f], t_frac, f)
    model.calibrate(None)
    octas, conf, frac = _model_outputs(model, frames)
    rows["shipped"] = scores(t_oct, octas, t_frac, frac)
    shipped_conf = {"confidence": conf.tolist(), "correct": (octas == np.asarray(t_oct)).tolist()}

    a, b = halves(samples)
    index = {id(s): i for i, s in enumerate(samples)}
    cal_pred: dict[str, dict[int, tuple[int, float]]] = {"fixed R/B>=0.6": {}, "HYTA hybrid": {}, "shipped": {}}
    fitted = []
    for fit_half, score_half in ((a, b), (b, a)):
        cal = calibration.fit([frames[index[id(s)]] for s in fit_half], "half", default_threshold)
        fitted.append({"frames": cal.frames, "sky_threshold": round(cal.sky_threshold, 3),
                       "sky_share": cal.found["sky_share"]})
        idx = [index[id(s)] for s in score_half]
        model.calibrate(cal)
        o, _, fr = _model_outputs(model, [frames[i] for i in idx])
        for i, oi, fi in zip(idx, o, fr, strict=True):
            cal_pred["shipped"][i] = (int(oi), float(fi))
            f1 = _fixed_site(frames[i].pixels, cal)
            cal_pred["fixed R/B>=0.6"][i] = (octas_of(f1), f1)
            f2 = _hybrid_site(frames[i].pixels, cal)
            cal_pred["HYTA hybrid"][i] = (octas_of(f2), f2)
    model.calibrate(None)
    for name, pred in cal_pred.items():
        order = sorted(pred)
        rows[f"{name} + calibration"] = scores([t_oct[i] for i in order], [pred[i][0] for i in order],
                                               [t_frac[i] for i in order], [pred[i][1] for i in order])
    return {"n": len(samples), "rows": rows, "calibrations": fitted, "_conf": shipped_conf}


def speed(model, jpegs: list[bytes], rounds: int = 3) -> dict:
    """ms per image, one thread: decode + preprocess + inference, one image per call and 32 per call."""
    import time

    def per_image(batch: int) -> float:
        best = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter()
            for i in range(0, len(jpegs), batch):
                model.predict([model.decode(j) for j in jpegs[i : i + batch]])
            best = min(best, (time.perf_counter() - t0) / len(jpegs) * 1000)
        return round(best, 2)

    decode = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for j in jpegs:
            model.decode(j)
        decode = min(decode, (time.perf_counter() - t0) / len(jpegs) * 1000)
    return {"images": len(jpegs), "size": "640x480 JPEG", "threads": 1,
            "decode_ms": round(decode, 2), "batch1_ms": per_image(1), "batch32_ms": per_image(32)}


def load_all(swimseg: Path, swinseg: Path, hyta: Path) -> dict:
    sw = load_swimseg(swimseg)
    train, test = split_swimseg(sw)
    return {
        "dirs": {"SWIMSEG": swimseg, "SWINSEG": swinseg, "HYTA": hyta},
        "swimseg": sw,
        "train": train,
        "sets": {
            "SWIMSEG test days": test,
            "SWINSEG (night)": load_swinseg(swinseg),
            "HYTA (other cameras)": load_hyta(hyta),
            "SWIMSEG test days, simulated fisheye with wall and pole": fisheye_with_obstructions(test),
        },
    }


def evaluate_all(model, data: dict, default_threshold: float) -> dict:
    results, conf, correct = {}, [], []
    for name, samples in data["sets"].items():
        r = evaluate_set(model, samples, default_threshold)
        c = r.pop("_conf")
        r["confidence_calibration"] = calibration_table(c["confidence"], c["correct"], bins=5)
        if "simulated" not in name:
            conf += c["confidence"]
            correct += c["correct"]
        results[name] = r
    train, test = data["train"], data["sets"]["SWIMSEG test days"]
    dirs = data["dirs"]
    return {
        "test_sets": results,
        "confidence_calibration_real_test_sets": calibration_table(conf, correct, bins=10),
        "speed": speed(model, [s.jpeg for s in test[:64]]),
        "datasets": {
            "SWIMSEG": {"repository": "github.com/psturmfels/CumulusBeGone, data/swimseg",
                        "commit": git_commit(dirs["SWIMSEG"]), "images": len(data["swimseg"]),
                        "licence": "CC BY-NC 4.0 (Dev, Lee, Winkler 2016)",
                        "split": "by capture day: the 17 days in date order, every third (2nd, 5th, ...) is test",
                        "train_days": sorted({s.group for s in train}),
                        "test_days": sorted({s.group for s in test}),
                        "train_images": len(train), "test_images": len(test)},
            "SWINSEG": {"repository": "github.com/psturmfels/CumulusBeGone, data/swinseg",
                        "commit": git_commit(dirs["SWINSEG"]), "images": len(data["sets"]["SWINSEG (night)"]),
                        "licence": "CC BY-NC 4.0 (Dev, Lee, Winkler 2017)", "use": "test only"},
            "HYTA": {"repository": "github.com/Soumyabrata/HYTA", "commit": git_commit(dirs["HYTA"]),
                     "images": len(data["sets"]["HYTA (other cameras)"]),
                     "licence": "published with permission of Li, Lu, Yang 2011; cite the paper",
                     "use": "test only (2GT binary masks)"},
            "WSISEG": "not used in any way (reserved for independent evaluation)",
        },
        "protocol": (
            "each image re-encoded as a 640x480 JPEG (quality 90) and decoded the daemon's way (draft mode to "
            "160x120); baselines run on the same decoded frames over all pixels. '+ calibration': cielo's "
            "calibration fitted on one half of the test set's images without labels (whole capture times "
            "alternate; HYTA: alternate images), scored on the other half, both ways round; the fixed and "
            "hybrid rules then use the site threshold and mask. The simulated fisheye set puts the SWIMSEG "
            "test patches in a lens circle with a fixed wall and pole (skydata.fisheye_with_obstructions). "
            "Baselines: fixed R/B >= 0.6 is cloud; Otsu on NRBR per image (100 bins); HYTA hybrid = NRBR std "
            "<= 0.03 -> fixed NRBR 0.25, else Otsu (the paper uses minimum cross entropy for that branch)"
        ),
    }


# --- whole-sky frames: ARM TSI (mirror imager, per-pixel masks) and LenghuSky-8 (fisheye, polygons) ----------

TSI_SITE = (36.605, -97.485)  # ARM SGP Central Facility (C1), Lamont, Oklahoma
TSI_MIRROR_RADIUS = 232  # px in the 480x640 TSI frame: the mirror's horizon (the sky disc), measured on the frames
TSI_COLOURS = {(0, 0, 255): "clear", (255, 255, 255): "cloud", (192, 192, 192): "cloud", (0, 0, 0): "masked",
               (255, 255, 0): "sun", (0, 255, 0): "unknown"}
LENGHU_LENS = (252.5, 258.5, 218.0)  # centre x, y and radius (px of the 512x512 frames): the black surround's edge
LENGHU_YEARS = ("2018", "2019", "2020", "2021")  # 2022 and later are reserved for independent evaluation
LENGHU_SITE = (38.6, 93.9)  # latitude, longitude: day/night of a frame from its time (file names are UTC+8)


def _fraction_in_circle(cloud: np.ndarray, clear: np.ndarray, cx: float, cy: float, r: float) -> tuple[float, int]:
    h, w = cloud.shape
    yy, xx = np.mgrid[0:h, 0:w]
    inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= (0.85 * r) ** 2
    c, k = int((cloud & inside).sum()), int((clear & inside).sum())
    return (c / (c + k) if c + k else float("nan")), c + k


def load_tsi(folder: Path, step: int = 10) -> list[Sample]:
    """ARM TSI-880 frames (SkyImage/*/*.jpg) with the instrument's masks (CloudMask/*/*.png), every `step`-th
    pair in time order. Octas over the masks within 0.85 of the mirror radius (centre from the mask's disc);
    thin cloud counts as cloud; sun, masked and overlay pixels are left out. The frame is the camera's own JPEG."""
    def stamp(p: Path, sep: str) -> str:
        return p.name.split(sep)[1][:14]

    images = {stamp(p, ".jpg."): p for p in (folder / "SkyImage").glob("*/*.jpg")}
    masks = {stamp(p, ".png."): p for p in (folder / "CloudMask").glob("*/*.png")}
    out = []
    for key in sorted(set(images) & set(masks))[::step]:
        try:
            m = np.asarray(Image.open(masks[key]).convert("RGB")).astype(np.int32)
        except OSError:
            continue  # a few masks in the snapshot are truncated
        code = m[..., 0] * 65536 + m[..., 1] * 256 + m[..., 2]
        cloud = (code == 0xFFFFFF) | (code == 0xC0C0C0)
        clear = code == 0x0000FF
        ys, xs = np.nonzero(code != 0)
        if len(ys) == 0:
            continue
        cy, cx = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2
        f, n = _fraction_in_circle(cloud, clear, cx, cy, TSI_MIRROR_RADIUS)
        if n < 1000:
            continue
        day, hhmmss = key[:8], key[8:]
        when = datetime.strptime(key, "%Y%m%d%H%M%S").replace(tzinfo=UTC)  # ARM file names are UTC
        out.append(Sample(key, day, images[key].read_bytes(), f, octas_of(f),
                          {"time": hhmmss, "hour": f"{day}T{hhmmss[:2]}", "night": False, "when": when}))
    return out


def load_lenghu(folder: Path, twilight: bool = False) -> list[Sample]:
    """LenghuSky-8 LabelMe JSONs (JPEG embedded), only frames dated 2018-2021 (later ones are reserved and
    refused). Octas over the `sky`/`cloud` polygons within 0.85 of the lens radius; day (sun above 0 deg) and
    night (below -6 deg) from the file name's time (UTC+8); twilight frames are left out unless `twilight`."""
    import base64
    import json
    from datetime import datetime, timedelta, timezone

    from PIL import ImageDraw

    from cielo.astro import sun

    codes = {"sky": 1, "cloud": 2, "clode": 2, "contamination": 3, "contination": 3}
    out = []
    for path in sorted(folder.glob("*.json")):
        if not path.name.startswith(LENGHU_YEARS):
            continue
        raw = json.loads(path.read_text(encoding="utf-8"))
        jpeg = base64.b64decode(raw["imageData"])
        w, h = int(raw["imageWidth"]), int(raw["imageHeight"])
        lab = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(lab)
        for shape in raw["shapes"]:
            c = codes.get(shape["label"].strip().lower())
            pts = [tuple(p) for p in shape["points"]]
            if c and len(pts) >= 3:
                draw.polygon(pts, fill=c)
        a = np.asarray(lab)
        cx, cy, r = LENGHU_LENS
        f, n = _fraction_in_circle(a == 2, a == 1, cx * w / 512, cy * h / 512, r * w / 512)
        if n < 200:
            continue
        t = datetime.strptime(path.stem, "%Y-%m-%d-%H-%M-%S").replace(tzinfo=timezone(timedelta(hours=8)))
        elev = sun.elevation(t, *LENGHU_SITE)
        if -6 <= elev <= 0 and not twilight:
            continue
        out.append(Sample(path.stem, path.stem[:10], jpeg, f, octas_of(f),
                          {"time": path.stem[11:], "night": elev < -6, "sun_elevation": round(elev, 1), "when": t}))
    return out


def read_fits(path: Path) -> np.ndarray:
    """A 2-D FITS image (bz2 or plain; BITPIX 16/-32/32/8, BZERO/BSCALE), float64 [rows, columns]."""
    import bz2

    data = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    head: dict[str, str] = {}
    pos = 0
    while True:
        card = data[pos : pos + 80].decode("ascii", "replace")
        pos += 80
        if card.startswith("END"):
            break
        if "=" in card[:10]:
            head[card[:8].strip()] = card[10:].split("/")[0].strip().strip("'").strip()
    start = -(-pos // 2880) * 2880
    bitpix, nx, ny = int(head["BITPIX"]), int(head["NAXIS1"]), int(head["NAXIS2"])
    dtype = {8: ">u1", 16: ">i2", 32: ">i4", -32: ">f4", -64: ">f8"}[bitpix]
    arr = np.frombuffer(data, dtype=dtype, count=nx * ny, offset=start).astype(np.float64).reshape(ny, nx)
    return arr * float(head.get("BSCALE", 1)) + float(head.get("BZERO", 0))


def load_cloudynight(folder: Path) -> list[Sample]:
    """cloudynight (Lowell Observatory, BSD-3-Clause): 20 monochrome 16-bit night frames, shown to cielo as
    8-bit grey JPEGs with a 1..99.5 % square-root stretch (as an all-sky camera's own JPEG would be); truth =
    the share of its 33 sky subregions labelled cloud (y_train.dat; extra["cells"]: each subregion's label, 1
    cloud, in cloudynight's order: models/mono_study.py draws them)."""
    import io

    labels = {}
    for line in (folder / "y_train.dat").read_text().splitlines():
        parts = line.split()
        if len(parts) > 1:
            labels[parts[0]] = np.array([int(v) for v in parts[1:]])
    out = []
    for key in sorted(labels):
        path = folder / f"{key}.fits.bz2"
        if not path.is_file():
            continue
        a = read_fits(path)
        lo, hi = np.percentile(a, [1, 99.5])
        g = np.sqrt(np.clip((a - lo) / max(hi - lo, 1e-9), 0, 1))
        im = Image.fromarray((g * 255).astype(np.uint8)).convert("RGB").resize((640, 480), Image.Resampling.BILINEAR)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        f = float(labels[key].mean())
        out.append(Sample(key, key, buf.getvalue(), f, octas_of(f), {"night": True, "cells": labels[key].tolist()}))
    return out


def clear_overcast(true_octas, pred_octas) -> tuple[float, int]:
    """Share of the clear (0 octas) and overcast (8) frames read right: clear <= 2, overcast >= 6."""
    t, p = np.asarray(true_octas), np.asarray(pred_octas)
    sel = (t == 0) | (t == 8)
    ok = ((t == 0) & (p <= 2)) | ((t == 8) & (p >= 6))
    return (round(float(ok[sel].mean()), 3) if sel.any() else float("nan")), int(sel.sum())


def classes_right(true_octas, pred_octas) -> tuple[float, int]:
    """Share of the frames that are clear (true <= 2 octas) or overcast (>= 6) read in the same class (<= 2 / >= 6):
    the second-fisheye bar's own terms. Stricter than clear_overcast, which scores only true 0 and 8."""
    t, p = np.asarray(true_octas), np.asarray(pred_octas)
    sel = (t <= 2) | (t >= 6)
    ok = ((t <= 2) & (p >= 0) & (p <= 2)) | ((t >= 6) & (p >= 6))
    return (round(float(ok[sel].mean()), 3) if sel.any() else float("nan")), int(sel.sum())


def time_halves(samples: list[Sample], key: str) -> tuple[list[Sample], list[Sample]]:
    """Two halves by time block (hour for TSI, day for LenghuSky), blocks alternating in time order."""
    blocks = sorted({s.extra.get(key, s.group) for s in samples})
    if len(blocks) < 2:  # one block (a single hour): alternate frames, else one half is empty and never scored
        ordered = sorted(samples, key=lambda s: s.name)
        first_ids = {id(s) for s in ordered[::2]}
        return [s for s in samples if id(s) in first_ids], [s for s in samples if id(s) not in first_ids]
    first = {b for i, b in enumerate(blocks) if i % 2 == 0}
    return ([s for s in samples if s.extra.get(key, s.group) in first],
            [s for s in samples if s.extra.get(key, s.group) not in first])


def evaluate_whole(model, samples: list[Sample], block: str, default_threshold: float,
                   parts: dict[str, Callable[[Sample], bool]] | None = None) -> dict[str, dict]:
    """The model on whole-sky frames without calibration, and with a calibration fitted (no labels, day and
    night frames alike, as `cielo calibrate --images` would) on the other half of the frames by time block,
    both ways round; the old hybrid rule over all pixels as the baseline. Scored per part (day, night).
    A frame flagged dark counts as a miss (error 8), not dropped."""
    from cielo.sources.skycam import calibration

    frames = decode_all(model, samples)
    t_oct = np.array([s.octas for s in samples])

    def run(idx: list[int]) -> tuple[np.ndarray, np.ndarray]:
        verdicts = model.judge([frames[i] for i in idx], [None] * len(idx), 0.0, 0.0)
        o = np.array([-9 if v.octas is None else v.octas for v in verdicts])
        c = np.array([0.0 if v.confidence is None else v.confidence for v in verdicts])
        return o, c

    allidx = list(range(len(samples)))
    model.calibrate(None)
    plain, conf = run(allidx)
    hybrid = np.array([octas_of(baseline_hybrid(f.pixels)) for f in frames])
    a, b = time_halves(samples, block)
    index = {id(s): i for i, s in enumerate(samples)}
    calibrated = np.full(len(samples), -9)
    fitted = []
    for fit_half, score_half in ((a, b), (b, a)):
        usable = [f for f in (frames[index[id(s)]] for s in fit_half) if f.brightness >= 0.08]
        cal = calibration.fit(usable, "half", default_threshold)
        fitted.append({"frames": cal.frames, "sky_threshold": round(cal.sky_threshold, 3), "lens": cal.lens,
                       "sky_share": cal.found["sky_share"]})
        idx = [index[id(s)] for s in score_half]
        model.calibrate(cal)
        calibrated[idx] = run(idx)[0]
    model.calibrate(None)

    def row(o: np.ndarray, idx: list[int]) -> dict:
        t, o = t_oct[idx], o[idx]
        judged = o >= 0
        err = np.where(judged, np.abs(o - t), 8)
        co, nco = clear_overcast(t, np.where(judged, o, -99))
        cls, ncls = classes_right(t, np.where(judged, o, -99))
        return {"n": len(idx), "octa_mae": round(float(err.mean()), 3), "exact": round(float((err == 0).mean()), 3),
                "within1": round(float((err <= 1).mean()), 3), "clear_overcast_right": co, "clear_overcast_n": nco,
                "classes_right": cls, "classes_n": ncls,
                "flagged": int((~judged).sum()), "bias": round(float(np.where(judged, o - t, 0).mean()), 3)}

    out = {}
    for name, keep in (parts or {"": lambda s: True}).items():
        idx = [i for i in allidx if keep(samples[i])]
        if not idx:
            continue
        ok = [i for i in idx if plain[i] >= 0]
        out[name] = {"n": len(idx), "rows": {"no calibration": row(plain, idx),
                                             "calibrated (other half)": row(calibrated, idx),
                                             "old hybrid rule, all pixels": row(hybrid, idx)},
                     "calibrations": fitted,
                     "confidence_calibration": calibration_table(conf[ok], plain[ok] == t_oct[ok], bins=5)}
    return out


def evaluate_monochrome(model, samples: list[Sample]) -> dict:
    """A monochrome night set (cloudynight): how many frames are flagged (no colour to judge by) and the
    octa error of those judged, without calibration (20 frames: too few to split for a fit)."""
    frames = decode_all(model, samples)
    model.calibrate(None)
    verdicts = model.judge(frames, [None] * len(frames), 0.0, 0.0)
    t = np.array([s.octas for s in samples])
    o = np.array([-9 if v.octas is None else v.octas for v in verdicts])
    judged = o >= 0
    err = np.abs(o - t)[judged]
    co, nco = clear_overcast(t[judged], o[judged]) if judged.any() else (float("nan"), 0)
    row = {"n": len(samples), "judged": int(judged.sum()), "flagged": int((~judged).sum()),
           "flags": sorted({v.flag for v in verdicts if v.flag}),
           "octa_mae_judged": round(float(err.mean()), 3) if judged.any() else None,
           "exact_judged": round(float((err == 0).mean()), 3) if judged.any() else None,
           "clear_overcast_right_judged": co, "clear_overcast_n_judged": nco,
           "confident_wrong_8": int(((o == 8) & (t <= 2)).sum())}
    return {"n": len(samples), "rows": {"no calibration": row}}


WHOLE_PROTOCOL = (
    "whole frames as the camera served them (TSI: its 480x640 JPEG; LenghuSky: the JPEG embedded in the JSON), "
    "decoded the daemon's way, no time given (no --at). 'calibrated (other half)': cielo's calibration fitted "
    "without labels on the frames of alternate time blocks (TSI: hours; LenghuSky: days, day and night frames "
    "together), scored on the others, both ways round. Clear/overcast: frames of 0 octas read <= 2 and of 8 "
    "read >= 6. A flagged frame counts as an error of 8. ECE: 5 equal-count confidence bins, uncalibrated"
)


def summarise_whole(results: dict[str, dict]) -> dict:
    """ECE over every whole-frame set's uncalibrated verdicts."""
    return {name: r["confidence_calibration"]["ece"] for name, r in results.items()}


def evaluate_everything(model, args) -> dict:
    """Every figure the card records: whole-frame sets first (TSI; LenghuSky 2018-2021 day and night),
    then the crop sets, the confidence calibration and the speed; with the datasets' commits and counts."""
    default = float(model.reference.zenith)
    tsi = load_tsi(args.tsi, step=10)
    lenghu = load_lenghu(args.lenghu)
    whole = {}
    whole["ARM TSI, every 10th frame of 3 days"] = evaluate_whole(model, tsi, "hour", default)[""]
    parts = {"day": lambda s: not s.extra["night"], "night": lambda s: s.extra["night"]}
    for part, r in evaluate_whole(model, lenghu, "group", default, parts).items():
        whole[f"LenghuSky-8 2018-2021, {part}"] = r
    night_mono = None
    if getattr(args, "cloudynight", None):
        night_mono = evaluate_monochrome(model, load_cloudynight(args.cloudynight))
    crops = evaluate_all(model, load_all(args.swimseg, args.swinseg, args.hyta), default)
    crops["datasets"]["ARM TSI"] = {
        "repository": "github.com/PeterDrake/sky, test_raw_data/SkyImage and CloudMask",
        "commit": git_commit(args.tsi), "frames": len(list((args.tsi / "SkyImage").glob("*/*.jpg"))),
        "masks": len(list((args.tsi / "CloudMask").glob("*/*.png"))), "scored": len(tsi),
        "licence": "ARM data, free and open; data from the U.S. DOE Atmospheric Radiation Measurement (ARM) "
                   "user facility, SGP C1 TSI-880 (acknowledged as the source)",
        "use": "the confidence width (sigma) fitted on the 2017-05-24 frames; the default constants were chosen "
               "looking at these frames too (their figures are not blind)",
        "octas": f"instrument masks within 0.85 of the mirror's horizon radius ({TSI_MIRROR_RADIUS} px); "
                 "thin counted as cloud; sun, masked, overlay lines left out",
    }
    crops["datasets"]["LenghuSky-8"] = {
        "repository": "github.com/ruiyicheng/LenghuSky-8, baseline_and_benchmark/segbaseline/data",
        "commit": git_commit(args.lenghu), "files_2018_2021": len(list(args.lenghu.glob("20[12][0-9]-*.json"))),
        "scored": len(lenghu), "day": sum(not s.extra["night"] for s in lenghu),
        "night": sum(s.extra["night"] for s in lenghu),
        "licence": "no licence file: research evaluation only; no weights ship (there are none), but its figures "
                   "informed a few hand-set constants (star rule, calibration weight): not blind",
        "use": "validation only (2018-2021 frames); 2022 and later are reserved for independent evaluation "
               "and were never read",
        "octas": "polygons sky/cloud within 0.85 of the lens radius (centre and radius from the frames' black "
                 "surround); twilight frames (sun between -6 and 0 deg) left out",
    }
    crops["protocol_whole_frames"] = WHOLE_PROTOCOL
    out = {"whole_frame_sets": whole, "whole_frame_ece": summarise_whole(whole)}
    if night_mono is not None:
        out["monochrome_night_sets"] = {"cloudynight (Lowell, monochrome)": night_mono}
        crops["datasets"]["cloudynight"] = {
            "repository": "github.com/mommermi/cloudynight, example_data/images (20 FITS) and y_train.dat",
            "commit": git_commit(args.cloudynight), "frames":
            night_mono["n"], "licence": "BSD-3-Clause (notice kept)",
            "use": "validation of the monochrome rule only (its constant was set from the colour sets' chroma)",
            "octas": "share of the 33 sky subregions labelled cloud, times 8; frames shown to cielo as 8-bit "
                     "grey JPEGs with a 1..99.5 % square-root stretch",
        }
    return {**out, **crops}
