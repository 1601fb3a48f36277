"""`cielo doctor`: one ✔/✘ line per check, each failure with what to do about it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime

from cielo.config import Settings
from cielo.errors import CieloError, DatabaseDamaged, damaged
from cielo.outputs.mqtt.hints import connect_problem
from cielo.service import clock
from cielo.sources import registry
from cielo.sources.registry import REGISTRY
from cielo.store import Store

MIN_FREE_MB = 100


def checks(settings: Settings, now: datetime) -> Iterator[tuple[bool, str]]:
    yield True, f"config: {settings.path or 'none found, built-in defaults'}"
    db = settings.storage.database
    store = None
    try:
        store = Store(db)
        verdict = store.quick_check()
        size = store.size_bytes() / 1e6  # file and write-ahead log, as `cielo status` counts it
        yield (verdict == "ok",
               f"database: {db} ({size:.1f} MB, schema {store.schema_version})" if verdict == "ok"
               else f"database: {damaged(db, verdict)}")
        if verdict != "ok":
            store.close()
            store = None
    except DatabaseDamaged as exc:
        store = None
        yield False, f"database: {exc}"
    except CieloError as exc:
        yield False, f"database: {exc}: check [storage].database and that its folder is writable"
    if store is not None:
        problem = clock.problem(store, now)
        yield (problem is None,
               f"clock: {problem}: check NTP (timedatectl)" if problem else f"clock: {now:%Y-%m-%d %H:%M:%S}Z")
        ahead, latest = store.future_writes(now)
        if ahead:
            yield False, (f"readings: {ahead} stamped later than now (written up to {latest}, by a clock that was "
                          "wrong): if the clock is right now, `cielo prune-future` moves them aside")
        if settings.mqtt.enabled and store.state().get("mqtt", ("",))[0] == "failed":
            event = store.last_event("mqtt_publisher_failed")
            cause = event[1].get("error", "") if event else ""
            yield False, (f"publisher: the daemon's MQTT publisher stopped ({cause}) and is being restarted: "
                          "see the log (journalctl -u cielo)")
        store.close()
    free_mb = shutil.disk_usage(db.parent if str(db.parent) else ".").free / 1e6 if db.parent.exists() else 0
    yield (free_mb >= MIN_FREE_MB,
           f"disk: {free_mb:.0f} MB free for {db.parent}" + ("" if free_mb >= MIN_FREE_MB else
                                                             f": under {MIN_FREE_MB} MB, free some space"))
    yield from registry.doctor_lines(settings)
    for name, cls in REGISTRY.items():
        if not cls.enabled(settings):
            yield True, f"{name}: disabled"
            continue
        yield _source(name, cls, settings, now)
    yield _broker(settings)


def _source(name: str, cls, settings: Settings, now: datetime) -> tuple[bool, str]:
    source = cls(settings)
    # Ask even while the breaker is open (as its trial request): a camera fixed a minute ago is ✔ now, not in
    # five minutes; a success closes the breaker for the daemon too, a failure keeps it open.
    for guard in (getattr(source, "guard", None), getattr(source.client, "guard", None)):
        if guard is not None and hasattr(guard, "open_s"):
            guard.open_s = 0.0
    try:
        start, end = source.live_range(now)
        windows = source.windows(source.slots(start, end))
        if not windows:
            return True, f"{name}: nothing to fetch now"
        source.fetch(windows[0], now)
        return True, f"{name}: answered for {windows[0].start:%Y-%m-%d %H:%M}Z"
    except CieloError as exc:
        reason = source.scrub(str(exc)).removeprefix(f"{name}: ")  # a breaker's message names its source already
        key = getattr(source.cfg, "way", "base_url")  # the camera may read a folder or a latest-frame URL
        table = ".".join(cls.where())
        hint = f"check [{table}].folder" if key == "folder" else fetch_hint(exc, table, key)
        return False, f"{name}: {reason}: {hint}"
    except Exception as exc:  # a broken answer must be a ✘ line, not a traceback
        return False, f"{name}: unexpected {type(exc).__name__}: {source.scrub(str(exc))[:200]}"
    finally:
        source.close()


def fetch_hint(exc: Exception, table: str, key: str = "base_url") -> str:
    """What to do about a failed request, by what failed: an answer that refused the request is a config
    matter (URL, key, station), not the network's; no answer at all is the network's or the address's."""
    status = getattr(exc, "status", None)
    if status in (401, 403):
        return f"the server refused the credentials (HTTP {status}): check the key in [{table}] or its environment"
    if status in (404, 410):
        return f"the server has no such resource (HTTP {status}): check [{table}].{key} (its path)"
    if status is not None and 400 <= status < 500 and status not in (408, 429):
        return (f"the server refused the request (HTTP {status}): check [{table}] (base_url, its path and "
                "parameters); the network is fine")
    if status is not None and status >= 500:
        return f"the server has trouble (HTTP {status}): it is on their side; try again later"
    if status in (408, 429):
        return f"the server is busy (HTTP {status}): try again later, or lower [{table}].requests_per_minute"
    return f"check [{table}].{key} and the network"


def _broker(settings: Settings) -> tuple[bool, str]:
    cfg = settings.mqtt
    if not cfg.enabled:
        return True, "broker: MQTT disabled"
    from cielo.outputs.mqtt.client import make_client

    result: dict[str, str] = {}
    client = make_client(cfg, f"cielo-doctor-{settings.device.id}")
    client.on_connect = lambda _c, _u, _f, reason, _p: result.setdefault("reason", str(reason))
    try:
        client.connect(cfg.host, cfg.port, keepalive=10)
        for _ in range(50):
            client.loop(timeout=0.1)
            if "reason" in result:
                break
        client.disconnect()
    except (OSError, ValueError) as exc:
        return False, f"broker: {connect_problem(exc, cfg.host, cfg.port)}"
    reason = result.get("reason", "no answer")
    if reason != "Success":
        return False, f"broker: {cfg.host}:{cfg.port} refused: {reason}: check [mqtt].username and CIELO_MQTT_PASSWORD"
    return True, f"broker: {cfg.host}:{cfg.port} accepted the login"
