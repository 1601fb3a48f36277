"""The HTTP layer every source shares: one pooled urllib3 session, polite retries, bounded answers.

urllib3 directly rather than requests: a third of the CPU per request and half the memory, which is what
lets a backfill on a 2-core board run at hundreds of images a second. Connection errors, 408, 429 and 5xx
are retried with exponential backoff and jitter; Retry-After is honoured but capped, so a server cannot park
a worker for an hour. Answers are streamed and cut at a size cap. URLs in errors lose their query string
and credentials, since that is where API keys travel.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from cielo import __version__
from cielo.errors import CieloError

if TYPE_CHECKING:
    import urllib3
    from urllib3.util.retry import Retry

    Session = urllib3.PoolManager


class Guard(Protocol):
    """What a request asks of cielo.guard first and tells it after: the circuit breaker and the budget."""

    def check(self) -> None: ...  # raises a FetchError while the circuit is open

    def acquire(self) -> float: ...  # waits for a token of the request budget; returns the wait

    def success(self) -> None: ...

    def failure(self, error: str) -> bool: ...


RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
USER_AGENT = f"cielo/{__version__}"


class FetchError(CieloError):
    """A request that failed after its retries; `transient` says whether asking later may help."""

    def __init__(self, message: str, status: int | None = None, transient: bool = True, kind: str | None = None):
        super().__init__(message)
        self.status = status
        self.transient = transient
        self.kind = kind  # the cause a run's failure breakdown names, when the raiser knows it best


class NotFound(FetchError):
    """The server says the resource does not exist (404/410)."""

    def __init__(self, message: str, status: int = 404):
        super().__init__(message, status, transient=False)


def _load() -> None:
    """Import urllib3 on first use (a pool is made before any request): commands that never fetch, such as
    `cielo status` and `cielo gaps`, start without it (~18 ms and ~3 MB). Binds the names the functions
    below use, `except` clauses included."""
    global urllib3, Retry, CappedRetry, HTTPError, LocationParseError, MaxRetryError, NewConnectionError
    global ProtocolError, ReadTimeoutError, ResponseError, Urllib3Timeout
    if "CappedRetry" in globals():
        return
    import urllib3
    from urllib3.exceptions import (
        HTTPError,
        LocationParseError,
        MaxRetryError,
        NewConnectionError,
        ProtocolError,
        ReadTimeoutError,
        ResponseError,
    )
    from urllib3.exceptions import TimeoutError as Urllib3Timeout
    from urllib3.util.retry import Retry

    class CappedRetry(Retry):
        """Retry whose Retry-After wait never exceeds `max_retry_after` seconds."""

        max_retry_after: float = 60.0

        def get_retry_after(self, response):  # type: ignore[override]
            value = super().get_retry_after(response)
            return None if value is None else min(value, self.max_retry_after)

        def new(self, **kw):  # type: ignore[override]
            new = super().new(**kw)
            new.max_retry_after = self.max_retry_after
            return new


@dataclass(frozen=True)
class HttpPolicy:
    timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 60.0
    max_bytes: int = 8_000_000
    pool_size: int = 4
    deadline_s: float | None = None  # the most one request may take, headers to last byte; default 3 x timeout_s

    @property
    def total_s(self) -> float:
        """`timeout_s` bounds each wait for a byte; this bounds the whole answer, so a server dripping a byte a
        second cannot hold a worker for as long as it likes."""
        return self.deadline_s if self.deadline_s is not None else 3 * self.timeout_s

    def retry(self) -> Retry:
        _load()
        retry = CappedRetry(
            total=self.retries,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            other=0,
            redirect=5,
            backoff_factor=self.backoff_s,
            backoff_max=self.backoff_max_s,
            backoff_jitter=self.backoff_s / 2,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        retry.max_retry_after = self.max_retry_after_s
        return retry


def make_session(policy: HttpPolicy, headers: dict[str, str] | None = None) -> Session:
    """One pool per source, kept for its life: connections are reused across slots and chunks. `headers` go
    with every request (a camera's basic auth); urllib3 drops Authorization on a redirect to another host."""
    _load()
    return urllib3.PoolManager(
        num_pools=4,
        maxsize=policy.pool_size,
        retries=policy.retry(),
        timeout=urllib3.Timeout(connect=policy.timeout_s, read=policy.timeout_s),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
    )


def basic_auth(username: str, password: str) -> dict[str, str]:
    """The Authorization header of HTTP basic auth (RFC 7617), UTF-8."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def split_credentials(url: str) -> tuple[str, dict[str, str]]:
    """`http://user:pass@cam/x` -> (`http://cam/x`, its basic-auth header). urllib3 never sends a URL's
    userinfo, and a URL with it must not be stored or published: requests go out with the header instead."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, {}
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), basic_auth(unquote(user), unquote(password))


