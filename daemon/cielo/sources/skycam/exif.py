"""When a frame was taken, from its EXIF: DateTimeOriginal, with OffsetTimeOriginal when present.

One reader for every place a frame's own time counts (`classify`, a `latest_url` camera, calibration samples),
tolerant of how real writers store it: ASCII or bytes (EXIF type UNDEFINED), NUL-padded, a one-item tuple, and
in the Exif sub-IFD where the standard puts it or in IFD0, where Pillow's own `Image.Exif` (without
`get_ifd`) and some cameras' firmware write it. DateTime (306), the file's last change, is never taken for it.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone, tzinfo

DATETIME_ORIGINAL = 36867
OFFSET_TIME_ORIGINAL = 36881  # "+02:00"
EXIF_IFD = 0x8769
_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)$")


def taken(data: bytes, tz: tzinfo) -> datetime | None:
    """The frame's DateTimeOriginal as an aware datetime: at its OffsetTimeOriginal, else in `tz` (the camera's
    or the device's zone). None when the file has none, or one that is not a date."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            ifd0 = im.getexif()
        sub = ifd0.get_ifd(EXIF_IFD)
    except (OSError, ValueError, TypeError, SyntaxError, AttributeError):  # Pillow's EXIF parser raises all
        return None
    for ifd in (sub, ifd0):  # the offset is read from the IFD its date came from
        stamp = _text(ifd.get(DATETIME_ORIGINAL))
        if stamp:
            return _parse(stamp, _text(ifd.get(OFFSET_TIME_ORIGINAL)), tz)
    return None


def _parse(stamp: str, offset: str, tz: tzinfo) -> datetime | None:
    try:
        local = datetime.strptime(stamp[:19].replace("-", ":"), "%Y:%m:%d %H:%M:%S")
    except ValueError:  # "0000:00:00 00:00:00", blanks, a camera's own format
        return None
    m = _OFFSET.match(offset)
    if m is None:
        return local.replace(tzinfo=tz)
    delta = timedelta(hours=int(m[2]), minutes=int(m[3]))
    if delta >= timedelta(hours=24):
        return local.replace(tzinfo=tz)
    return local.replace(tzinfo=timezone(delta if m[1] == "+" else -delta))


def _text(value: object) -> str:
    """An EXIF ASCII field as text: some cameras store it as bytes (or as a one-item tuple), NUL-padded."""
    if isinstance(value, tuple | list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip().strip("\x00").strip() if isinstance(value, str) else ""
