"""The frame's own time from EXIF, as cameras and tools really write it (Pillow writes each file here)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image

from cielo.sources.skycam import exif

MADRID = ZoneInfo("Europe/Madrid")


def _jpeg(tags: dict[int, object], sub_ifd: bool = True) -> bytes:
    e = Image.Exif()
    target = e.get_ifd(exif.EXIF_IFD) if sub_ifd else e
    for tag, value in tags.items():
        target[tag] = value
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, "JPEG", exif=e)
    return buf.getvalue()


def test_offset_time_original_sets_the_zone():
    got = exif.taken(_jpeg({36867: "2024:06:01 02:02:00", 36881: "+02:00"}), MADRID)
    assert got == datetime(2024, 6, 1, 0, 2, tzinfo=UTC)
    assert got.utcoffset() == timedelta(hours=2)


def test_without_an_offset_the_given_zone_applies():
    got = exif.taken(_jpeg({36867: "2024:01:15 12:00:00"}), MADRID)
    assert got == datetime(2024, 1, 15, 11, 0, tzinfo=UTC)  # CET in January
    assert exif.taken(_jpeg({36867: "2024:07:15 12:00:00"}), MADRID) == datetime(2024, 7, 15, 10, 0, tzinfo=UTC)


def test_ifd0_bytes_and_negative_offsets_are_read():
    assert exif.taken(_jpeg({36867: "2024:06:01 02:02:00", 36881: "-03:30"}, sub_ifd=False), MADRID) == \
        datetime(2024, 6, 1, 5, 32, tzinfo=UTC)
    padded = _jpeg({36867: b"2024:06:01 02:02:00\x00", 36881: b"+00:00\x00"})
    assert exif.taken(padded, MADRID) == datetime(2024, 6, 1, 2, 2, tzinfo=UTC)


def test_no_date_or_no_real_date_is_none():
    assert exif.taken(_jpeg({}), MADRID) is None
    assert exif.taken(_jpeg({306: "2024:06:01 02:02:00"}, sub_ifd=False), MADRID) is None  # DateTime: last change
    assert exif.taken(_jpeg({36867: "0000:00:00 00:00:00"}), MADRID) is None
    assert exif.taken(_jpeg({36867: "    :  :     :  :  "}), MADRID) is None
    assert exif.taken(b"<html>502 Bad Gateway</html>", MADRID) is None
    # an offset that is not one leaves the camera's zone in charge
    assert exif.taken(_jpeg({36867: "2024:01:15 12:00:00", 36881: "+99:00"}), MADRID) == \
        datetime(2024, 1, 15, 11, 0, tzinfo=UTC)
