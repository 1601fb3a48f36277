"""`cielo backfill`: a range asked for by hand, as a job run in this process (or queued for the daemon with
`detach`). The command line parses and hands a `Request` here; lines for the person go to `out` and `err`.

Ctrl-C stops the tasks (what was stored is kept; the same command resumes the job), prints the summary, marks
the job `interrupted` and ends the process at once with 130: fetch threads may sit in a request for timeout_s
and are not waited for. SIGTERM (kill, a CI timeout, a service manager) does the same and ends with 143 (128 +
15, the shell's convention).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cielo.backfill import jobs
from cielo.backfill.progress import Progress, Tracker
from cielo.backfill.ranges import PlanTotals, has_slots, plan_totals
from cielo.backfill.runner import Runner, run_summaries
from cielo.config import Settings
from cielo.errors import UsageError
from cielo.service.runtime import open_store
from cielo.sources import registry
from cielo.sources.base import Source, estimate_s, summary_line
from cielo.sources.listing import span_text
from cielo.store import Store
from cielo.timeutil import iso, utcnow, whole_second

# A job child told to stop (the daemon stopping or gone, or a live run waiting) ends within this, whatever it
# waits on: systemd's TimeoutStopSec is 30 s, and a restart after kill -9 waits for the unit's every process.
STOP_DEADLINE_S = 10.0

Say = Callable[[str], None]


@dataclass(frozen=True)
class Request:
    start: datetime
    end: datetime  # excluded
    sources: list[str] | None  # None: every enabled source that can serve the range
    dry_run: bool = False
    detach: bool = False
    workers: int | None = None  # concurrent requests per source; None: the source's own
    processes: int | None = None  # analysis processes of a source that has them; None: its configured default


def backfill(settings: Settings, req: Request, out: Say, err: Say) -> int:
    """Run (or plan, or queue) the backfill; returns the exit code."""
    if req.workers is not None and not 1 <= req.workers <= 64:
        raise UsageError("backfill: --workers must be between 1 and 64")
    if req.processes is not None and not 0 <= req.processes <= 16:
        raise UsageError("backfill: --processes must be between 0 and 16")
    now = utcnow()
    start, end = req.start, req.end
    if end > now:
        # slots in the future cannot exist yet; asking would only fill `missing`. Up to the next whole second:
        # the job keeps its ends to the second, and a slot begun 0.4 s ago must not fall off the end
        end = max(whole_second(now), start)
    sources, spans = _servable(settings, req, start, end, now, err)
    try:
        with open_store(settings) as store:
            if req.dry_run:
                for name, source in sources.items():
                    for line in plan_lines(plan_totals(source, store, *spans[name], now), source):
                        out(line)
                return 0
            jobs.reset_stuck(store)
            job, resumed = jobs.create(store, "manual", {name: [span] for name, span in spans.items()}, sources,
                                       start, end, detached=req.detach, resume=True)
            if req.detach:
                out(_queued(store, job, resumed))
                return 0
            store.add_event("backfill_started", {"job": job, "from": iso(start), "to": iso(end),
                                                 "trigger": "manual", "resumed": resumed})
            return _run(settings, store, req, job, sources, start, end, now, out, err)
    finally:
        for source in sources.values():
            source.close()


def _servable(settings: Settings, req: Request, start: datetime, end: datetime, now: datetime,
              err: Say) -> tuple[dict[str, Source], dict[str, tuple[datetime, datetime]]]:
    """The selected sources that can serve some of the range, each with the part it serves."""
    names = registry.select(req.sources, settings, "backfill")
    sources: dict[str, Source] = {}
    spans: dict[str, tuple[datetime, datetime]] = {}
    skipped: list[str] = []
    for name in names:
        source = registry.REGISTRY[name](settings)
        span = source.serves(start, end, now)
        if span is None or not has_slots(source, *span):
            source.close()
            if req.sources:
                reach = "no history" if source.history == timedelta(0) else f"history {span_text(source.history)}"
                skipped.append(f"{name}: cannot serve this range ({reach})")
            continue
        if span[0] > start:
            err(f"{name}: serves only from {iso(span[0])} (history {span_text(source.history)})")
        sources[name], spans[name] = source, span
    if not sources:  # one line: why none of them can
        raise UsageError("; ".join(skipped) if skipped else "backfill: no selected source can serve this range")
    for line in skipped:
        err(f"{line}; skipped")
    return sources, spans


def _queued(store: Store, job: int, resumed: bool) -> str:
    from cielo.service.lock import holder

    what = f"backfill job {job} {'resumed' if resumed else 'queued'}"
    pid = holder(store.path)
    if pid is None:  # nobody will pick it up: say so, and how to run it
        return (f"{what}, but no daemon is running on {store.path}: it starts when `cielo run` (the service) "
                f"does, or run it now with `cielo jobs run {job}`")
    return (f"{what}: the running daemon{f' (pid {pid})' if pid else ''} picks it up within a minute; follow "
            f"it with `cielo jobs show {job}`")


def _run(settings: Settings, store: Store, req: Request, job: int, sources: dict[str, Source], start: datetime,
         end: datetime, now: datetime, out: Say, err: Say) -> int:
    fetch = {name: req.workers or source.workers for name, source in sources.items()}
    for source in sources.values():
        if source.analysis is not None:
            source.analysis.use_processes(
                source.analysis.default_processes(settings) if req.processes is None else req.processes)
    bar = Progress(sources, start, end) if sys.stderr.isatty() else None
    # a log (cron, nohup) gets a progress line every [backfill] progress_minutes; a terminal has the bar
    every = settings.backfill.progress_minutes * 60 if bar is None else float("inf")
    tracker = Tracker.for_job(store, job, sources, every, ends=False)

    def on_progress(task, s) -> None:
        tracker.update(task, s)
        if bar:
            bar.update(task, s)

    runner = Runner(store, sources, settings.backfill.workers, fetch, on_progress, settings.backfill.max_attempts)
    interrupted, status = False, "interrupted"
    tracker.start()
    terminated = _sigterm_like_ctrl_c()
    try:
        status = runner.run(job)
    except KeyboardInterrupt:
        interrupted = True
        jobs.mark_interrupted(store, job)  # nobody is at it any more: not `running`
    finally:
        if bar:
            bar.close()
        tracker.finish(status, quiet=bar is not None)
    code = 0
    for name, summary in run_summaries(store, job, sources, runner.ran, now, interrupted).items():
        if summary.reasons:
            err(f"{name}: failed slots: " + ", ".join(f"{n} {k}" for k, n in summary.reasons.most_common()))
        out(summary.line())
        if not interrupted and summary.requested and jobs.level(summary.success_rate) == "failed":
            code = 1
    if interrupted:
        how = "stopped by SIGTERM" if terminated else "interrupted"
        err(f"backfill: {how}; what was stored is kept: run the same command to resume job {job}")
        for source in sources.values():
            source.close()  # analysis processes end here: the os._exit below skips the caller's `finally`
        _exit_now(143 if terminated else 130)
    return code


def _exit_now(code: int) -> None:
    """End the process without joining the fetch threads: one may sit in a request for timeout_s, or wait for
    the shared request budget, long after the run was told to stop. What was stored is committed already."""
    for stream in (sys.stdout, sys.stderr):
        # nobody may read it any more (a daemon killed -9 held our stdout's pipe): raising here would leave
        # the process running, for good when this is a deadline's thread
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if "multiprocessing" in sys.modules:  # its exit step unlinks the analysis queues' semaphores, which
        from multiprocessing import util  # os._exit skips: the resource tracker would warn of "leaked" ones

        gc.disable()  # a collection on another thread must not be unlinking one when os._exit comes
        util._exit_function()
    os._exit(code)


def _exit_within(seconds: float, what: str, out: Say) -> None:
    """From now on, end this process in `seconds` unless it has ended by itself (systemd's TimeoutStopSec, and
    its restart after kill -9, wait for every process of the unit), whatever it waits on: a database lock
    another process holds, a request. What was stored is committed; tasks in hand resume on the next start."""
    def expire() -> None:
        try:
            out(f"{what}: still stopping after {seconds:g} s; exiting now (what is left resumes on the next start)")
        finally:  # whatever the line met (a broken pipe), the process ends
            _exit_now(1)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.name = "stop-deadline"
    timer.start()


def _sigterm_like_ctrl_c() -> list[int]:
    """SIGTERM stops a backfill the way Ctrl-C does: tasks stay resumable, the summary is printed, analysis
    processes end. The list it returns fills when it came."""
    came: list[int] = []

    def on_term(signum: int, frame: object) -> None:
        came.append(signum)
        handler = signal.getsignal(signal.SIGINT)  # whatever hears Ctrl-C now (the analysis processes' watch)
        if callable(handler):
            handler(signal.SIGINT, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    return came


def plan_lines(plan: PlanTotals, source: Source) -> list[str]:
    """A dry run's two lines: the plan, and the summary line it would start from."""
    rpm = source.requests_per_minute
    requests = plan.requests * source.requests_per_fetch  # AEMET: envelope + datos per window
    est = estimate_s(requests, rpm, source.requests_per_day)
    return [f"{plan.source}: plan: {plan.total} slots, {plan.present} already stored, "
            f"{plan.known_missing} known missing (retry not due), {requests} requests"
            + (f", about {est:.0f} s at {rpm:g}/min" if rpm else ""),
            f"{summary_line(plan.source, plan.total, 0, plan.present, 0)} (dry run)"]


