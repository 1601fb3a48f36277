"""Each source's health as `cielo status`, the `state` topic and Home Assistant's problem sensors show it:
its live runs (the last success, the last error and how many runs in a row failed) and its circuit
breaker. A source that keeps failing is never only "no readings yet".

Live runs record their outcome in `daemon_state` (key `live:<source>`), whichever process ran them (the
daemon's child, `cielo ingest`); the breaker is the request guard's own table (cielo.guard)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cielo.config import Settings
from cielo.sources import registry
from cielo.store import Store
from cielo.timeutil import iso

PREFIX = "live:"


def record_live(store: Store, source: str, failed: bool, error: str | None, now: datetime) -> None:
    """One live run's outcome: a success resets the count of failed runs, a failure adds one."""
    held = _read(store).get(source, {})
    if failed:
        held = {**held, "failures": int(held.get("failures", 0)) + 1, "last_error": (error or "failed")[:300],
                "last_error_at": iso(now)}
    else:
        held = {**held, "failures": 0, "last_success": iso(now)}
    store.set_state(PREFIX + source, json.dumps(held, sort_keys=True))


def _read(store: Store) -> dict[str, dict[str, Any]]:
    out = {}
    for key, (value, _at) in store.state().items():
        if key.startswith(PREFIX):
            try:
                out[key.removeprefix(PREFIX)] = json.loads(value)
            except ValueError:
                continue
    return out


def health(settings: Settings, store: Store) -> dict[str, dict[str, Any]]:
    """Per enabled source: `problem` (its last live run failed, or its breaker is not closed), the live runs'
    `consecutive_failures`, `last_error`, `last_error_at`, `last_success`, and its `breaker` with the breaker's
    own count of failed requests and last error."""
    live = _read(store)
    breakers = {src: (st, n, err) for src, st, n, err in store.breakers()}
    out: dict[str, dict[str, Any]] = {}
    for name, cls in registry.REGISTRY.items():
        if not cls.enabled(settings):
            continue
        run = live.get(name, {})
        state, failures, err = breakers.get(cls.config_name or name, ("closed", 0, None))
        runs_failed = int(run.get("failures", 0))
        out[name] = {
            "problem": runs_failed > 0 or state != "closed",
            "consecutive_failures": runs_failed,
            "last_error": run.get("last_error") or (err if state != "closed" or failures else None),
            "last_error_at": run.get("last_error_at"),
            "last_success": run.get("last_success"),
            "breaker": {"state": state, "failures": failures, "last_error": err},
        }
    return out


def line(name: str, h: dict[str, Any]) -> str:
    """`skycam: failing, 7 live runs in a row (last at ...): <error>; breaker open after 5 failed requests`."""
    b = h["breaker"]
    breaker = f"breaker {b['state']}"
    if b["failures"]:
        breaker += (f" after {b['failures']} failed requests" if b["state"] != "closed"
                    else f" ({b['failures']} failed requests in a row)")
    if not h["problem"]:
        since = f"last success {h['last_success']}" if h["last_success"] else "no live run recorded yet"
        return f"{name}: ok, {since}; {breaker}"
    runs = h["consecutive_failures"]
    failing = f"failing, {runs} live run{'s' if runs != 1 else ''} in a row" if runs else "failing"
    at = f" (last at {h['last_error_at']})" if h["last_error_at"] else ""
    return f"{name}: {failing}{at}: {h['last_error'] or 'no error recorded'}; {breaker}"
