"""`cielo`: a thin command line over the library; every failure is one line and an exit code.

Exit codes: 0 done; 1 a run that failed (e.g. a backfill that restored under 20 % of what it asked for, an
image that could not be read); 2 bad usage or config; 3 a damaged database (errors.EXIT_DAMAGED); 130
interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from importlib import import_module
from pathlib import Path
from typing import NoReturn

from cielo import __version__, logs
from cielo.config import Settings
from cielo.errors import CieloError, UsageError, damaged, is_damage
from cielo.sources import registry
from cielo.timeutil import human_duration, iso, parse_cli_time, utcnow

log = logging.getLogger("cielo")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cielo", description="Sky-camera cloud cover, weather and prices into SQLite and MQTT.")
    p.add_argument("--config", metavar="PATH", help="config file (default: $CIELO_CONFIG, "
                   "/etc/cielo/config.toml, ./config.toml, else built-in defaults)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument("--version", action="version", version=f"cielo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("run", help="the daemon: capture on schedule until SIGTERM")

    st = sub.add_parser("status", help="latest reading and lag per series, jobs, outbox, broker, database")
    st.add_argument("--json", action="store_true", help="the summary as one JSON object")

    i = sub.add_parser("ingest", help="run the live jobs once, now, and say what each stored")
    i.add_argument("--source", action="append", metavar="S", help="source to run (repeatable; default: all enabled)")

    b = sub.add_parser("backfill", help="replay a past range of a source into the database")
    b.add_argument("--from", "--desde", dest="start", required=True, metavar="T",
                   help="first instant: YYYY-MM-DD or YYYY-MM-DDTHH:MM (device time zone unless Z/offset)")
    b.add_argument("--to", "--hasta", dest="end", required=True, metavar="T",
                   help="last instant, included (same formats)")
    b.add_argument("--source", action="append", metavar="S",
                   help="source to replay (repeatable; default: every enabled source that can serve the range)")
    b.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    b.add_argument("--detach", action="store_true", help="queue the job for the daemon and return")
    b.add_argument("--workers", type=int, metavar="N", help="concurrent requests (default: the source's workers)")
    b.add_argument("--processes", type=int, metavar="N",
                   help="judge camera images in N worker processes, 0: in this one (default [backfill].processes)")

    sub.add_parser("sources", help="each source: enabled, key present, series, history window, request budget")

    g = sub.add_parser("gaps", help="missing ranges per series, with severity and the time to fill them")
    g.add_argument("--source", action="append", metavar="S", help="only this source (repeatable)")
    g.add_argument("--series", action="append", metavar="X", help="only this series (repeatable)")
    g.add_argument("--days", type=int, default=None, metavar="N", help="window (default [backfill].lookback_days)")
    g.add_argument("--json", action="store_true", help="one JSON object")

    cv = sub.add_parser("coverage", help="monthly share of slots stored per series (a heatmap with --png)")
    cv.add_argument("--source", action="append", metavar="S", help="only this source (repeatable)")
    cv.add_argument("--year", type=int, metavar="Y", help="default: this year")
    cv.add_argument("--png", metavar="FILE", help="also draw a heatmap")
    cv.add_argument("--json", action="store_true", help="one JSON object")

    j = sub.add_parser("jobs", help="persistent backfill jobs and their tasks")
    jsub = j.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    jl = jsub.add_parser("list", help="the jobs, newest first")
    js = jsub.add_parser("show", help="one job and its tasks")
    js.add_argument("id", type=_id)
    jr = jsub.add_parser("retry", help="failed or cancelled tasks back to pending")
    jr.add_argument("id", type=_id)
    jr.add_argument("tasks", type=_id, nargs="*", metavar="TASK")
    jc = jsub.add_parser("cancel", help="pending tasks become cancelled; running ones finish their chunk")
    jc.add_argument("id", type=_id)
    jn = jsub.add_parser("run", help="run a job's pending tasks now, in this process")
    jn.add_argument("id", type=_id)
    jk = jsub.add_parser("reset-stuck", help="tasks left in_progress by a dead process back to pending")
    jk.add_argument("--older-than", metavar="AGE", help="also those without a heartbeat for AGE (e.g. 5m, 2h)")
    j.add_argument("--json", action="store_true", help="JSON instead of text")
    for action in (jl, js):  # `jobs list --json` as well as `jobs --json list`
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="JSON instead of text")

    sub.add_parser("doctor", help="check config, clock, database, model, sources, broker and disk")

    pf = sub.add_parser("prune-future", help="move readings stamped later than now (a clock that was wrong) "
                                             "aside into the table readings_future")
    pf.add_argument("--dry-run", action="store_true", help="only say how many")

    e = sub.add_parser("export", help="readings of one series out, as CSV or JSON lines")
    e.add_argument("--series", required=True, metavar="X", help="a series, as `cielo sources` lists them")
    e.add_argument("--from", "--desde", dest="start", required=True, metavar="T")
    e.add_argument("--to", "--hasta", dest="end", required=True, metavar="T", help="included, to the minute")
    e.add_argument("--format", choices=["csv", "jsonl"], default="csv")

    for module in registry.command_modules():  # commands a source brings (the camera's classify, calibrate)
        COMMANDS.update(import_module(module).register(sub))
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"{exc}", file=sys.stderr)
        return exc.exit_code
    logs.setup(args.verbose)
    try:
        settings = registry.load_settings(args.config)
        args._settings = settings
        return COMMANDS[args.command](args, settings)
    except CieloError as exc:
        print(f"cielo: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("cielo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # the last net: one line, never a traceback (-v logs it)
        return _unexpected(exc, args)


def _unexpected(exc: Exception, args: argparse.Namespace) -> int:
    import sqlite3

    if isinstance(exc, sqlite3.DatabaseError):
        db = getattr(getattr(args, "_settings", None), "storage", None)
        where = db.database if db is not None else "the database"
        if is_damage(exc):
            err = damaged(where, str(exc))
            print(f"cielo: error: {err}", file=sys.stderr)
            return err.exit_code
        print(f"cielo: error: {where}: {exc}", file=sys.stderr)
        return 1
    log.debug("unexpected error", exc_info=exc)
    print(f"cielo: error: unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
          "(run with -v for details; please report it)", file=sys.stderr)
    return 1


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.service.lock import DaemonLock

    with DaemonLock(settings.storage.database):  # one daemon per database: a second one stops here
        return _run_daemon(settings)


def _run_daemon(settings: Settings) -> int:
    from cielo.service.runtime import open_store
    from cielo.service.scheduler import Daemon

    with open_store(settings) as store:  # create, migrate and check now: a bad file stops the start, not a job
        damage = store.quick_check()
        if damage != "ok":
            raise damaged(store.path, damage)
    for cls in registry.SOURCES:
        cls.preflight(settings)
    return Daemon(settings).run()


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.live import capture
    from cielo.service import clock
    from cielo.service.runtime import open_store
    from cielo.sources.registry import REGISTRY

    code = 0
    with open_store(settings) as store:
        if problem := clock.problem(store, utcnow()):
            raise CieloError(problem)
        for name in _sources(args.source, settings, "ingest"):
            source = REGISTRY[name](settings)
            try:
                summary, line = capture(source, store, utcnow())
            finally:
                source.close()
            print(line, flush=True)
            if summary.failed and not summary.new:
                code = 1
    return code


def _range(args: argparse.Namespace, settings: Settings, command: str) -> tuple[datetime, datetime]:
    """--from/--to as the UTC range [from, to + 1 min): `--to` names the last minute included."""
    tz = settings.device_tz
    start = parse_cli_time(args.start, tz, "--from")
    last = parse_cli_time(args.end, tz, "--to")
    for flag, text, ts in (("--from", args.start, start), ("--to", args.end, last)):
        if not EARLIEST <= ts <= LATEST:
            raise UsageError(f"{command}: {flag} {text} is out of range (1970 to 2200)")
    if last < start:
        raise UsageError(f"{command}: --to ({args.end}) is before --from ({args.start})")
    return start, last + timedelta(minutes=1)


# Command-line instants: nothing was recorded before 1970, and far-future dates overflow local-time arithmetic.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2201, 1, 1, tzinfo=UTC)


def _id(text: str) -> int:
    """A job or task id: a positive integer SQLite can hold."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid id: {text!r}") from None
    if not 1 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"no such id: {text}")
    return value