def run_job(settings: Settings, store: Store, job: int, out: Say) -> int:
    """Run what is left of a job here (`cielo jobs run`; the daemon does this in a child process for queued
    jobs). SIGTERM (the daemon stopping, or pausing it for a live run) finishes the chunk in hand."""
    jobs.reset_stuck(store)
    if other := jobs.running_elsewhere(store, job):  # e.g. the child of a daemon killed -9 is still at it
        out(f"job {job}: already being run by {other}; not starting a second worker")
        return 0
    row = jobs.job(store, job)
    names = row.sources if row else []
    reg = registry.REGISTRY
    sources = {n: reg[n](settings) for n in names if n in reg and reg[n].enabled(settings)}
    try:
        fetch = {n: source.workers for n, source in sources.items()}
        # start, every [backfill] progress_minutes and end: the daemon's log shows where a catch-up stands
        tracker = Tracker.for_job(store, job, sources, settings.backfill.progress_minutes * 60)
        runner = Runner(store, sources, settings.backfill.workers, fetch, tracker.update,
                        settings.backfill.max_attempts)

        def on_term(*_: object) -> None:
            runner.stop.set()
            signal.signal(signal.SIGTERM, lambda *_: runner.stop.set())  # a second SIGTERM keeps the first's clock
            _exit_within(STOP_DEADLINE_S, f"job {job}", out)

        signal.signal(signal.SIGTERM, on_term)
        tracker.start()
        status = runner.run(job)
        if runner.stop.is_set() and jobs.mark_interrupted(store, job):
            status = "interrupted"
        tracker.finish(status)
    finally:
        for source in sources.values():
            source.close()
    for line in jobs.summary_lines(store, job):
        out(line)
    out(f"job {job}: {status}")
    if runner.stop.is_set():  # stopped (the daemon gone or pausing it): a fetch thread must not keep it alive
        store.close()
        _exit_now(1)
    return 0 if status in ("completed", "partially_completed") else 1
