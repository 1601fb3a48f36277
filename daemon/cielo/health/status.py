"""`cielo status`: the latest reading and lag per series, the live jobs' next runs, the outbox, the broker
and the database size. The daemon publishes the same summary, retained, on `<prefix>/<device>/state`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cielo.config import Settings
from cielo.service import lock
from cielo.service.cron import next_fire
from cielo.sources import registry
from cielo.store import Store
from cielo.timeutil import from_iso, human_duration, iso


def summary(settings: Settings, store: Store, now: datetime) -> dict[str, Any]:
    series = []
    for declared in registry.series(settings):  # each series once, whichever sources fill it
        if not declared.enabled or declared.spec.derived:  # a derived series is as fresh as its primary
            continue
        spec, r = declared.spec, store.latest(declared.spec.name)
        lag = None if r is None else round((now - from_iso(r.ts)).total_seconds())
        series.append({"series": spec.name, "source": r.source if r else declared.source,
                       "latest": r and r.ts, "value": r and r.value, "unit": r.unit if r else spec.unit,
                       "flag": r and r.flag, "lag_s": lag,
                       "live_latency_s": _live_latency(r and r.ts, r and r.ingested_at, spec.cadence)})
    pid = lock.holder(store.path)  # the kernel's word: a daemon holds the lock beside the database
    jobs = []
    for name, cls in registry.REGISTRY.items():
        if cls.enabled(settings):
            # A stopped daemon runs nothing: its jobs have no next run.
            nxt = next_fire(cls.schedule(settings), now) if pid is not None else None
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
        "daemon": {"running": pid is not None, "pid": pid or None},
        "series": series,
        "jobs": jobs,
        "outbox": {"enabled": settings.mqtt.enabled, "depth": count,
                   "oldest_age_s": None if oldest is None else round((now - from_iso(oldest)).total_seconds())},
        "breakers": breakers,
        "broker": broker,
        "last_backfill": ({"ts": last[0], **last[1]} if last else None),
        "database": {"path": str(store.path), "bytes": store.size_bytes()},
    }


def _live_latency(ts: str | None, stored: str | None, cadence: timedelta) -> int | None:
    """Seconds from the newest reading's slot to its storing, when a live run stored it (soon after its slot:
    within three cadences, at least 30 min, the rule for the live MQTT topic): how late captures arrive,
    which the daemon's one-child-at-a-time rule must not make worse. None for a backfilled newest reading."""
    if ts is None or stored is None:
        return None
    late = from_iso(stored) - from_iso(ts)
    return round(late.total_seconds()) if late <= max(cadence * 3, timedelta(minutes=30)) else None


def render(s: dict[str, Any]) -> str:
    lines = [f"cielo {s['device']} at {s['ts']}"]
    daemon = s.get("daemon") or {}
    if daemon.get("running"):
        lines.append("  daemon running" + (f" (pid {daemon['pid']})" if daemon.get("pid") else ""))
    else:
        lines.append("  daemon not running: nothing is captured or published until `cielo run` (the service) starts")
    width = max([28, *(len(row["series"]) + 1 for row in s["series"])])
    lines.append(f"  {'series':<{width}} {'source':<12} {'latest':<20}  {'value':<14} lag")
    for row in s["series"]:
        source = row.get("source") or "-"
        if row["latest"] is None:
            lines.append(f"  {row['series']:<{width}} {source:<12} no readings yet")
            continue
        value = row["flag"] or ("-" if row["value"] is None else f"{row['value']:g} {row['unit'] or ''}".strip())
        live = row.get("live_latency_s")
        stored = "" if live is None else f", stored {_age(live)} after its slot"
        lines.append(f"  {row['series']:<{width}} {source:<12} {row['latest']:<20}  {value:<14} "
                     f"lag {_age(row['lag_s'])}{stored}")
    for job in s["jobs"]:
        if job["next_run"]:
            lines.append(f"  job {job['job']:<24} next {job['next_run']}")
        else:
            lines.append(f"  job {job['job']:<24} not scheduled (daemon not running)")
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