def _sources(names: list[str] | None, settings: Settings, command: str) -> list[str]:
    from cielo.sources.registry import REGISTRY

    if not names:
        enabled = [n for n, cls in REGISTRY.items() if cls.enabled(settings)]
        if not enabled:
            raise UsageError(f"{command}: every source is disabled in the configuration")
        return enabled
    wanted = [n.strip() for name in names for n in name.split(",") if n.strip()]
    for name in wanted:
        if name not in REGISTRY:
            raise UsageError(f"{command}: unknown source {name!r} (known: {', '.join(REGISTRY)})")
        if not REGISTRY[name].enabled(settings):
            raise UsageError(f"{command}: source {name!r} is disabled in the configuration")
    return list(dict.fromkeys(wanted))


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.backfill import jobs
    from cielo.service.runtime import open_store
    from cielo.sources.registry import REGISTRY

    start, end = _range(args, settings, "backfill")
    now = utcnow()
    if end > now:
        end = max(now, start)  # slots in the future cannot exist yet; asking would only fill `missing`
    explicit = bool(args.source)
    names = _sources(args.source, settings, "backfill")
    if args.workers is not None and not 1 <= args.workers <= 64:
        raise UsageError("backfill: --workers must be between 1 and 64")
    if args.processes is not None and not 0 <= args.processes <= 16:
        raise UsageError("backfill: --processes must be between 0 and 16")
    sources, spans = {}, {}
    for name in names:
        source = REGISTRY[name](settings)
        span = source.serves(start, end, now)
        if span is None or not jobs.has_slots(source, *span):
            source.close()
            if explicit:
                reach = "no history" if source.history == timedelta(0) else f"history {_span(source.history)}"
                print(f"{name}: cannot serve this range ({reach}); skipped", file=sys.stderr)
            continue
        if span[0] > start:
            print(f"{name}: serves only from {iso(span[0])} (history {_span(source.history)})", file=sys.stderr)
        sources[name], spans[name] = source, span
    if not sources:
        raise UsageError("backfill: no selected source can serve this range")
    names = list(sources)
    try:
        with open_store(settings) as store:
            if args.dry_run:
                for name, source in sources.items():
                    _print_plan(jobs.plan_totals(source, store, *spans[name], now), source)
                return 0
            jobs.reset_stuck(store)
            job, resumed = jobs.create(store, "manual", {name: [spans[name]] for name in names}, sources, start,
                                       end, detached=args.detach, resume=True)
            if args.detach:
                from cielo.service.lock import holder

                what = f"backfill job {job} {'resumed' if resumed else 'queued'}"
                pid = holder(store.path)
                if pid is None:  # nobody will pick it up: say so, and how to run it
                    print(f"{what}, but no daemon is running on {store.path}: it starts when `cielo run` (the "
                          f"service) does, or run it now with `cielo jobs run {job}`")
                else:
                    print(f"{what}: the running daemon{f' (pid {pid})' if pid else ''} picks it up within a "
                          f"minute; follow it with `cielo jobs show {job}`")
                return 0
            store.add_event("backfill_started", {"job": job, "from": iso(start), "to": iso(end),
                                                 "trigger": "manual", "resumed": resumed})
            fetch = {name: args.workers or source.workers for name, source in sources.items()}
            processes = settings.backfill.analysis_processes() if args.processes is None else args.processes
            for source in sources.values():
                source.use_processes(processes)
            bar = _Progress(sources, start, end) if sys.stderr.isatty() else None
            runner = jobs.Runner(store, sources, settings.backfill.workers, fetch, bar.update if bar else None,
                                 settings.backfill.max_attempts)
            interrupted = False
            try:
                runner.run(job)
            except KeyboardInterrupt:
                interrupted = True
            finally:
                if bar:
                    bar.close()
            summaries = jobs.run_summaries(store, job, sources, runner.ran, now, interrupted)
    finally:
        for source in sources.values():
            source.close()
    code = 0
    for name, summary in summaries.items():
        if summary.reasons:
            detail = ", ".join(f"{n} {k}" for k, n in summary.reasons.most_common())
            print(f"{name}: failed slots: {detail}", file=sys.stderr)
        print(summary.line(), flush=True)
        if not interrupted and summary.requested and jobs.level(summary.success_rate) == "failed":
            code = 1
    if interrupted:
        print(f"backfill: interrupted; what was stored is kept: run the same command to resume job {job}",
              file=sys.stderr)
        sys.stderr.flush()
        os._exit(130)  # worker threads may sit in a request for timeout_s: don't wait for them
    return code


