"""A small, hardened HTTP/1.1 front for the Alpaca server: requests read by hand with deadlines and caps.

Each connection is one request (`Connection: close`): the head must arrive within HEAD_TIMEOUT_S and be at
most MAX_HEAD bytes, the body within BODY_TIMEOUT_S and at most MAX_BODY bytes (Alpaca PUT bodies are a few
form fields). One reader thread gathers the bytes of every connection at once (a selector), so slow clients
hold no worker: only whole requests reach the few pool threads that answer them. A slow, huge or malformed
request gets a plain-text 4xx and the connection closes; nothing a client sends reaches the log as a
traceback. Past MAX_OPEN connections, new ones get a 503 at once, so a flood cannot grow memory or stall
the daemon.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
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
MAX_OPEN = 64

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


def parse(buf: bytes) -> Request | None:
    """The request in `buf`, None while it is incomplete; RequestError when it is bad."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > MAX_HEAD:
            raise RequestError(431, f"the request head is over {MAX_HEAD} bytes")
        return None
    if end > MAX_HEAD:
        raise RequestError(431, f"the request head is over {MAX_HEAD} bytes")
    lines = buf[:end].decode("latin-1").split("\r\n")
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
    if not length_text.isdigit() or not length_text.isascii():
        raise RequestError(400, "bad Content-Length")
    length = int(length_text)
    if length > MAX_BODY:
        raise RequestError(413, f"the request body is over {MAX_BODY} bytes")
    body = buf[end + 4:]
    if len(body) < length:
        return None
    return Request(method, target, headers, body[:length])


def _send(sock: socket.socket, response: Response) -> None:
    try:
        sock.settimeout(WRITE_TIMEOUT_S)
        sock.sendall(response.encode())
    except OSError:
        pass  # the client left, or reads too slowly: its loss


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@dataclass
class _Conn:
    buf: bytes = b""
    deadline: float = 0.0
    head_done: bool = False


class PooledServer(socketserver.TCPServer):
    """Accepts on serve_forever's thread, reads every connection on one reader thread, answers on a pool."""

    allow_reuse_address = True
    request_queue_size = 32

    def __init__(self, address: tuple[str, int], app: Callable[[Request], Response]):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="alpaca")
        self.selector = selectors.DefaultSelector()
        self.open = threading.BoundedSemaphore(MAX_OPEN)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._incoming: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        super().__init__(address, None, bind_and_activate=True)  # type: ignore[arg-type]
        self.reader = threading.Thread(target=self._read_loop, name="alpaca-read", daemon=True)
        self.reader.start()

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6 and self.server_address[0] == "::":
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # IPv4 clients too
        super().server_bind()

    def process_request(self, request, client_address) -> None:  # type: ignore[override]
        if not self.open.acquire(blocking=False):
            request.setblocking(False)
            with contextlib.suppress(OSError):
                request.send(Response.text(503, "busy: too many connections, try again").encode())
            _close(request)
            return
        request.setblocking(False)
        with self._lock:
            self._incoming.append(request)
        self._wake_w.send(b"\0")

    def shutdown_request(self, request) -> None:  # type: ignore[override]
        pass  # the reader and the pool own the connection now

    def _read_loop(self) -> None:
        conns: dict[socket.socket, _Conn] = {}
        while not self._stopping.is_set():
            with self._lock:
                incoming, self._incoming = self._incoming, []
            now = time.monotonic()
            for sock in incoming:
                try:
                    self.selector.register(sock, selectors.EVENT_READ, None)
                except (ValueError, OSError):  # closed or reset since it was accepted
                    _close(sock)
                    self.open.release()
                    continue
                conns[sock] = _Conn(deadline=now + HEAD_TIMEOUT_S)
            wait = min((c.deadline for c in conns.values()), default=now + 1.0) - now
            for key, _ in self.selector.select(timeout=max(0.0, min(wait, 1.0))):
                sock = key.fileobj
                if sock is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                try:
                    self._take(conns, sock)  # type: ignore[arg-type]
                except Exception as exc:  # a bug must not end the reader (the server would go deaf)
                    log.error("alpaca: reading a request failed: %s: %s", type(exc).__name__, exc)
                    if sock in conns:
                        self._drop(conns, sock, Response.text(500, "internal error"))  # type: ignore[arg-type]
            now = time.monotonic()
            for sock, conn in list(conns.items()):
                if now >= conn.deadline:
                    what = "body" if conn.head_done else "head"
                    self._drop(conns, sock, Response.text(408, f"the request {what} took too long"))
        for sock in list(conns):
            self._drop(conns, sock, None)

    def _take(self, conns: dict[socket.socket, _Conn], sock: socket.socket) -> None:
        """Read what the connection has; hand a whole request to the pool, answer a bad one."""
        conn = conns[sock]
        try:
            chunk = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # gone before a whole request: nothing to answer
            self._drop(conns, sock, None)
            return
        conn.buf += chunk
        try:
            request = parse(conn.buf)
        except RequestError as exc:
            self._drop(conns, sock, exc.response)
            return
        if request is not None:
            self.selector.unregister(sock)
            del conns[sock]
            self._answer(sock, request)
        elif not conn.head_done and b"\r\n\r\n" in conn.buf:
            conn.head_done, conn.deadline = True, time.monotonic() + BODY_TIMEOUT_S

    def _drop(self, conns: dict[socket.socket, _Conn], sock: socket.socket, response: Response | None) -> None:
        self.selector.unregister(sock)
        del conns[sock]
        if response is not None:
            with contextlib.suppress(OSError):  # non-blocking: best effort, it is short
                sock.send(response.encode())
        _close(sock)
        self.open.release()

    def _answer(self, sock: socket.socket, request: Request) -> None:
        try:
            self.pool.submit(self._serve, sock, request)
        except RuntimeError:  # the pool is shutting down
            _close(sock)
            self.open.release()

    def _serve(self, sock: socket.socket, request: Request) -> None:
        try:
            try:
                response = self.app(request)
            except Exception as exc:  # a bug: one line in the log, a plain 500 to the client
                log.error("alpaca: %s %s failed: %s: %s", request.method, request.target[:200],
                          type(exc).__name__, exc)
                response = Response.text(500, "internal error")
            sock.setblocking(True)
            _send(sock, response)
        finally:
            _close(sock)
            self.open.release()

    def close(self, serving: bool = True) -> None:
        if serving:  # shutdown() waits for serve_forever, which must be running
            self.shutdown()
        self.server_close()
        self._stopping.set()
        self._wake_w.send(b"\0")
        self.reader.join(timeout=5)
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._wake_r.close()
        self._wake_w.close()
