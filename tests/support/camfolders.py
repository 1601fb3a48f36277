"""Camera folders as AllskyTeam/allsky and indi-allsky write them (tests/sources/skycam/fixtures/README.md says
where each layout was read), real JPEGs with EXIF, and a loopback web server over such a folder like the ones
those programs set up (lighttpd's /images/ and /current/, Apache's /indi-allsky/images/), answering with
Last-Modified from the file's mtime as they do.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image

from tests.support.camserver import sky_jpeg

OLD = 3600.0  # seconds: frames are written this long before a test reads them (settled, not being written)


def frames(count: int = 6, size: tuple[int, int] = (320, 240)) -> list[bytes]:
    covers = [0.0, 0.1, 0.35, 0.6, 0.85, 1.0]
    return [sky_jpeg(covers[i % len(covers)], seed=i, size=size) for i in range(count)]


def with_exif(jpeg: bytes, taken: datetime, offset: bool = True) -> bytes:
    """The frame with EXIF DateTimeOriginal (local wall time) and, when `offset`, OffsetTimeOriginal."""
    im = Image.open(io.BytesIO(jpeg))
    exif = Image.Exif()
    ifd = exif.get_ifd(0x8769)
    ifd[36867] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if offset:
        off = taken.utcoffset() or timedelta(0)
        sign = "-" if off < timedelta(0) else "+"
        minutes = abs(int(off.total_seconds())) // 60
        ifd[36881] = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85, exif=exif)
    return buf.getvalue()


def write(path: Path, body: bytes, age_s: float = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    t = path.stat().st_mtime - age_s
    os.utime(path, (t, t))
    return path


def allsky_path(root: Path, local: datetime, stem: str = "image") -> Path:
    """~/allsky/images/<date>/image-YYYYMMDDHHMMSS.jpg; a night frame (before noon) goes under the date
    twelve hours earlier, the date the night began (scripts/saveImage.sh: `date -d '12 hours ago'`)."""
    night = local.hour < 6 or local.hour >= 21
    day = (local - timedelta(hours=12)) if night else local
    return root / f"{day:%Y%m%d}" / f"{stem}-{local:%Y%m%d%H%M%S}.jpg"


def indi_path(root: Path, local: datetime, uuid: str = "1c2d3e4f-0000-4000-8000-000000000001", ccd: int = 1) -> Path:
    """<IMAGE_FOLDER>/ccd_<uuid>/exposures/<day date>/<night|day>/<DD_HH>/ccd<N>_YYYYMMDD_HHMMSS.jpg
    (indi_allsky/image.py _getImageFolder); the night's day date is the date it began."""
    night = local.hour < 6 or local.hour >= 21
    day = (local - timedelta(days=1)) if night and local.hour < 12 else local
    return (root / f"ccd_{uuid}" / "exposures" / f"{day:%Y%m%d}" / ("night" if night else "day")
            / f"{local:%d_%H}" / f"ccd{ccd}_{local:%Y%m%d_%H%M%S}.jpg")


def fill(root: Path, times: Iterable[datetime], where, bodies: list[bytes]) -> list[Path]:
    return [write(where(root, t), bodies[i % len(bodies)]) for i, t in enumerate(times)]


def listing_hash(root: Path) -> str:
    """Every entry under `root` with its kind, size, mode, mtime and content: any change shows."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in sorted(os.walk(root)):
        dirnames.sort()
        for name in sorted(filenames + dirnames):
            p = Path(dirpath) / name
            st = p.lstat()
            h.update(f"{p.relative_to(root)} {st.st_mode} {st.st_size} {st.st_mtime_ns}\n".encode())
            if p.is_file() and not p.is_symlink():
                h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


class FolderServer:
    """Serves a folder over loopback HTTP (Last-Modified from mtimes, 404 for what is not there)."""

    def __init__(self, root: Path):
        handler = partial(_Quiet, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FolderServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass
