"""`cielo status`: the latest reading and lag per series, the live jobs' next runs, the outbox, the broker
and the database size. The daemon publishes the same summary, retained, on `<prefix>/<device>/state`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from cielo.config import Settings
from cielo.sources import registry
from cielo.store import Store
from cielo.timeutil import from_iso, human_duration, iso


def summary(settings: Settings, store: Store, now: datetime) -> dict[str, Any]:
    series = []
    for declared in registry.series(settings):  # each series once, whichever sources fill it
        if not declared.enabled:
            continue
        spec, r = declared.spec, store.latest(declared.spec.name)
        lag = None if r is None else round((now - from_iso(r.ts)).total_seconds())
        series.append({"series": spec.name, "source": r.source if r else declared.source,
                       "latest": r and r.ts, "value": r and r.value, "unit": r.unit if r else spec.unit,
                       "flag": r and r.flag, "lag_s": lag})
    jobs = []
    for name, cls in registry.REGISTRY.items():
        if cls.enabled(settings):
            nxt = CronTrigger(**cls.schedule(settings)).get_next_fire_time(None, now)
            jobs.append({"job": f"{name} live", "next_run": iso(nxt) if nxt else None})
    count, oldest = store.outbox_depth()
    state = store.state()
    broker = None
    if settings.mqtt.enabled:
        connected, since = state.get("mqtt", ("unknown", None))
        broker = {"host": settings.mqtt.host, "port": settings.mqtt.port, "state": connected, "since": since}
    breakers = {src: {"state": st, "failures": n, "last_error": err}
                for src, st, n, err in store.breakers()}
    last = store.last_event("backfill_finished")
    return {
        "ts": iso(now),
        "device": settings.device.id,
        "series": series,
        "jobs": jobs,
        "outbox": {"enabled": settings.mqtt.enabled, "depth": count,
                   "oldest_age_s": None if oldest is None else round((now - from_iso(oldest)).total_seconds())},
        "breakers": breakers,
        "broker": broker,
        "last_backfill": ({"ts": last[0], **last[1]} if last else None),
        "database": {"path": str(store.path), "bytes": store.size_bytes()},
    }


def render(s: dict[str, Any]) -> str:
    lines = [f"cielo {s['device']} at {s['ts']}"]
    for row in s["series"]:
        if row["latest"] is None:
            lines.append(f"  {row['series']:<28} no readings yet")
            continue
        value = row["flag"] or ("-" if row["value"] is None else f"{row['value']:g} {row['unit'] or ''}".strip())
        lines.append(f"  {row['series']:<28} {row['latest']}  {value:<14} lag {_age(row['lag_s'])}")
    for job in s["jobs"]:
        lines.append(f"  job {job['job']:<24} next {job['next_run']}")
    for src, b in s.get("breakers", {}).items():
        if b["state"] != "closed":
            lines.append(f"  breaker {src}: {b['state']} after {b['failures']} failures ({b['last_error']})")
    box = s["outbox"]
    if box["enabled"]:
        age = "" if box["oldest_age_s"] is None else f", oldest {_age(box['oldest_age_s'])}"
        b = s["broker"]
        lines.append(f"  mqtt {b['host']}:{b['port']} {b['state']} since {b['since']}; outbox {box['depth']}{age}")
    else:
        lines.append("  mqtt disabled")
    if s["last_backfill"]:
        lb = s["last_backfill"]
        lines.append(f"  last backfill {lb['ts']}: {lb.get('level')} ({lb.get('summary', '')})")
    lines.append(f"  database {s['database']['path']} {s['database']['bytes'] / 1e6:.1f} MB")
    return "\n".join(lines)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 0:
        return "in the future"
    return human_duration(seconds)
