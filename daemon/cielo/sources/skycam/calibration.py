"""The site's camera, learned from its own unlabelled images (`cielo calibrate`).

Two things differ from camera to camera and can be read off many frames without labels:

- the valid area: the lens circle (pixels that are dark in nearly every frame are outside it) and fixed
  obstructions such as masts, walls or trees (pixels whose colour hardly changes from frame to frame while
  the sky above changes from blue to cloud);
- the sky/cloud threshold on the normalised blue/red ratio NRBR = (B - R) / (B + R): its value where the
  pooled distribution of all valid pixels of all frames separates into clear sky and cloud (Otsu on the
  pooled histogram). Cameras differ in white balance and in how their sky renders, so one threshold does not
  fit every camera.

The result is a small JSON file (the mask bit-packed, base64). The classifier feeds it to the model through
the model's overridable initializers `site_mask` and `sky_threshold` (models/build_octas.py); a dropped-in
model without them still gets the mask, as black (out-of-area) pixels.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cielo.errors import CieloError

if TYPE_CHECKING:
    from cielo.config import Settings
    from cielo.sources.skycam.model import Frame, OctaModel

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}

FORMAT = "cielo-calibration/1"
MIN_FRAMES = 5  # fewer frames say nothing reliable about the camera
LENS_REL = 0.25  # outside the lens: the frame's 90th-percentile brightness under this share of the sky's
STILL_NRBR_STD = 0.02  # an obstruction: NRBR varies less than this across frames ...
STILL_BRIGHT_STD = 0.04  # ... and brightness less than this (0..1)
MIN_FRAMES_FOR_OBSTRUCTIONS = 8
MAX_OBSTRUCTED = 0.3  # more than this share of the lens "still": the frames are too alike to tell; not masked
THRESHOLD_RANGE = (-0.2, 0.5)  # a pooled threshold outside this is not a sky/cloud valley
NRBR_LO, NRBR_HI, BINS = -0.3, 0.7, 100


class CalibrationError(CieloError):
    pass


@dataclass
class Calibration:
    height: int
    width: int
    mask: np.ndarray  # bool [H, W]: True where the sky is
    sky_threshold: float
    frames: int
    fitted_at: str
    source: str
    found: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def ident(self) -> str:
        """Short content hash: readings record which calibration produced them."""
        h = hashlib.sha256(np.packbits(self.mask).tobytes() + f"{self.sky_threshold:.4f}".encode())
        return h.hexdigest()[:10]

    def label(self) -> str:
        where = str(self.path) if self.path else "(unsaved)"
        return f"{where} ({self.ident}, {self.frames} frames, fitted {self.fitted_at[:10]})"

    def mask_at(self, height: int, width: int) -> np.ndarray:
        """The mask at another model's input size (nearest neighbour)."""
        if (height, width) == (self.height, self.width):
            return self.mask
        rows = (np.arange(height) * self.height // height).clip(0, self.height - 1)
        cols = (np.arange(width) * self.width // width).clip(0, self.width - 1)
        return self.mask[rows][:, cols]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "fitted_at": self.fitted_at,
            "source": self.source,
            "frames": self.frames,
            "height": self.height,
            "width": self.width,
            "sky_threshold": round(self.sky_threshold, 4),
            "found": self.found,
            "mask_packbits_b64": base64.b64encode(np.packbits(self.mask.ravel())).decode("ascii"),
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
        self.path = path

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT:
                raise ValueError(f"format {raw.get('format')!r}, expected {FORMAT!r}")
            h, w = int(raw["height"]), int(raw["width"])
            bits = np.frombuffer(base64.b64decode(raw["mask_packbits_b64"]), dtype=np.uint8)
            mask = np.unpackbits(bits)[: h * w].reshape(h, w).astype(bool)
            return cls(h, w, mask, float(raw["sky_threshold"]), int(raw["frames"]), str(raw["fitted_at"]),
                       str(raw.get("source", "")), dict(raw.get("found", {})), path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CalibrationError(f"{path}: not a usable calibration file: {exc}") from None


def otsu_threshold(values: np.ndarray) -> tuple[float, float]:
    """Otsu's threshold of `values` on a fixed histogram, and the separability (between / total variance)."""
    hist, edges = np.histogram(np.clip(values, NRBR_LO, NRBR_HI - 1e-6), bins=BINS, range=(NRBR_LO, NRBR_HI))
    centres = (edges[:-1] + edges[1:]) / 2
    w = hist.astype(np.float64)
    w0, m0 = np.cumsum(w), np.cumsum(w * centres)
    total, mtotal = w0[-1], m0[-1]
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.nan_to_num(w0 * w1 * (m0 / w0 - (mtotal - m0) / w1) ** 2) / max(total, 1.0) ** 2
    k = int(between.argmax())
    var = float(((centres - mtotal / max(total, 1.0)) ** 2 * w).sum() / max(total, 1.0))
    return float(edges[k + 1]), float(between[k] / var) if var > 0 else 0.0


def fit(frames: list[Frame], source: str, default_threshold: float) -> Calibration:
    """Fit the valid-area mask and the site's NRBR threshold from unlabelled frames (model input size)."""
    if len(frames) < MIN_FRAMES:
        raise CalibrationError(f"{len(frames)} usable daytime frames; calibration needs at least {MIN_FRAMES}")
    px = np.stack([f.pixels for f in frames]).astype(np.float32) / 255.0  # [n, 3, H, W]
    n, _, h, w = px.shape
    r, b = px[:, 0], px[:, 2]
    brightest = px.max(axis=1)  # [n, H, W]
    nrbr = (b - r) / (b + r + 1e-3)

    # The lens: bright in at least some frames, compared with the sky's typical brightness.
    p90 = np.percentile(brightest, 90, axis=0)
    sky_level = float(np.percentile(p90, 90))
    lens = p90 > LENS_REL * sky_level

    # Obstructions: inside the lens, pixels whose colour and brightness stay put while the sky changes.
    still = np.zeros_like(lens)
    obstruction_note = f"not looked for (fewer than {MIN_FRAMES_FOR_OBSTRUCTIONS} frames)"
    if n >= MIN_FRAMES_FOR_OBSTRUCTIONS:
        still = lens & (nrbr.std(axis=0) < STILL_NRBR_STD) & (brightest.std(axis=0) < STILL_BRIGHT_STD)
        share = float(still.sum() / max(lens.sum(), 1))
        if share > MAX_OBSTRUCTED:
            obstruction_note = f"{share:.0%} of the lens never changed: frames too alike, not masked"
            still[:] = False
        else:
            obstruction_note = f"{share:.1%} of the lens masked as fixed obstructions"
    mask = lens & ~still
    if mask.sum() < 0.05 * h * w:
        raise CalibrationError("no sky area found: the frames are dark or identical")

    # The site's threshold: where the pooled NRBR of all sky pixels of all frames splits in two.
    unsaturated = px.min(axis=1) < 0.97
    pooled = nrbr[(mask[None] & unsaturated)]
    threshold, separability = otsu_threshold(pooled)
    threshold_note = f"pooled Otsu {threshold:.3f} (separability {separability:.2f})"
    if not THRESHOLD_RANGE[0] <= threshold <= THRESHOLD_RANGE[1]:
        threshold_note += f": outside {THRESHOLD_RANGE}, kept the model's {default_threshold}"
        threshold = default_threshold
    found = {
        "lens_share": round(float(lens.mean()), 4),
        "sky_share": round(float(mask.mean()), 4),
        "obstructions": obstruction_note,
        "threshold": threshold_note,
        "pooled_clear_share": round(float((pooled >= threshold).mean()), 3),
    }
    return Calibration(h, w, mask, threshold, n, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), source, found)


def describe(cal: Calibration) -> list[str]:
    f = cal.found
    return [
        f"frames used: {cal.frames} ({cal.source})",
        f"lens area: {f.get('lens_share', 0):.1%} of the frame; sky area used: {f.get('sky_share', 0):.1%}",
        f"obstructions: {f.get('obstructions')}",
        f"sky/cloud threshold (NRBR): {cal.sky_threshold:.3f}, {f.get('threshold')}",
        f"pooled pixels on the clear side: {f.get('pooled_clear_share', 0):.0%}",
    ]


def _spread(items: list, most: int) -> list:
    """At most `most` items, evenly spread over the list (keeps the range's variety of weather)."""
    if len(items) <= most:
        return items
    return [items[int(i * len(items) / most)] for i in range(most)]


def _usable(frame: Frame) -> bool:
    from cielo.sources.skycam.model import DARK_MEAN

    return frame.brightness >= DARK_MEAN


def frames_from_folder(model: OctaModel, folder: Path, most: int) -> tuple[list[Frame], str]:
    """The usable frames of a folder of images (unreadable and too-dark files are skipped)."""
    from cielo.sources.skycam.model import ImageError

    if not folder.is_dir():
        raise CalibrationError(f"{folder}: not a folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    frames, skipped = [], 0
    for path in _spread(files, most):
        try:
            frame = model.decode(path.read_bytes())
        except (OSError, ImageError):
            skipped += 1
            continue
        if _usable(frame):
            frames.append(frame)
        else:
            skipped += 1
    return frames, f"{len(frames)} of {len(files)} images in {folder}, {skipped} skipped (unreadable or dark)"


def frames_from_camera(model: OctaModel, settings: Settings, start: datetime, end: datetime, most: int
                       ) -> tuple[list[Frame], str]:
    """Frames of [start, end) from the camera: the URLs of stored daytime readings when the database holds
    some, else every slot with the sun above -6°, downloaded again (images are not kept by default)."""
    from concurrent.futures import ThreadPoolExecutor

    from cielo.http import FetchError
    from cielo.sources.base import Window
    from cielo.sources.skycam import sun
    from cielo.sources.skycam.source import SkycamSource
    from cielo.timeutil import from_iso, iso, utcnow

    source = SkycamSource(settings)
    source.__dict__["model"] = model  # decode at this model's size; no second session
    slots: list[datetime] = []
    origin = "camera slots with the sun above -6°"
    db = settings.storage.database
    if db.is_file():
        from cielo.store import Store

        with Store(db) as store:
            rows = store.query("SELECT ts FROM octas WHERE ts >= ? AND ts < ? AND flag IS NULL ORDER BY ts",
                               (iso(start), iso(end)))
        slots = [from_iso(r[0]) for r in rows]
        origin = f"stored daytime readings in {db.name}"
    if not slots:
        lat, lon = settings.device.latitude, settings.device.longitude
        slots = [t for t in source.slots(start, end) if sun.elevation(t, lat, lon) >= sun.CIVIL_TWILIGHT_DEG]
        origin = "camera slots with the sun above -6°"
    now = utcnow()

    def get(slot: datetime) -> Frame | None:
        try:
            return source.fetch(Window(slot, slot, (slot,)), now).frame
        except FetchError:
            return None

    picked = _spread(slots, most)
    try:
        with ThreadPoolExecutor(max_workers=source.workers) as pool:
            got = list(pool.map(get, picked))
    finally:
        source.close()
    frames = [f for f in got if f is not None and _usable(f)]
    failed = sum(f is None for f in got)
    return frames, (f"{len(frames)} of {len(picked)} images from {origin}, {iso(start)}..{iso(end)}; "
                    f"{failed} could not be downloaded")


def load_site(path: Path) -> Calibration | None:
    """The site's calibration if `cielo calibrate` has written one at `path`, else None (model defaults)."""
    return Calibration.load(path) if path.is_file() else None