def _span(td: timedelta | None) -> str:
    if td is None:
        return "unlimited"
    hours = td.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 48 else f"{hours:g} h"


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.guard import breaker_states
    from cielo.sources.registry import REGISTRY

    db = settings.storage.database
    breakers = breaker_states(db) if db.is_file() else {}
    for name, cls in REGISTRY.items():
        key = cls.key_present(settings)
        key_text = "keyless" if key is None else ("key present" if key else "no key")
        cfg = cls.config(settings)
        rpm, rpd = getattr(cfg, "requests_per_minute", None), getattr(cfg, "requests_per_day", None)
        budget = (f"{rpm:g}/min" if rpm else "unlimited") + (f", {rpd:g}/day" if rpd else "")
        if hasattr(cfg, "priority"):
            budget += f", priority {cfg.priority}"
        state, failures, _ = breakers.get(cls.config_name or name, ("closed", 0, None))
        breaker = f"breaker {state}" + (f" ({failures} failures)" if failures else "")
        history = "live only" if cls.history == timedelta(0) else f"history {_span(cls.history)}"
        series = ",".join(sp.name for sp in cls.series if not sp.derived)
        derived = ",".join(sp.name for sp in cls.series if sp.derived)
        print(f"{name}: {'enabled' if cls.enabled(settings) else 'disabled'}, {key_text}, series {series}, "
              f"{history}, budget {budget}, {breaker}" + (f", derived series {derived}" if derived else ""))
    return 0


