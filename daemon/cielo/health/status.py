"""`cielo status`: the latest reading and lag per series, the live jobs' next runs, the outbox, the broker
and the database size. The daemon publishes the same summary, retained, on `<prefix>/<device>/state`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cielo.backfill import progress
from cielo.config import Settings
from cielo.health.sources import health as source_health
from cielo.health.sources import line as source_line
from cielo.service import lock
from cielo.service.cron import next_fire
from cielo.sources import registry
from cielo.store import Store, outbox
from cielo.timeutil import from_iso, human_duration, iso
from cielo.values import plain


def summary(settings: Settings, store: Store, now: datetime) -> dict[str, Any]:
    series = []
    for declared in registry.series(settings):  # each series once, whichever sources fill it
        if not declared.enabled:
            continue
        spec, r = declared.spec, store.latest(declared.spec.name)
        lag = None if r is None else round((now - from_iso(r.ts)).total_seconds())
        series.append({"series": spec.name, "source": r.source if r else declared.source,
                       "latest": r and r.ts, "value": plain(r.value) if r else None,
                       "unit": r.unit if r else spec.unit, "flag": r.flag if r else None, "lag_s": lag,
                       "live_latency_s": _live_latency(r and r.ts, r and r.ingested_at, spec.cadence)})
    pid = lock.holder(store.path)  # the kernel's word: a daemon holds the lock beside the database
    jobs = []
    for name, cls in registry.REGISTRY.items():
        if cls.enabled(settings):
            # A stopped daemon runs nothing: its jobs have no next run.
            nxt = next_fire(cls.schedule(settings), now) if pid is not None else None
            jobs.append({"job": f"{name} live", "next_run": iso(nxt) if nxt else None})
    count, oldest = outbox.depth(store)
    state = store.state()
    broker = None
    if settings.mqtt.enabled:
        connected, since = state.get("mqtt", ("unknown", None))
        broker = {"host": settings.mqtt.host, "port": settings.mqtt.port, "state": connected, "since": since}
    breakers = {src: {"state": st, "failures": n, "last_error": err}
                for src, st, n, err in store.breakers()}
    # What a source found wrong on its last run and said so in the database (a camera that has stopped).
    problems = {key.removesuffix(".problem"): text for key, (text, _at) in state.items()
                if key.endswith(".problem") and text}
    last = store.last_event("backfill_finished")
    sources = source_health(settings, store)
    return {
        "ts": iso(now),
        "device": settings.device.id,
        "daemon": {"running": pid is not None, "pid": pid or None},
        "series": series,
        "jobs": jobs,
        "outbox": {"enabled": settings.mqtt.enabled, "depth": count,
                   "oldest_age_s": None if oldest is None else round((now - from_iso(oldest)).total_seconds())},
        "breakers": breakers,
        "problems": problems,
        "broker": broker,
        "last_backfill": _last_backfill(store, last, now),
        "sources": sources,
        "progress": progress.current(store),
        "database": {"path": str(store.path), "bytes": store.size_bytes()},
    }


RECENT = timedelta(hours=24)
_RANK = {"success": 0, "partial": 1, "failed": 2}


def _last_backfill(store: Store, last: tuple[str, dict[str, Any]] | None, now: datetime) -> dict[str, Any] | None:
    """The newest finished backfill, and `worst_recent`: a worse one of the last 24 h, so that a small job's
    success does not hide that the catch-up before it failed (Home Assistant's sensor shows the worse)."""
    if last is None:
        return None
    out = {"ts": last[0], **last[1], "worst_recent": None}
    worst = None
    for ts, data in store.events_since("backfill_finished", iso(now - RECENT)):
        if _RANK.get(data.get("level"), 0) > _RANK.get((worst or {}).get("level") or out.get("level"), 0):
            worst = {"ts": ts, "job": data.get("job"), "level": data.get("level"), "summary": data.get("summary")}
    out["worst_recent"] = worst
    return out


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
    health = s.get("sources") or {}
    for row in s["series"]:
        source = row.get("source") or "-"
        if row["latest"] is None:
            h = health.get(source) or {}
            why = f"; {source} failing: {h.get('last_error') or 'see below'}" if h.get("problem") else ""
            lines.append(f"  {row['series']:<{width}} {source:<12} no readings yet{why}")
            continue
        value = "-" if row["value"] is None else f"{row['value']:g} {row['unit'] or ''}".strip()
        if row["flag"]:  # a flag with a value ("uncertain") qualifies it; without one it says why there is none
            value = row["flag"] if row["value"] is None else f"{value} ({row['flag']})"
        live = row.get("live_latency_s")
        stored = "" if live is None else f", stored {_age(live)} after its slot"
        lines.append(f"  {row['series']:<{width}} {source:<12} {row['latest']:<20}  {value:<14} "
                     f"lag {_age(row['lag_s'])}{stored}")
    for job in s["jobs"]:
        if job["next_run"]:
            lines.append(f"  job {job['job']:<24} next {job['next_run']}")
        else:
            lines.append(f"  job {job['job']:<24} not scheduled (daemon not running)")
    for name, h in health.items():
        lines.append(f"  source {source_line(name, h)}")
    for src, b in s.get("breakers", {}).items():
        if b["state"] != "closed":
            lines.append(f"  breaker {src}: {b['state']} after {b['failures']} failures ({b['last_error']})")
    for src, text in s.get("problems", {}).items():
        lines.append(f"  {src}: {text}")
    if p := s.get("progress"):
        lines.append(f"  {progress.describe(p)}")
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
        if w := lb.get("worst_recent"):
            lines.append(f"  but job {w['job']} at {w['ts']} (last 24 h): {w['level']} ({w.get('summary') or ''})")
    lines.append(f"  database {s['database']['path']} {s['database']['bytes'] / 1e6:.1f} MB")
    return "\n".join(lines)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 0:
        return "in the future"
    return human_duration(seconds)
