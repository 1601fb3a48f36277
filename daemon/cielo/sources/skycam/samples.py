"""The frames `cielo calibrate` learns the site from: a folder of the camera's images, or the camera itself
(the slots the database holds judged readings for, else the daytime slots and some night ones, downloaded
again)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cielo.astro import sun
from cielo.config import Settings
from cielo.http import FetchError
from cielo.sources.base import Window
from cielo.sources.skycam import exif, orientation, regime
from cielo.sources.skycam.calibration import CalibrationError
from cielo.sources.skycam.frame import Frame
from cielo.sources.skycam.model import DARK_MEAN, ImageError, OctaModel
from cielo.sources.skycam.source import SkycamSource
from cielo.store import Store
from cielo.timeutil import iso, utcnow

NIGHT_SHARE = 4  # without stored readings, up to a quarter as many night slots as day ones are downloaded
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def _spread(items: list, most: int) -> list:
    """At most `most` items, evenly spread over the list (keeps the range's variety of weather)."""
    if len(items) <= most:
        return items
    return [items[int(i * len(items) / most)] for i in range(most)]


def _usable(frame: Frame) -> bool:
    """Bright enough for the day fit, or a dark night with stars (the night side learns the site's stars)."""
    return frame.brightness >= DARK_MEAN or frame.stars is not None


def frames_from_folder(model: OctaModel, folder: Path, most: int, times: list[datetime | None] | None = None,
                       zone: ZoneInfo | None = None) -> tuple[list[Frame], str]:
    """The usable frames of a folder of images (unreadable and too-dark files are skipped); `times` gets
    each one's time, from its EXIF DateTimeOriginal, else its file name, in `zone` (None where neither has
    one), for the orientation fit and the night side."""
    if not folder.is_dir():
        raise CalibrationError(f"{folder}: not a folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    frames, skipped = [], 0
    for path in _spread(files, most):
        try:
            data = path.read_bytes()
            frame = model.decode(data)
        except (OSError, ImageError):
            skipped += 1
            continue
        if _usable(frame):
            frames.append(frame)
            if times is not None:
                tz = zone or ZoneInfo("UTC")
                times.append(exif.taken(data, tz) or orientation.time_from_name(path.name, tz))
        else:
            skipped += 1
    return frames, f"{len(frames)} of {len(files)} images in {folder}, {skipped} skipped (unreadable or dark)"


def frames_from_camera(model: OctaModel, settings: Settings, start: datetime, end: datetime, most: int,
                       times: list[datetime | None] | None = None) -> tuple[list[Frame], str]:
    """Frames of [start, end) from the camera: the URLs of stored judged readings (day and night) when the
    database holds some, else every slot with the sun above -6° and up to a quarter as many with it below
    -12°, downloaded again (images are not kept by default); `times` gets each one's time (its slot where
    its locator does not know when it was taken)."""
    source = SkycamSource(settings)
    source.__dict__["model"] = model  # decode at this model's size; no second session
    slots: list[datetime] = []
    origin = "camera slots with the sun above -6°"
    db = settings.storage.database
    if db.is_file():
        with Store(db) as store:
            slots = store.judged_slots(source.primary.name, start, end)
        origin = f"stored judged readings in {db.name}"
    if slots:
        picked = _spread(slots, most)
    else:
        # The day fit wants daylit frames; the night side (calibration.learn_nights) wants nights, so a
        # share of the budget goes to slots with the sun below nautical twilight, where the range has some.
        lat, lon = settings.device.latitude, settings.device.longitude
        height = {t: sun.elevation(t, lat, lon) for t in source.slots(start, end)}
        day = [t for t, h in height.items() if h >= sun.CIVIL_TWILIGHT_DEG]
        night = [t for t, h in height.items() if h < regime.NIGHT_SUN]
        picked = sorted(_spread(day, most) + _spread(night, most // NIGHT_SHARE))
        origin = "camera slots with the sun above -6°" + (
            f" and {min(len(night), most // NIGHT_SHARE)} with it below {regime.NIGHT_SUN:g}° for the night side"
            if night and most // NIGHT_SHARE else "")
    now = utcnow()

    def get(slot: datetime) -> tuple[Frame, datetime] | None:
        try:
            img = source.fetch(Window(slot, slot, (slot,)), now)
        except FetchError:
            return None
        return (img.frame, img.taken or slot) if img.frame is not None else None

    try:
        with ThreadPoolExecutor(max_workers=source.workers) as pool:
            got = list(pool.map(get, picked))
    finally:
        source.close()
    kept = [g for g in got if g is not None and _usable(g[0])]
    frames = [f for f, _ in kept]
    if times is not None:  # the frame's own time where its locator knows it, as the camera judges it
        times.extend(t for _, t in kept)
    failed = sum(f is None for f in got)
    return frames, (f"{len(frames)} of {len(picked)} images from {origin}, {iso(start)}..{iso(end)}; "
                    f"{failed} could not be downloaded")
