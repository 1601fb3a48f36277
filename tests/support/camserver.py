"""A loopback all-sky camera: serves real JPEGs (made with Pillow) under the seed camera's URL layouts.

Any well-formed image name answers with a 640x480 fisheye-style sky JPEG chosen by the name (clear, broken or
overcast; noise texture so the files are camera-sized), unless a behaviour is set for that name:
  "404", "503" (always), "503-once" (then the image), "429-once" (Retry-After: 1, then the image),
  "html" (an HTML error page with status 200), "truncated" (half a JPEG), "huge" (a body over any cap),
  "slow" (answers after `slow_s`), "dark" (a black night frame), "dim" (a night frame with some light: too
  dark to judge clouds, not black).
Layout: names of years before `current_year` exist only under /<YYYY>/, the others only at the root.

Run standalone (the benchmark does): python -m tests.support.camserver [--latency-ms N] prints `PORT <n>`.
"""

from __future__ import annotations

import argparse
import base64
import functools
import io
import random
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image, ImageDraw, ImageFilter

NAME = re.compile(r"^/image/(?:(?P<dir>\d{4})/)?(?P<name>(?P<year>\d{4})-\d{8}\.jpg)$")
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Camera offline</h1></body></html>"


# Kept: each frame takes ~30 ms of CPU to draw, every CameraServer draws eight, and the same seeded arguments
# always give the same bytes (hundreds of tests each start a camera).
@functools.lru_cache(maxsize=128)
def sky_jpeg(cover: float, seed: int, size: tuple[int, int] = (640, 480), dark: bool = False, dim: bool = False,
             mast: bool = False) -> bytes:
    """A fisheye-like frame: black surround, blue sky disc, `cover` of it under white/grey cloud blobs.

    `dim` scales it to a fifth (a night frame), `dark` to a twentieth; `mast` adds a grey pole and a wall
    at the lens edge that every frame shows the same (what `cielo calibrate` must mask)."""
    w, h = size
    rng = random.Random(seed)
    sky = Image.new("RGB", size, (0, 0, 0))
    draw = ImageDraw.Draw(sky)
    r = min(w, h) // 2 - 4
    cx, cy = w // 2, h // 2
    for i in range(r, 0, -4):  # zenith deeper blue than the horizon
        t = i / r
        draw.ellipse((cx - i, cy - i, cx + i, cy + i), fill=(int(70 + 60 * t), int(120 + 60 * t), int(215 + 25 * t)))
    clouds = Image.new("L", size, 0)
    cd = ImageDraw.Draw(clouds)
    target = cover * 3.14159 * r * r
    area = 0.0
    if cover >= 1.0:
        cd.rectangle((0, 0, w, h), fill=255)
        area = target
    while area < target * 0.9:
        br = rng.randint(r // 8, r // 3)
        x, y = rng.randint(cx - r, cx + r), rng.randint(cy - r, cy + r)
        cd.ellipse((x - br, y - br, x + br, y + br), fill=255)
        area += 3.14159 * br * br * 0.55
    clouds = clouds.filter(ImageFilter.GaussianBlur(6))
    grey = rng.randint(200, 240)
    sky.paste(Image.new("RGB", size, (grey, grey, grey + 5)), (0, 0), clouds)
    lens = Image.new("L", size, 0)
    ImageDraw.Draw(lens).ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    if mast:
        md = ImageDraw.Draw(sky)
        md.rectangle((cx + r // 3, cy - r // 4, cx + r // 3 + r // 10, cy + r), fill=(150, 150, 150))
        md.rectangle((cx - r, cy + r // 2, cx + r, cy + r), fill=(120, 115, 110))
    frame = Image.composite(sky, Image.new("RGB", size), lens)
    # Seeded (the same bytes in every process), about as strong as a sensor's: ±32 levels around grey.
    noise = Image.frombytes("L", size, rng.randbytes(w * h)).point(lambda v: 96 + v // 4).convert("RGB")
    frame = Image.blend(frame, noise, 0.05)
    if dark:
        frame = frame.point(lambda v: v // 20)
    elif dim:
        frame = frame.point(lambda v: v // 5)
    buf = io.BytesIO()
    frame.save(buf, "JPEG", quality=88)
    return buf.getvalue()


class CameraServer:
    def __init__(self, *, latency_s: float = 0.0, slow_s: float = 3.0, current_year: int | None = None,
                 variants: int = 6, mast: bool = False):
        self.latency_s = latency_s
        self.slow_s = slow_s
        self.current_year = current_year or datetime.now(UTC).year
        self.behaviours: dict[str, str] = {}
        self.behaviour: str | None = None  # for every image without its own entry in `behaviours`
        self.login: tuple[str, str] | None = None  # HTTP basic auth the camera asks for (401 without it)
        self.authorizations: Counter[str | None] = Counter()  # the Authorization headers received
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        covers = [0.0, 0.1, 0.35, 0.6, 0.85, 1.0]
        self.images = [sky_jpeg(covers[i % len(covers)], seed=i, mast=mast) for i in range(variants)]
        self.dark_image = sky_jpeg(0.3, seed=99, dark=True)
        self.dim_image = sky_jpeg(0.3, seed=98, dim=True)
        self.sky: bytes | None = None  # set_sky(): one sky for every name
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/image"
        self._thread: threading.Thread | None = None

    def image_for(self, name: str) -> bytes:
        if self.sky is not None:
            return self.sky
        return self.images[sum(name.encode()) % len(self.images)]

    def set_sky(self, cover: float | None) -> None:
        """Every frame from now on shows this cloud cover (0 clear .. 1 overcast); None: by name again."""
        self.sky = None if cover is None else sky_jpeg(cover, seed=7)

    def start(self) -> CameraServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> CameraServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "image/jpeg", headers: dict | None = None,
                      length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _stream(self, size: int) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                block = b"\xff\xd8\xff" + b"\0" * (65536 - 3)
                self.close_connection = True
                try:
                    for _ in range(size // len(block)):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:  # the client stopped reading at its cap and hung up
                    self.wfile = io.BytesIO()  # the server's own final flush goes nowhere, quietly

            def do_GET(self) -> None:
                m = NAME.match(self.path)
                name = m["name"] if m else self.path
                with server._lock:
                    server.requests[name] += 1
                    seen = server.requests[name]
                    server.authorizations[self.headers.get("Authorization")] += 1
                if server.login is not None:
                    token = base64.b64encode(":".join(server.login).encode()).decode()
                    if self.headers.get("Authorization") != f"Basic {token}":
                        return self._send(401, b"unauthorized", "text/plain",
                                          {"WWW-Authenticate": 'Basic realm="camera"'})
                if server.latency_s:
                    time.sleep(server.latency_s)
                if not m:
                    return self._send(404, b"not found", "text/plain")
                in_past = int(m["year"]) < server.current_year
                if bool(m["dir"]) != in_past or (m["dir"] and m["dir"] != m["year"]):
                    return self._send(404, b"not found", "text/plain")
                kind = server.behaviours.get(name, server.behaviour)
                if kind == "404":
                    return self._send(404, b"<html><body>404 Not Found</body></html>", "text/html")
                if kind == "503" or (kind == "503-once" and seen == 1):
                    return self._send(503, b"busy", "text/plain")
                if kind == "429-once" and seen == 1:
                    return self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
                if kind == "html":
                    return self._send(200, HTML_PAGE, "text/html; charset=utf-8")
                if kind == "slow":
                    time.sleep(server.slow_s)
                if kind == "truncated":
                    body = server.image_for(name)
                    return self._send(200, body[: len(body) // 2])
                if kind == "huge":
                    self._send(200, b"\xff\xd8\xff" + b"\0" * 1024, length=50_000_000)
                    self.close_connection = True
                    return None
                if kind == "chunked":  # an MJPEG stream or a proxy: 50 MB, chunked, no Content-Length
                    return self._stream(50_000_000)
                if kind == "dark":
                    return self._send(200, server.dark_image)
                if kind == "dim":
                    return self._send(200, server.dim_image)
                return self._send(200, server.image_for(name))

        return Handler


def main() -> None:
    ap = argparse.ArgumentParser(description="loopback all-sky camera")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    args = ap.parse_args()
    srv = CameraServer(latency_s=args.latency_ms / 1000)
    print(f"PORT {srv.port}", flush=True)
    srv.httpd.serve_forever()


if __name__ == "__main__":
    main()