def without_credentials(url: str) -> str:
    return split_credentials(url)[0]


def scrub(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    """`text` with every secret (an API key), raw or URL-encoded, replaced by `***`: a server that echoes the
    request in its error body must not carry the key into logs, events, MQTT or the breaker's last_error."""
    from urllib.parse import quote, quote_plus

    for secret in secrets:
        if len(secret) < 4:  # too short to tell from ordinary text; a real key is never this short
            continue
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, "***")
    return text


def scrubbed(exc: BaseException, secrets: tuple[str, ...] | list[str]) -> BaseException:
    """The same exception with its one-line message scrubbed of the secrets (in place)."""
    if secrets and exc.args and isinstance(exc.args[0], str):
        clean = scrub(exc.args[0], secrets)
        if clean != exc.args[0]:
            exc.args = (clean, *exc.args[1:])
    return exc


def redact(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query="…" if parts.query else "", netloc=parts.netloc.rpartition("@")[2]))


def get_bytes(session: Session, url: str, policy: HttpPolicy, guard: Guard | None = None,
              headers: dict[str, str] | None = None) -> tuple[bytes, str]:
    """GET `url` and return (body, content type); raises NotFound or FetchError with a one-line message.
    With a guard (the camera's circuit breaker), an open breaker refuses the request, and the outcome counts.
    `headers`, when given, receives the answer's headers (a latest-frame URL's Last-Modified)."""
    if guard is None:
        return _get_bytes(session, url, policy, headers)
    guard.check()
    try:
        out = _get_bytes(session, url, policy, headers)
    except FetchError as exc:
        if exc.transient and (exc.status is None or exc.status in RETRY_STATUSES):
            guard.failure(str(exc))
        else:
            guard.success()  # the server answered
        raise
    guard.success()
    return out


def _body(resp, deadline: float, where: str, policy: HttpPolicy):
    """The answer's bytes as they arrive (each read returns what one receive got), until `deadline`."""
    read = getattr(resp, "read1", None) or resp.read
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"{where}: answer took longer than {policy.total_s:g} s (a server sending slowly); "
                             "gave up", None)
        chunk = read(65536)
        if not chunk:
            return
        yield chunk


def _get_bytes(session: Session, url: str, policy: HttpPolicy,
               headers: dict[str, str] | None = None) -> tuple[bytes, str]:
    where = redact(url)
    complete = False
    deadline = time.monotonic() + policy.total_s
    url, auth = split_credentials(url)
    try:
        # Headers given to a request replace the pool's own (User-Agent, a configured login): keep them.
        resp = session.request("GET", url, preload_content=False,
                               **({"headers": {**session.headers, **auth}} if auth else {}))
    except MaxRetryError as exc:
        tries = f" (after {policy.retries} retries)" if policy.retries else ""
        raise FetchError(f"{where}: {_describe(exc.reason, policy)}{tries}") from None
    except (HTTPError, LocationParseError) as exc:
        raise FetchError(f"{where}: {_describe(exc, policy)}") from None
    try:
        status = resp.status
        if status in (404, 410):
            raise NotFound(f"{where}: HTTP {status} (does not exist)", status)
        if status >= 400:
            raise FetchError(f"{where}: HTTP {status} {resp.reason or ''}".rstrip(), status)
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > policy.max_bytes:
            raise FetchError(f"{where}: answer of {declared} bytes is over the {policy.max_bytes}-byte cap",
                             status, transient=False)
        body = _capped(resp, deadline, where, policy)
        if body is None:
            raise _over_cap(where, policy, status)
        complete = True
        if headers is not None:
            headers.update(resp.headers.items())
        return body, resp.headers.get("Content-Type", "")
    except (HTTPError, OSError) as exc:  # the body broke off: timeout, reset, fewer bytes than declared
        raise FetchError(f"{where}: {_describe(exc, policy)}") from None
    finally:
        _release(resp, complete)


def _capped(resp, deadline: float, where: str, policy: HttpPolicy) -> bytes | None:
    """The whole answer, or None once it passes `max_bytes` (the caller closes the connection). What was read
    is dropped here, before any error is raised: an exception's traceback keeps its frames' locals alive until
    a garbage collection, and a backfill against an MJPEG stream or a proxy (chunked, no Content-Length to
    refuse early) kept one 8 MB buffer per slot that way: 1 GB for a day of slots."""
    chunks: list[bytes] = []
    size = 0
    for chunk in _body(resp, deadline, where, policy):
        size += len(chunk)
        if size > policy.max_bytes:
            chunks.clear()
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _over_cap(where: str, policy: HttpPolicy, status: int) -> FetchError:
    return FetchError(f"{where}: answer is over the {policy.max_bytes}-byte cap", status, transient=False)


