"""Wall-clock steps, seen against the monotonic clock, and a schedule recomputed after one.

APScheduler keeps each job's next run as a wall-clock time and sleeps (on the monotonic clock) until then. When
the wall clock steps back (NTP correcting a Pi that booted with a wrong clock), every next run lies that much
further ahead: the captures and the watchdog's pings stop for the size of the step (an hour, or years, and
systemd restarts a daemon whose watchdog went quiet). A thread compares the two clocks every few seconds; a
step back of more than `TOLERANCE_S` recomputes every job's next run from the new wall time, so a step costs
at most the capture due while it happened. A step forward needs nothing: due jobs run once (coalesced).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("cielo")

CHECK_EVERY_S = 2.0
TOLERANCE_S = 5.0  # NTP slews small errors; a difference this large between two looks is a step


def watch(on_step: Callable[[float], None], stopping: threading.Event, every_s: float = CHECK_EVERY_S,
          tolerance_s: float = TOLERANCE_S) -> threading.Thread:
    """Start a daemon thread calling `on_step(seconds)` (negative: back) when the wall clock jumps."""

    def run() -> None:
        offset = time.time() - time.monotonic()
        while not stopping.wait(every_s):
            now = time.time() - time.monotonic()
            step, offset = now - offset, now
            if abs(step) > tolerance_s:
                try:
                    on_step(step)
                except Exception as exc:  # the watch must outlive a failed reschedule
                    log.error("clock step: could not reschedule: %s", exc)

    thread = threading.Thread(target=run, name="clock-step", daemon=True)
    thread.start()
    return thread


def reschedule(scheduler: BaseScheduler, now: datetime) -> int:
    """Every job's next run computed afresh from `now` (aware); returns how many jobs moved."""
    moved = 0
    for job in scheduler.get_jobs():
        if job.next_run_time is None:  # paused
            continue
        trigger = job.trigger
        if isinstance(trigger, IntervalTrigger):  # its start date was fixed by the old clock: a new one
            fresh = IntervalTrigger(seconds=trigger.interval.total_seconds(), timezone=trigger.timezone)
            job.reschedule(fresh)
        elif isinstance(trigger, DateTrigger):  # a one-off still to run (the catch-up on start): now
            job.modify(next_run_time=now)
        else:
            nxt = trigger.get_next_fire_time(None, now)
            if nxt is None:
                continue
            job.modify(next_run_time=nxt)
        moved += 1
    scheduler.wakeup()
    return moved


def describe(step_s: float) -> str:
    days = abs(step_s) / 86400
    return f"{days:.0f} days" if days >= 2 else str(timedelta(seconds=round(abs(step_s))))
