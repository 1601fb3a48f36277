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

    st = sub.add_parser("status", help="latest reading and lag per series, jobs, outbox, broker, database")
    st.add_argument("--json", action="store_true", help="the summary as one JSON object")

    i = sub.add_parser("ingest", help="run the live jobs once, now, and say what each stored")
    i.add_argument("--source", action="append", metavar="S", help="source to run (repeatable; default: all enabled)")

    b = sub.add_parser("backfill", help="replay a past range of a source into the database")
    b.add_argument("--from", "--desde", dest="start", required=True, metavar="T",
                   help="first instant: YYYY-MM-DD or YYYY-MM-DDTHH:MM (device time zone unless Z/offset)")
    b.add_argument("--to", "--hasta", dest="end", required=True, metavar="T",
                   help="last instant, included (same formats)")
    b.add_argument("--source", action="append", metavar="S", help="source to replay (repeatable; default: skycam)")
    b.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    b.add_argument("--workers", type=int, metavar="N", help="concurrent requests (default: [skycam].workers)")

    c = sub.add_parser("classify", help="octas for local image files")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--json", action="store_true", help="one JSON object per line")
    c.add_argument("--at", metavar="T", help="when the images were taken (enables the night rule)")

    k = sub.add_parser("calibrate", help="fit the site's camera (valid area, threshold) from unlabelled images")
    src = k.add_mutually_exclusive_group(required=True)
    src.add_argument("--images", metavar="DIR", help="a folder of the camera's images (JPEG, PNG, ...)")
    src.add_argument("--from", "--desde", dest="start", metavar="T", help="first instant of stored/camera images")
    k.add_argument("--to", "--hasta", dest="end", metavar="T", help="last instant, included (with --from)")
    k.add_argument("--max-images", type=int, default=400, metavar="N",
                   help="use at most N images, spread evenly over the range (default 400)")
    k.add_argument("--out", metavar="PATH", help="where to write it (default: [skycam].calibration)")
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
    from cielo.runtime import open_store
    from cielo.scheduler import Daemon

    open_store(settings).close()  # create or migrate now: a bad path stops the start, not a job
    if settings.skycam.enabled and settings.skycam.model is not None and not settings.skycam.model.is_file():
        raise ConfigError(f"[skycam].model: {settings.skycam.model}: no such file")
    return Daemon(settings).run()


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.ingest import ingest
    from cielo.runtime import open_store
    from cielo.sources import REGISTRY
    from cielo.timeutil import utcnow

    code = 0
    with open_store(settings) as store:
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
    from cielo.runtime import open_store
    from cielo.sources import REGISTRY

    tz = settings.device_tz
    start = parse_cli_time(args.start, tz, "--from")
    last = parse_cli_time(args.end, tz, "--to")
    if last < start:
        raise UsageError(f"backfill: --to ({args.end}) is before --from ({args.start})")
    end = last + timedelta(minutes=1)  # --to names the last minute included
    now = datetime.now(UTC)
    if end > now:
        end = max(now, start)  # slots in the future cannot exist yet; asking would only fill `missing`
    names = _sources(args.source, settings, "backfill")
    if args.workers is not None and args.workers < 1:
        raise UsageError("backfill: --workers must be at least 1")

    code = 0
    with open_store(settings) as store:
        for name in names:
            source = REGISTRY[name](settings)
            try:
                if args.dry_run:
                    _print_plan(backfill.plan(source, store, start, end, now), source)
                    continue
                workers = args.workers or settings.skycam.workers
                store.add_event("backfill_started", {"from": iso(start), "to": iso(end), "trigger": "manual"},
                                source=name)
                bar = _Progress(name) if sys.stderr.isatty() else None
                try:
                    summary = backfill.run(source, store, start, end, workers=workers, now=now,
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
            level = _level(summary)
            store.add_event("backfill_finished", {
                "summary": summary.line(), "total": summary.total, "new": summary.new,
                "duplicates": summary.duplicates, "failed": summary.failed,
                "success_rate": round(summary.success_rate, 3), "level": level,
                "from": iso(start), "to": iso(end)}, level="info" if level == "success" else "warning", source=name)
            print(summary.line(), flush=True)
            if level == "failed" and summary.requested:
                code = max(code, 1)
    return code


def _level(summary) -> str:
    """The success levels of DESIGN.md's events: > 80 % restored, 20-80 % partial, < 20 % failed."""
    rate = summary.success_rate
    return "success" if rate > 0.8 else "partial" if rate >= FAILED_BELOW else "failed"


def _print_plan(plan, source) -> None:
    rpm = source.requests_per_minute
    print(f"{plan.source}: plan: {plan.total} slots, {plan.present} already stored, "
          f"{plan.known_missing} known missing (retry not due), {plan.requests} requests"
          + (f", about {plan.requests / rpm:.0f} min at {rpm:g}/min" if rpm else ""))
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
    from cielo.calibration import load_site
    from cielo.classifier import ImageError, OctaModel, Verdict

    cal = load_site(settings.calibration_path)
    model = OctaModel(settings.skycam.model, calibration=cal)
    cal_label = cal.label() if cal else "none (model defaults)"
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
                   "flag": verdict.flag, "calibration": cal.ident if cal else None}
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
    if not args.json:
        print(f"calibration: {cal_label}", flush=True)
    return code


def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from cielo import calibration
    from cielo.classifier import OctaModel

    model = OctaModel(settings.skycam.model)
    if args.images:
        frames, source = calibration.frames_from_folder(model, Path(args.images), args.max_images)
    else:
        if not args.end:
            raise UsageError("calibrate: --from needs --to")
        tz = settings.device_tz
        start, end = parse_cli_time(args.start, tz, "--from"), parse_cli_time(args.end, tz, "--to")
        if end < start:
            raise UsageError("calibrate: --to is before --from")
        frames, source = calibration.frames_from_camera(model, settings, start, end + timedelta(minutes=1),
                                                        args.max_images)
    threshold = float(model.defaults.get("sky_threshold", 0.25))
    cal = calibration.fit(frames, source, threshold)
    out = Path(args.out) if args.out else settings.calibration_path
    cal.save(out)
    for line in calibration.describe(cal):
        print(line)
    print(f"wrote {out} ({cal.ident}); `cielo classify` and the sky camera use it from now on")
    return 0


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


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from cielo import status
    from cielo.store import Store
    from cielo.timeutil import utcnow

    if not settings.storage.database.exists():
        raise CieloError(f"{settings.storage.database}: no database yet (run `cielo run` or `cielo backfill`)")
    with Store(settings.storage.database) as store:
        summary = status.summary(settings, store, utcnow())
    print(json.dumps(summary, indent=2) if args.json else status.render(summary))
    return 0


COMMANDS = {
    "run": cmd_run,
    "status": cmd_status,
    "ingest": cmd_ingest,
    "backfill": cmd_backfill,
    "classify": cmd_classify,
    "calibrate": cmd_calibrate,
}

__all__ = ["main"]