def _release(resp, complete: bool) -> None:
    """Back to the pool; a connection whose body was not read to the end (over the cap, broken off) is
    closed first, or the next request on it would read the rest of this answer."""
    if not complete:
        resp.close()
    resp.release_conn()


def _describe(exc: BaseException | None, policy: HttpPolicy) -> str:
    if isinstance(exc, NewConnectionError):  # first: urllib3 2 makes it a subclass of ConnectTimeoutError
        return "cannot connect (connection refused or host unreachable)"
    if isinstance(exc, (ReadTimeoutError, Urllib3Timeout, TimeoutError)):
        return f"timed out after {policy.timeout_s:g} s"
    if isinstance(exc, ResponseError):
        return f"server kept failing: {str(exc).removeprefix('too many ')}"
    if isinstance(exc, ProtocolError):
        return f"connection broke ({_inner(exc)})"
    if isinstance(exc, LocationParseError):
        return "not a valid URL"
    return _inner(exc) if exc is not None else "unknown error"


def _inner(exc: BaseException) -> str:
    while exc.args and isinstance(exc.args[-1], BaseException):
        exc = exc.args[-1]
    return type(exc).__name__ if not str(exc) else str(exc).split(": ", 1)[-1][:120]


# --- the client the weather and price sources use: budget, breaker, its own retry loop ---------------------

