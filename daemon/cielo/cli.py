"""`cielo`: a thin command line over the library; every failure is one line and an exit code.

Exit codes: 0 done; 1 a run that failed (e.g. a backfill that restored under 20 % of what it asked for, an
image that could not be read); 2 bad usage or config; 3 a damaged database (errors.EXIT_DAMAGED); 130
interrupted (Ctrl-C); 143 a `cielo backfill` stopped by SIGTERM (128 + 15, the shell's convention), after the
same orderly stop and summary as Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from cielo import __version__, logs
from cielo.errors import CieloError, UsageError, unexpected
from cielo.service.child import follow_parent
from cielo.sources import registry  # cheap: the sources themselves load when a command first asks
from cielo.timeutil import cli_range, glue_relative, iso, utcnow

if TYPE_CHECKING:  # pydantic and the config models load with the settings, not for `--help` or `--version`
    from cielo.config import Settings

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
                   help="first instant: YYYY-MM-DD or YYYY-MM-DDTHH:MM (device time zone unless Z/offset), "
                        "or relative: -14d, -6h, -30m, yesterday, today, now")
    b.add_argument("--to", "--hasta", dest="end", required=True, metavar="T",
                   help="last instant, included (same formats)")
    b.add_argument("--source", action="append", metavar="S",
                   help="source to replay (repeatable; default: every enabled source that can serve the range)")
    b.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    b.add_argument("--detach", action="store_true", help="queue the job for the daemon and return")
    b.add_argument("--workers", type=int, metavar="N", help="concurrent requests (default: the source's workers)")
    b.add_argument("--processes", type=int, metavar="N",
                   help="a source's analysis (the camera judging images) in N worker processes, 0: in "
                   "this one (default: the source's own `processes` key)")

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
    pf.add_argument("--force", action="store_true",
                    help="move them even when the system does not say its clock is synchronised")

    e = sub.add_parser("export", help="readings of one series out, as CSV or JSON lines")
    e.add_argument("--series", required=True, metavar="X", help="a series, as `cielo sources` lists them")
    e.add_argument("--from", "--desde", dest="start", required=True, metavar="T")
    e.add_argument("--to", "--hasta", dest="end", required=True, metavar="T", help="included, to the minute")
    e.add_argument("--format", choices=["csv", "jsonl"], default="csv")

    for module in registry.command_modules():  # commands a source brings (the camera's classify, calibrate)
        COMMANDS.update(import_module(module).register(sub))
    _verbose_anywhere(p)
    return p


def _verbose_anywhere(parser: argparse.ArgumentParser) -> None:
    """`-v` after the command too (`cielo backfill ... -v`), on every subcommand at any depth."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in set(action.choices.values()):
                child.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                   help="debug logging")
                _verbose_anywhere(child)


def main(argv: list[str] | None = None) -> int:
    follow_parent()
    try:
        args = build_parser().parse_args(glue_relative(sys.argv[1:] if argv is None else argv, TIME_FLAGS))
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
    db = getattr(getattr(args, "_settings", None), "storage", None)
    err = unexpected(exc, db.database if db is not None else "the database")
    log.debug("unexpected error", exc_info=exc)
    print(f"cielo: error: {err}", file=sys.stderr)
    return err.exit_code


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.service.scheduler import run_daemon

    return run_daemon(settings)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.ingest.capture import capture_all

    return capture_all(settings, args.source, _out)


def _out(line: str) -> None:
    print(line, flush=True)


def _err(line: str) -> None:
    print(line, file=sys.stderr)


def _range(args: argparse.Namespace, settings: Settings, command: str) -> tuple[datetime, datetime]:
    return cli_range(args.start, args.end, settings.device_tz, command)


# Flags that take an instant: `--from -14d` reads as a value, not as an unknown option.
TIME_FLAGS = ("--from", "--desde", "--to", "--hasta", "--at")

