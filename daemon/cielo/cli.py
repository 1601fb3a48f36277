"""`cielo`: a thin command line over the library; every failure is one line and an exit code.

Exit codes: 0 done; 1 a run that failed (e.g. a backfill that restored under 20 % of what it asked for, an
image that could not be read); 2 bad usage or config; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

from cielo import __version__, logs
from cielo.config import Settings, load_settings
from cielo.errors import CieloError, ConfigError, UsageError
from cielo.timeutil import iso, parse_cli_time

log = logging.getLogger("cielo")

FAILED_BELOW = 0.2  # a backfill that restores less than this share of what it asked for has failed


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
    b.add_argument("--workers", type=int, metavar="N", help="concurrent requests (default: the source's workers)")

    sub.add_parser("sources", help="each source: enabled, key present, series, history window, request budget")

    m = sub.add_parser("import-csv", help="historical station CSV exports (SIAR, datosclima.es, custom)")
    m.add_argument("--source", required=True, metavar="LAYOUT",
                   help="siar, datosclima or custom ([sources.csv] columns)")
    m.add_argument("files", nargs="+", metavar="FILE")

    c = sub.add_parser("classify", help="octas for local image files")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--json", action="store_true", help="one JSON object per line")
    c.add_argument("--at", metavar="T", help="when the images were taken (enables the night rule)")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"{exc}", file=sys.stderr)
        return exc.exit_code
    logs.setup(args.verbose)
    try:
        settings = load_settings(args.config)
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


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.scheduler import Daemon
    from cielo.store import Store

    Store(settings.storage.database).close()  # create or migrate now: a bad path stops the start, not a job
    if settings.skycam.enabled and settings.skycam.model is not None and not settings.skycam.model.is_file():
        raise ConfigError(f"[skycam].model: {settings.skycam.model}: no such file")
    return Daemon(settings).run()


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.ingest import ingest
    from cielo.sources import REGISTRY
    from cielo.store import Store
    from cielo.timeutil import utcnow

    code = 0
    with Store(settings.storage.database) as store:
        for name in _sources(args.source, settings, "ingest"):
            source = REGISTRY[name](settings)
            try:
                summary, line = ingest(source, store, utcnow())
            finally:
                source.close()
            print(line, flush=True)
            if summary.failed and not summary.new:
                code = 1
    return code


def _sources(names: list[str] | None, settings: Settings, command: str) -> list[str]:
    from cielo.sources import REGISTRY

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
    from cielo import backfill
    from cielo.sources import REGISTRY
    from cielo.store import Store

    tz = settings.device_tz
    start = parse_cli_time(args.start, tz, "--from")
    last = parse_cli_time(args.end, tz, "--to")
    if last < start:
        raise UsageError(f"backfill: --to ({args.end}) is before --from ({args.start})")
    end = last + timedelta(minutes=1)  # --to names the last minute included
    now = datetime.now(UTC)
    if end > now:
        end = max(now, start)  # slots in the future cannot exist yet; asking would only fill `missing`
    explicit = bool(args.source)
    names = _sources(args.source, settings, "backfill")
    if args.workers is not None and args.workers < 1:
        raise UsageError("backfill: --workers must be at least 1")

    code = 0
    served = 0
    with Store(settings.storage.database) as store:
        for name in names:
            source = REGISTRY[name](settings)
            try:
                span = source.serves(start, end, now)
                if span is None or not source.slots(*span):
                    source.close()
                    if explicit:
                        reach = "no history" if source.history == timedelta(0) else f"history {_span(source.history)}"
                        print(f"{name}: cannot serve this range ({reach}); skipped", file=sys.stderr)
                    continue
                served += 1
                if span[0] > start:
                    print(f"{name}: serves only from {iso(span[0])} (history {_span(source.history)})",
                          file=sys.stderr)
                if args.dry_run:
                    _print_plan(backfill.plan(source, store, *span, now), source)
                    continue
                workers = args.workers or source.workers
                bar = _Progress(name) if sys.stderr.isatty() else None
                try:
                    summary = backfill.run(source, store, *span, workers=workers, now=now,
                                           progress=bar.update if bar else None)
                finally:
                    if bar:
                        bar.close()
            finally:
                source.close()
            if summary.reasons:
                detail = ", ".join(f"{n} {k}" for k, n in summary.reasons.most_common())
                print(f"{name}: failed slots: {detail}", file=sys.stderr)
            if summary.interrupted:
                print(summary.line(), flush=True)
                print(f"{name}: interrupted; what was stored is kept, run again to go on", file=sys.stderr)
                sys.stderr.flush()
                os._exit(130)  # worker threads may sit in a request for timeout_s: don't wait for them
            print(summary.line(), flush=True)
            if summary.requested and summary.success_rate < FAILED_BELOW:
                code = max(code, 1)
    if not served:
        raise UsageError("backfill: no selected source can serve this range")
    return code


def _span(td: timedelta | None) -> str:
    if td is None:
        return "unlimited"
    hours = td.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 48 else f"{hours:g} h"


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.guard import breaker_states
    from cielo.sources import REGISTRY

    db = settings.storage.database
    breakers = breaker_states(db) if db.is_file() else {}
    for name, cls in REGISTRY.items():
        key = cls.key_present(settings)
        key_text = "keyless" if key is None else ("key present" if key else "no key")
        if cls.config_model is not None:
            cfg = cls.config(settings)
            rpm = cfg.requests_per_minute
            rpd = getattr(cfg, "requests_per_day", None)
            budget = f"{rpm:g}/min" + (f", {rpd:g}/day" if rpd else "")
            budget += f", priority {cfg.priority}"
        else:
            budget = "unlimited"
        state, failures, _ = breakers.get(cls.config_name or name, ("closed", 0, None))
        breaker = f"breaker {state}" + (f" ({failures} failures)" if failures else "")
        history = "live only" if cls.history == timedelta(0) else f"history {_span(cls.history)}"
        series = ",".join(sp.name for sp in cls.series)
        print(f"{name}: {'enabled' if cls.enabled(settings) else 'disabled'}, {key_text}, series {series}, "
              f"{history}, budget {budget}, {breaker}")
    return 0


def cmd_import_csv(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.csvimport import CsvConfig, import_file
    from cielo.sources import priorities
    from cielo.store import Store

    cfg = settings.source_config("csv", CsvConfig)
    code = 0
    with Store(settings.storage.database) as store:
        for name in args.files:
            summary = import_file(store, Path(name), args.source, cfg, priorities(settings))
            for line in summary.errors[:20]:
                print(line, file=sys.stderr)
            if len(summary.errors) > 20:
                print(f"{name}: and {len(summary.errors) - 20} more bad rows", file=sys.stderr)
            print(summary.line(), flush=True)
            if summary.total and summary.failed == summary.total:
                code = 1
    return code


def _print_plan(plan, source) -> None:
    from cielo.sources.base import estimate_s

    rpm = source.requests_per_minute
    requests = plan.requests * source.requests_per_fetch  # AEMET: envelope + datos per window
    est = estimate_s(requests, rpm, source.requests_per_day)
    print(f"{plan.source}: plan: {plan.total} slots, {plan.present} already stored, "
          f"{plan.known_missing} known missing (retry not due), {requests} requests"
          + (f", about {est:.0f} s at {rpm:g}/min" if rpm else ""))
    print(f"{plan.source}: total={plan.total} new=0 duplicates={plan.present} failed=0 (dry run)")


class _Progress:
    """A one-line progress bar on a terminal (stderr), redrawn at most 10 times a second."""

    def __init__(self, name: str):
        self.name, self.t0, self.last = name, time.monotonic(), 0.0

    def update(self, s) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and s.done < s.total:
            return
        self.last = now
        frac = s.done / s.total if s.total else 1.0
        rate = (s.new + s.failed) / max(now - self.t0, 1e-6)
        bar = "#" * int(frac * 30)
        sys.stderr.write(f"\r{self.name} [{bar:<30}] {s.done}/{s.total} new={s.new} dup={s.duplicates} "
                         f"failed={s.failed} {rate:.0f}/s ")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.classifier import ImageError, OctaModel, Verdict

    model = OctaModel(settings.skycam.model)
    at = parse_cli_time(args.at, settings.device_tz, "--at") if args.at else None
    code = 0
    for name in args.files:
        path = Path(name)
        try:
            data = path.read_bytes()
            frame = model.decode(data)
            when = at or _exif_time(data, settings)
            verdict = model.judge([frame], [when], settings.device.latitude, settings.device.longitude)[0]
            error = None
        except (OSError, ImageError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            verdict, error, code = Verdict(None, None, None, "invalid"), reason, 1
        if args.json:
            out = {"file": name, "octas": verdict.octas,
                   "confidence": None if verdict.confidence is None else round(verdict.confidence, 4),
                   "probs": None if verdict.probs is None else [round(p, 4) for p in verdict.probs],
                   "flag": verdict.flag}
            if error:
                out["error"] = error
            print(json.dumps(out), flush=True)
        elif error:
            print(f"{name}: invalid: {error}", flush=True)
        elif verdict.octas is None:
            extra = f" (sun {verdict.sun_elevation:.1f}°)" if verdict.flag == "night" else ""
            print(f"{name}: {verdict.flag}{extra}", flush=True)
        else:
            print(f"{name}: {verdict.octas} octas (confidence {verdict.confidence:.2f})", flush=True)
    return code


def _exif_time(data: bytes, settings: Settings) -> datetime | None:
    """EXIF DateTimeOriginal (with OffsetTimeOriginal if present, else the device's time zone)."""
    import io

    from PIL import Image

    try:
        exif = Image.open(io.BytesIO(data)).getexif().get_ifd(0x8769)
        stamp = exif.get(36867)  # DateTimeOriginal
        if not stamp:
            return None
        text = stamp.strip().replace(":", "-", 2).replace(" ", "T")
        offset = exif.get(36881)  # OffsetTimeOriginal, e.g. "+02:00"
        return parse_cli_time(text[:16] + (offset.strip() if offset else ""), settings.device_tz)
    except (CieloError, OSError, ValueError, AttributeError):
        return None


COMMANDS = {"run": cmd_run, "ingest": cmd_ingest, "backfill": cmd_backfill, "classify": cmd_classify,
            "sources": cmd_sources, "import-csv": cmd_import_csv}

__all__ = ["iso", "main"]