def _print_plan(plan, source) -> None:
    from cielo.sources.base import estimate_s, summary_line

    rpm = source.requests_per_minute
    requests = plan.requests * source.requests_per_fetch  # AEMET: envelope + datos per window
    est = estimate_s(requests, rpm, source.requests_per_day)
    print(f"{plan.source}: plan: {plan.total} slots, {plan.present} already stored, "
          f"{plan.known_missing} known missing (retry not due), {requests} requests"
          + (f", about {est:.0f} s at {rpm:g}/min" if rpm else ""))
    print(f"{summary_line(plan.source, plan.total, 0, plan.present, 0)} (dry run)")


class _Progress:
    """A one-line progress bar per source on a terminal (stderr), redrawn at most 10 times a second."""

    def __init__(self, sources: dict, start: datetime, end: datetime):
        from cielo.backfill.jobs import count_slots

        self.totals = {name: count_slots(source, start, end) for name, source in sources.items()}
        self.tasks: dict[int, object] = {}
        self.t0, self.last, self.current = time.monotonic(), 0.0, ""

    def update(self, task, s) -> None:
        self.tasks[task.id] = (task.source, s)
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        self.draw(task.source)

    def draw(self, name: str) -> None:
        parts = [s for src, s in self.tasks.values() if src == name]
        done = sum(s.done for s in parts)
        new, dup, failed = (sum(getattr(s, k) for s in parts) for k in ("new", "duplicates", "failed"))
        total = self.totals.get(name, done) or 1
        rate = (new + failed) / max(time.monotonic() - self.t0, 1e-6)
        bar = "#" * int(min(done / total, 1.0) * 30)
        if self.current and self.current != name:
            sys.stderr.write("\n")
        self.current = name
        sys.stderr.write(f"\r{name} [{bar:<30}] {done}/{total} new={new} dup={dup} failed={failed} {rate:.0f}/s ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.current:
            self.draw(self.current)
        sys.stderr.write("\n")


def cmd_gaps(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.backfill import gaps
    from cielo.sources.registry import REGISTRY

    days = args.days if args.days is not None else settings.backfill.lookback_days
    if not 1 <= days <= 36600:
        raise UsageError("gaps: --days must be between 1 and 36600")
    names = _sources(args.source, settings, "gaps")
    known = {s.name for n in names for s in REGISTRY[n].series}
    for series in args.series or []:
        if series not in known:
            raise UsageError(f"gaps: unknown series {series!r} (known: {', '.join(sorted(known))})")
    now = utcnow()
    start = now - timedelta(days=days)
    results = []
    with _existing(settings) as store:
        for name in names:
            source = REGISTRY[name](settings)
            try:
                for spec in source.series:
                    # a derived series (the camera's sun) has the holes of its primary: listed when asked for
                    if (spec.name in args.series) if args.series else not spec.derived:
                        results.append(gaps.analyse(store, source, spec, start, now))
            finally:
                source.close()
    if args.json:
        print(json.dumps({"from": iso(start), "to": iso(now), "series": [r.as_dict() for r in results]}, indent=2))
        return 0
    for r in results:
        lag = "no readings" if r.lag is None else f"newest {iso(r.newest)}, lag {_duration(r.lag)}"
        fill = f", about {_duration(r.fill_estimate)} to fill" if r.fill_estimate else ""
        print(f"{r.series} ({r.source}): {lag}; {len(r.gaps)} gaps, {r.missing} missing slots, "
              f"{r.requests} requests{fill}")
        for gap in r.gaps:
            print(f"  {iso(gap.start)} → {iso(gap.end)}  {gap.missing:>6} slots  {_duration(gap.duration):>8}  "
                  f"{gap.severity}")
    return 0


def cmd_coverage(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.backfill import coverage
    from cielo.sources.registry import REGISTRY

    now = utcnow()
    year = args.year or now.year
    if not 1970 <= year <= now.year:
        raise UsageError(f"coverage: --year {year} is not between 1970 and {now.year}")
    names = _sources(args.source, settings, "coverage")
    sources = [REGISTRY[n](settings) for n in names]
    try:
        with _existing(settings) as store:
            cells = coverage.table(store, sources, year, now)
    finally:
        for s in sources:
            s.close()
    if args.png:
        try:
            coverage.heatmap(cells, year, Path(args.png))
        except OSError as exc:
            raise CieloError(f"{args.png}: cannot write the heatmap: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps({"year": year, "cells": [{"series": c.series, "month": c.month, "present": c.present,
                                                   "expected": c.expected, "percent": c.percent} for c in cells]},
                         indent=2))
    else:
        for c in cells:
            pct = "-" if c.percent is None else f"{c.percent:5.1f} %"
            print(f"{c.series:<28} {c.month}  {pct:>8}  {c.present}/{c.expected}")
    return 0


