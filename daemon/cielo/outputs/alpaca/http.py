"""A small, hardened HTTP/1.1 front for the Alpaca server: requests read by hand with deadlines and caps.

Each connection is one request (`Connection: close`): the head must arrive within HEAD_TIMEOUT_S and be at
most MAX_HEAD bytes, the body within BODY_TIMEOUT_S and at most MAX_BODY bytes (Alpaca PUT bodies are a few
form fields). A slow, huge or malformed request gets a plain-text 4xx and the connection closes; nothing a
client sends reaches the log as a traceback. Connections are served by a few pool threads; past MAX_PENDING
waiting connections, new ones get a 503 at once, so a flood cannot grow memory or stall the daemon.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

log = logging.getLogger("cielo")

MAX_HEAD = 8192
MAX_HEADERS = 64
MAX_BODY = 16384
HEAD_TIMEOUT_S = 5.0
BODY_TIMEOUT_S = 5.0
WRITE_TIMEOUT_S = 5.0
WORKERS = 4
MAX_PENDING = 64

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
           411: "Length Required", 413: "Content Too Large", 431: "Request Header Fields Too Large",
           500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
           505: "HTTP Version Not Supported"}


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, status: int, text: str) -> Response:
        return cls(status, (text.rstrip("\n") + "\n").encode())

    def encode(self) -> bytes:
        head = [f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Error')}",
                f"Content-Type: {self.content_type}", f"Content-Length: {len(self.body)}", "Connection: close",
                *(f"{k}: {v}" for k, v in self.headers.items())]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + self.body


class RequestError(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.response = Response.text(status, text)


class Closed(Exception):
    """The client went away before sending a whole request: nothing to answer."""


def _recv(sock: socket.socket, deadline: float, what: str) -> bytes:
    left = deadline - time.monotonic()
    if left <= 0:
        raise RequestError(408, f"the request {what} took too long")
    sock.settimeout(left)
    try:
        chunk = sock.recv(4096)
    except TimeoutError:
        raise RequestError(408, f"the request {what} took too long") from None
    except OSError:
        raise Closed from None
    if not chunk:
        raise Closed
    return chunk


def read_request(sock: socket.socket) -> Request:
    buf = b""
    deadline = time.monotonic() + HEAD_TIMEOUT_S
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head, rest = buf[:end], buf[end + 4:]
            break
        if len(buf) > MAX_HEAD:
            raise RequestError(431, f"the request head is over {MAX_HEAD} bytes")
        buf += _recv(sock, deadline, "head")
    if len(head) > MAX_HEAD:
        raise RequestError(431, f"the request head is over {MAX_HEAD} bytes")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
        raise RequestError(400, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise RequestError(505, f"unsupported protocol {version[:20]!r}")
    if len(lines) - 1 > MAX_HEADERS:
        raise RequestError(431, f"more than {MAX_HEADERS} header lines")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise RequestError(400, "malformed header line")
        headers[name.lower()] = value.strip()
    if "transfer-encoding" in headers:
        raise RequestError(501, "chunked or encoded request bodies are not accepted: send Content-Length")
    length_text = headers.get("content-length", "0")
    if not length_text.isdigit():
        raise RequestError(400, "bad Content-Length")
    length = int(length_text)
    if length > MAX_BODY:
        raise RequestError(413, f"the request body is over {MAX_BODY} bytes")
    body = rest
    deadline = time.monotonic() + BODY_TIMEOUT_S
    while len(body) < length:
        body += _recv(sock, deadline, "body")
    return Request(method, target, headers, body[:length])


def _send(sock: socket.socket, response: Response) -> None:
    try:
        sock.settimeout(WRITE_TIMEOUT_S)
        sock.sendall(response.encode())
    except OSError:
        pass  # the client left, or reads too slowly: its loss


class PooledServer(socketserver.TCPServer):
    """A TCP server whose connections are served by a small bounded pool."""

    allow_reuse_address = True
    request_queue_size = 32

    def __init__(self, address: tuple[str, int], app: Callable[[Request], Response]):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="alpaca")
        self.room = threading.BoundedSemaphore(MAX_PENDING)
        super().__init__(address, None, bind_and_activate=True)  # type: ignore[arg-type]

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6 and self.server_address[0] == "::":
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # IPv4 clients too
        super().server_bind()

    def process_request(self, request, client_address) -> None:  # type: ignore[override]
        if not self.room.acquire(blocking=False):
            request.setblocking(False)
            _send(request, Response.text(503, "busy: too many connections, try again"))
            self.shutdown_request(request)
            return
        try:
            self.pool.submit(self._serve, request)
        except RuntimeError:  # the pool is shutting down
            self.room.release()
            self.shutdown_request(request)

    def _serve(self, sock: socket.socket) -> None:
        try:
            try:
                request = read_request(sock)
            except RequestError as exc:
                _send(sock, exc.response)
                return
            except Closed:
                return
            try:
                response = self.app(request)
            except Exception as exc:  # a bug: one line in the log, a plain 500 to the client
                log.error("alpaca: %s %s failed: %s: %s", request.method, request.target[:200],
                          type(exc).__name__, exc)
                response = Response.text(500, "internal error")
            _send(sock, response)
        finally:
            self.shutdown_request(sock)
            self.room.release()

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)