class PayloadError(FetchError):
    """The server answered, but not with what the API documents (HTML, broken JSON, another schema)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message, status, transient=False)


class LazyPool:
    """A urllib3 pool made on the first request (a command that never fetches never imports urllib3), with
    room for as many connections as the threads that use it: urllib3 would otherwise discard the extra ones,
    saying "Connection pool is full", and connect anew for each request."""

    def __init__(self, policy: HttpPolicy, make: Callable[[HttpPolicy], Session]):
        self.policy, self._make = policy, make
        self._session: Session | None = None
        self._lock = threading.Lock()

    @property
    def session(self) -> Session:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._make(self.policy)
        return self._session

    def size_pool(self, workers: int) -> None:
        with self._lock:
            if workers > self.policy.pool_size:
                self.policy = replace(self.policy, pool_size=workers)
                if self._session is not None:
                    self._session.clear()
                    self._session = None

    def close(self) -> None:
        if self._session is not None:
            self._session.clear()


def _api_session(p: HttpPolicy) -> urllib3.PoolManager:
    """The API sources' pool: no urllib3 retries (Client's own loop retries, paying the budget each time)."""
    _load()
    return urllib3.PoolManager(
        num_pools=4, maxsize=p.pool_size,
        retries=Retry(total=None, connect=0, read=0, status=0, other=0, redirect=5, raise_on_status=False),
        timeout=urllib3.Timeout(connect=p.timeout_s, read=p.timeout_s),
        headers={"User-Agent": USER_AGENT},
    )


class Client:
    """GETs for one source: each attempt first passes the circuit breaker and takes a token from the
    shared budget (so retries are paid for too), then one request without urllib3's own retries; the
    retry loop here honours Retry-After and backs off with jitter. One failed call (after its retries)
    counts one failure for the breaker; an answer, even a 404 or 401, proves the server is up."""

    def __init__(self, policy: HttpPolicy, guard: Guard | None = None,
                 sleep: Callable[[float], None] = time.sleep, reason: ErrorReader | None = None,
                 secrets: tuple[str, ...] = ()):
        self.guard, self.sleep = guard, sleep
        self.secrets = secrets  # scrubbed from every message this client raises
        self.reason = reason  # the source's reader of its API's JSON error body
        self.pool = LazyPool(policy, _api_session)
        self.requests = 0  # made by this client (the benchmark prints it)

    @property
    def policy(self) -> HttpPolicy:
        return self.pool.policy

    @property
    def session(self) -> urllib3.PoolManager:
        return self.pool.session

    def size_pool(self, workers: int) -> None:
        self.pool.size_pool(workers)

    def close(self) -> None:
        self.pool.close()
        if self.guard is not None:
            self.guard.close()

    def get(self, url: str, headers: dict[str, str] | None = None,
            inspect: Callable[[bytes, int, str], None] | None = None) -> tuple[bytes, int, str]:
        """(body, status, content type) of a 2xx answer; raises NotFound / FetchError, one line each.
        `inspect(body, status, ctype)` may raise a FetchError for an error inside a 200 answer (AEMET's
        `estado` 429): it is retried, backed off and counted like the same HTTP status."""
        p = self.policy
        for attempt in range(p.retries + 1):
            if self.guard is not None:
                self.guard.check()
                self.guard.acquire()
            try:
                self.requests += 1
                out = self._once(url, headers)
                if inspect is not None:
                    inspect(*out)
            except FetchError as exc:
                scrubbed(exc, self.secrets)
                retry = exc.transient and (exc.status is None or exc.status in RETRY_STATUSES)
                if not retry or attempt == p.retries:
                    if retry and p.retries:
                        exc.args = (f"{exc} (after {p.retries} retries)",)
                    if self.guard is not None and retry:
                        self.guard.failure(str(exc))
                    elif self.guard is not None:
                        self.guard.success()
                    raise
                wait = getattr(exc, "retry_after", None)
                if wait is None:
                    wait = min(p.backoff_s * 2**attempt, p.backoff_max_s) + random.uniform(0, p.backoff_s / 2)
                self.sleep(min(wait, p.max_retry_after_s))
                continue
            if self.guard is not None:
                self.guard.success()
            return out
        raise AssertionError("unreachable")

    def get_json(self, url: str, headers: dict[str, str] | None = None, encoding: str = "utf-8",
                 check: Callable[[Any], None] | None = None) -> Any:
        """Decoded JSON; `check(data)` may raise a FetchError for an error the API reports inside a 200 answer,
        which is then retried like that status."""
        where = redact(url)
        decoded: list[Any] = []

        def inspect(body: bytes, status: int, ctype: str) -> None:
            decoded[:] = [decode_json(body, where, ctype, encoding, status)]
            if check is not None:
                check(decoded[0])

        self.get(url, headers, inspect)
        return decoded[0]

    def _once(self, url: str, headers: dict[str, str] | None) -> tuple[bytes, int, str]:
        p, where = self.policy, redact(url)
        complete = False
        deadline = time.monotonic() + p.total_s
        try:
            resp = self.session.request("GET", url, headers=headers, preload_content=False)
        except MaxRetryError as exc:
            raise FetchError(f"{where}: {_describe(exc.reason, p)}") from None
        except (HTTPError, LocationParseError) as exc:
            raise FetchError(f"{where}: {_describe(exc, p)}") from None
        try:
            status, ctype = resp.status, resp.headers.get("Content-Type", "")
            body = _capped(resp, deadline, where, p)  # error bodies too: they carry the API's reason
            if body is None:
                raise _over_cap(where, p, status)
            complete = True
            if status in (404, 410):
                raise NotFound(f"{where}: HTTP {status} (does not exist){api_reason(body, self.reason)}", status)
            if status >= 400:
                reason = api_reason(body, self.reason)  # the API's own words beat the generic reason phrase
                text = _STATUS_TEXT.get(status, "" if reason else resp.reason or "")
                err = FetchError(f"{where}: HTTP {status} {text}".rstrip() + reason, status,
                                 transient=status in RETRY_STATUSES)
                err.retry_after = _retry_after(resp.headers.get("Retry-After"))  # type: ignore[attr-defined]
                raise err
            return body, status, ctype
        except (HTTPError, OSError) as exc:
            raise FetchError(f"{where}: {_describe(exc, p)}") from None
        finally:
            _release(resp, complete)


_STATUS_TEXT = {401: "unauthorized (API key missing or rejected)", 403: "forbidden (API key rejected)",
                429: "too many requests (rate limited)"}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


ErrorReader = Callable[[Any], "str | None"]


def api_reason(body: bytes, reader: ErrorReader | None) -> str:
    """The reason an API gave in its JSON error body, as `: text` (each source knows its API's shape);
    empty when there is none."""
    if reader is None:
        return ""
    try:
        data = json.loads(body[:20000])
    except (ValueError, UnicodeDecodeError):
        return ""
    text = reader(data)
    return f": {one_line(text)}" if text else ""


def one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def decode_json(body: bytes, where: str, ctype: str = "", encoding: str = "utf-8", status: int | None = None) -> Any:
    """JSON or a PayloadError saying what came instead (an HTML page, a cut-off document)."""
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        text = body.decode("latin-1")
    stripped = text.lstrip()[:100].lower()
    if stripped.startswith(("<!doctype", "<html", "<?xml", "<")):
        kind = ctype.split(";")[0].strip() or "markup"
        raise PayloadError(f"{where}: not JSON but an HTML/XML page ({kind}, {len(body)} bytes)", status)
    if not stripped:
        raise PayloadError(f"{where}: empty answer", status)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        cut = " (answer cut off?)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise PayloadError(f"{where}: invalid JSON at char {exc.pos} of {len(body)}: {exc.msg}{cut}", status) from None