def _id(text: str) -> int:
    """A job or task id: a positive integer SQLite can hold."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid id: {text!r}") from None
    if not 1 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"no such id: {text}")
    return value


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.backfill.manual import Request, backfill

    start, end = _range(args, settings, "backfill")
    return backfill(settings, Request(start, end, args.source, args.dry_run, args.detach, args.workers,
                                      args.processes), _out, _err)


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.sources.listing import lines

    for line in lines(settings):
        print(line)
    return 0


def cmd_gaps(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.backfill import gaps
    from cielo.sources.registry import REGISTRY

    days = args.days if args.days is not None else settings.backfill.lookback_days
    if not 1 <= days <= 36600:
        raise UsageError("gaps: --days must be between 1 and 36600")
    names = registry.select(args.source, settings, "gaps")
    known = {s.name for n in names for s in REGISTRY[n].series}
    for series in args.series or []:
        if series not in known:
            raise UsageError(f"gaps: unknown series {series!r} (known: {', '.join(sorted(known))})")
    now = utcnow()
    start = now - timedelta(days=days)
    with _existing(settings) as store:
        results = gaps.report(settings, store, names, args.series, start, now)
    if args.json:
        print(json.dumps({"from": iso(start), "to": iso(now), "series": [r.as_dict() for r in results]}, indent=2))
        return 0
    for line in gaps.lines(results):
        print(line)
    return 0


def cmd_coverage(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.backfill import coverage
    from cielo.sources.registry import REGISTRY

    now = utcnow()
    year = args.year or now.year
    if not 1970 <= year <= now.year:
        raise UsageError(f"coverage: --year {year} is not between 1970 and {now.year}")
    names = registry.select(args.source, settings, "coverage")
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
        print(json.dumps(coverage.as_json(cells, year), indent=2))
    else:
        for line in coverage.lines(cells):
            print(line)
    return 0


def cmd_jobs(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.backfill import jobs
    from cielo.timeutil import duration

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
            else:
                for line in jobs.list_lines(rows):
                    print(line)
        elif action == "show":
            assert job is not None
            tasks = jobs.tasks(store, args.id)
            if args.json:
                print(json.dumps(job.as_dict() | {"tasks": [t.as_dict() for t in tasks]}, indent=2))
            else:
                for line in jobs.show_lines(store, job, tasks):
                    print(line)
        elif action == "run":
            from cielo.backfill.manual import run_job

            return run_job(settings, store, args.id, _out)
        elif action == "retry":
            n = jobs.retry(store, args.id, args.tasks)
            print(f"job {args.id}: {n} task(s) back to pending; `cielo run` (or the same backfill command) runs them")
        elif action == "cancel":
            n = jobs.cancel(store, args.id)
            print(f"job {args.id}: {n} pending task(s) cancelled")
        else:
            older = None
            if args.older_than:
                older = duration(args.older_than)
                if older is None:
                    raise UsageError(f"jobs reset-stuck: --older-than {args.older_than!r}: use e.g. 30s, 5m, 2h, 1d")
            print(f"{jobs.reset_stuck(store, older)} stuck task(s) back to pending")
    return 0


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
    from cielo.service.clock import prune_future

    with _existing(settings) as store:
        print(prune_future(store, utcnow(), args.dry_run, args.force))
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    import csv

    from cielo.values import plain

    start, end = _range(args, settings, "export")
    with _existing(settings) as store:
        known = store.series_names()
        if args.series not in known:
            raise UsageError(f"export: no series {args.series!r} in the database (has: {', '.join(known) or 'none'})")
        rows = store.readings(args.series, start, end)
    if args.format == "jsonl":
        for ts, value, unit, source, attrs in rows:
            print(json.dumps({"series": args.series, "ts": ts, "value": plain(value), "unit": unit,
                              "source": source, "attrs": json.loads(attrs)}))
    else:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["series", "ts", "value", "unit", "source", "attrs"])
        out.writerows([args.series, ts, plain(value), *rest] for ts, value, *rest in rows)
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