def _duration(d: timedelta) -> str:
    return human_duration(d.total_seconds())


def cmd_jobs(args: argparse.Namespace, settings: Settings) -> int:
    import re

    from cielo.backfill import jobs

    action = args.action or "list"
    with _existing(settings) as store:
        job = jobs.job(store, args.id) if action in ("show", "retry", "cancel", "run") else None
        if action in ("show", "retry", "cancel", "run") and job is None:
            raise UsageError(f"jobs {action}: no job {args.id}")
        if action == "list":
            rows = jobs.jobs(store)
            if args.json:
                print(json.dumps([{k: v for k, v in r.as_dict().items() if k != "started_at"} for r in rows],
                                 indent=2))
            for r in [] if args.json else rows:
                print(f"{r.id:>5}  {r.status:<19} {r.trigger:<8} {','.join(r.sources):<20} {r.start} → {r.end}  "
                      f"created {r.created_at}")
            if not rows and not args.json:
                print("no backfill jobs yet")
        elif action == "show":
            assert job is not None
            tasks = jobs.tasks(store, args.id)
            if args.json:
                print(json.dumps(job.as_dict() | {"tasks": [t.as_dict() for t in tasks]}, indent=2))
            else:
                print(f"job {job.id} ({job.trigger}): {job.status}, {job.start} → {job.end}, created {job.created_at}")
                for line in jobs.summary_lines(store, args.id):
                    print(f"  {line}")
                for t in tasks:
                    counts = "" if t.total is None else (f" total={t.total} new={t.new} duplicates={t.duplicates}"
                                                         f" failed={t.failed}")
                    err = f"  error: {t.error}" if t.error else ""
                    print(f"  task {t.id:>5} {t.source:<10} {t.start} → {t.end} {t.status:<11} "
                          f"attempts={t.attempts}{counts}{err}")
        elif action == "run":
            return _run_job(settings, store, args.id)
        elif action == "retry":
            n = jobs.retry(store, args.id, args.tasks)
            print(f"job {args.id}: {n} task(s) back to pending; `cielo run` (or the same backfill command) runs them")
        elif action == "cancel":
            n = jobs.cancel(store, args.id)
            print(f"job {args.id}: {n} pending task(s) cancelled")
        else:
            older = None
            if args.older_than:
                m = re.fullmatch(r"(\d+)\s*(s|m|h|d)", args.older_than.strip())
                if not m:
                    raise UsageError(f"jobs reset-stuck: --older-than {args.older_than!r}: use e.g. 30s, 5m, 2h, 1d")
                older = timedelta(seconds=int(m[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m[2]])
            print(f"{jobs.reset_stuck(store, older)} stuck task(s) back to pending")
    return 0


def _run_job(settings: Settings, store, job: int) -> int:
    """Run what is left of a job here (the daemon does this in a child process for catch-up jobs)."""
    from cielo.backfill import jobs
    from cielo.sources.registry import REGISTRY

    jobs.reset_stuck(store)
    if other := jobs.running_elsewhere(store, job):  # e.g. the child of a daemon killed -9 is still at it
        print(f"job {job}: already being run by {other}; not starting a second worker", flush=True)
        return 0
    row = jobs.job(store, job)
    names = row.sources if row else []
    sources = {n: REGISTRY[n](settings) for n in names if n in REGISTRY and REGISTRY[n].enabled(settings)}
    try:
        fetch = {n: source.workers for n, source in sources.items()}
        runner = jobs.Runner(store, sources, settings.backfill.workers, fetch, None, settings.backfill.max_attempts)
        signal.signal(signal.SIGTERM, lambda *_: runner.stop.set())  # the daemon stopping: finish the chunk
        status = runner.run(job)
    finally:
        for source in sources.values():
            source.close()
    for line in jobs.summary_lines(store, job):
        print(line, flush=True)
    print(f"job {job}: {status}", flush=True)
    return 0 if status in ("completed", "partially_completed") else 1


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.errors import EXIT_DAMAGED
    from cielo.health.doctor import checks

    ok, broken = True, False
    for passed, line in checks(settings, utcnow()):
        print(f"{'✔' if passed else '✘'} {line}", flush=True)
        ok = ok and passed
        broken = broken or (not passed and line.startswith("database:") and "is damaged" in line)
    return EXIT_DAMAGED if broken else 0 if ok else 1


def cmd_prune_future(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.service import clock

    now = utcnow()
    with _existing(settings) as store:
        ahead, latest = store.future_writes(now)
        if not ahead:
            print(f"no readings stamped later than now ({iso(now)})")
            return 0
        if clock.synchronised() is False and not args.dry_run:
            raise CieloError(f"the system clock ({iso(now)}) is not synchronised: the {ahead} readings stamped up "
                             f"to {latest} may be right and the clock wrong; sync it first (timedatectl)")
        if args.dry_run:
            print(f"{ahead} readings stamped later than now ({iso(now)}), up to {latest} (dry run: nothing moved)")
            return 0
        moved = store.move_future(now)
    print(f"moved {moved} readings stamped later than now ({iso(now)}, up to {latest}) into readings_future; "
          "the next gap check refills their slots")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    import csv


    start, end = _range(args, settings, "export")
    with _existing(settings) as store:
        known = store.series_names()
        if args.series not in known:
            raise UsageError(f"export: no series {args.series!r} in the database (has: {', '.join(known) or 'none'})")
        rows = store.readings(args.series, start, end)
    if args.format == "jsonl":
        for ts, value, unit, source, attrs in rows:
            print(json.dumps({"series": args.series, "ts": ts, "value": value, "unit": unit, "source": source,
                              "attrs": json.loads(attrs)}))
    else:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["series", "ts", "value", "unit", "source", "attrs"])
        out.writerows([args.series, *row] for row in rows)
    return 0


def _existing(settings: Settings):
    """The store of a command that works on what is there (none yet is one line, not a new empty file), with
    the outbox: whatever it stores or records (`jobs run`, `jobs retry`) reaches MQTT in the same transaction."""
    from cielo.service.runtime import open_store

    if not settings.storage.database.exists():
        raise CieloError(f"{settings.storage.database}: no database yet (run `cielo run` or `cielo backfill`)")
    return open_store(settings)


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.health import status

    with _existing(settings) as store:
        summary = status.summary(settings, store, utcnow())
    print(json.dumps(summary, indent=2) if args.json else status.render(summary))
    return 0


COMMANDS = {
    "run": cmd_run,
    "sources": cmd_sources,
    "status": cmd_status,
    "ingest": cmd_ingest,
    "backfill": cmd_backfill,
    "export": cmd_export,
    "doctor": cmd_doctor,
    "prune-future": cmd_prune_future,
    "gaps": cmd_gaps,
    "coverage": cmd_coverage,
    "jobs": cmd_jobs,
}

__all__ = ["main"]
