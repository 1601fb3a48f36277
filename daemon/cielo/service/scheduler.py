"""`cielo run`: the live loop. APScheduler fires each enabled source's job at its cron times.

Each job runs `cielo ingest --source S` in a child process. The daemon itself stays small and never loads
numpy, Pillow or onnxruntime (the model alone is ~40 MB resident), and a hung or crashing classification
cannot take the loop down: the child is killed at its time limit and the next run goes on. A capture every
10 minutes costs a child start (~0.4 s CPU), well under 1 % of a core.

Under systemd it speaks the notify protocol (cielo.service.notify): READY=1 once the store and scheduler are up,
STATUS= after each run, WATCHDOG=1 from a scheduler job that also proves a database write goes through
(so a hung scheduler or a stuck database leads to a restart, a long live run does not), STOPPING=1 on exit.
A wall clock that steps back is noticed against the monotonic clock and every next run recomputed
(cielo.service.clockstep): captures and watchdog pings go on, at most the capture due meanwhile is missed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from cielo.config import Settings
from cielo.errors import CieloError
from cielo.service import clock, clockstep
from cielo.service.child import parent_env
from cielo.service.memory import CHILD_ENV
from cielo.service.notify import Notifier, watchdog_interval_s
from cielo.service.runtime import open_store
from cielo.sources import registry
from cielo.sources.registry import REGISTRY
from cielo.store import StoreError
from cielo.timeutil import iso, utcnow

log = logging.getLogger("cielo")

JOB_TIMEOUT_S = 600  # a live run that takes longer than this is stuck
JOBS_POLL_S = 30  # how soon a job queued with `cielo backfill --detach` starts
CHECKPOINT_EVERY_S = 3600  # keep the WAL file from growing between SQLite's automatic checkpoints


def cielo_command(config: Path | None, *args: str) -> list[str]:
    """This same cielo, with the same config file, as a child process."""
    cmd = [sys.executable, "-m", "cielo"]
    if config is not None:
        cmd += ["--config", str(config)]
    return [*cmd, *args]


class Daemon:
    def __init__(self, settings: Settings, notifier: Notifier | None = None):
        self.settings = settings
        self.store = open_store(settings)
        self.notifier = notifier or Notifier()
        self.publisher = self._publisher()
        self.safety, self.alpaca = self._observatory()
        self.stopping = threading.Event()
        self.children: dict[subprocess.Popen, str] = {}
        self._lock = threading.Lock()
        # One child at a time, live runs first (see _turn): a catch-up child with the model loaded (~100 MB)
        # and a live capture child (~90 MB) side by side would double the tree's memory on a 512 MB Pi.
        self._turns = threading.Condition(self._lock)
        self._live_waiting = 0
        self._preempted: set[subprocess.Popen] = set()
        self._clock_problem: str | None = None
        self._jobs_lock = threading.Lock()
        self.scheduler = BlockingScheduler(
            timezone="UTC",
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300},
        )
        for name, cls in REGISTRY.items():
            if not cls.enabled(settings):
                continue
            self.scheduler.add_job(self.run_source, CronTrigger(**cls.schedule(settings)), args=(name,),
                                   id=name, name=f"{name} live")
            # One run right away: a board that just booted should report now, not at the next slot.
            self.scheduler.add_job(self.run_source, args=(name,), id=f"{name}-start", name=f"{name} on start")
            upkeep = registry.maintenance(cls, settings)
            if upkeep is not None:  # the source's own periodic command (SourceExtras.maintenance)
                fields, command = upkeep
                self.scheduler.add_job(self.run_maintenance, CronTrigger(**fields), args=(name, command),
                                       id=f"{name}-maintenance", name=f"{name} maintenance")
        self.scheduler.add_job(self.checkpoint, "interval", seconds=CHECKPOINT_EVERY_S, id="checkpoint",
                               name="database checkpoint")
        # Gaps: a catch-up right away (before the live jobs are due), then a check every few hours that acts
        # only when some series lags; queued jobs (catch-ups, `cielo backfill --detach`) run one at a time.
        b = settings.backfill
        if b.on_startup:
            self.scheduler.add_job(self.catch_up, args=("on_boot", None), id="catch-up-start",
                                   name="catch-up on start")
        self.scheduler.add_job(self.catch_up, "interval", hours=b.check_every_hours,
                               args=("periodic", timedelta(hours=b.min_gap_hours)), id="catch-up",
                               name="gap check")
        self.scheduler.add_job(self.run_jobs, "interval", seconds=JOBS_POLL_S, id="jobs", name="queued jobs")
        interval = watchdog_interval_s()
        if interval:
            self.scheduler.add_job(self.heartbeat, "interval", seconds=interval, id="watchdog", name="watchdog")
        self.scheduler.add_listener(self._started, EVENT_SCHEDULER_STARTED)

    def _publisher(self):
        """The MQTT publisher thread, or None when MQTT is off."""
        if not self.settings.mqtt.enabled:
            return None
        from cielo.latest import LatestState
        from cielo.outputs.mqtt.publisher import Publisher

        return Publisher(self.settings, self.store, self.store.announcer, LatestState(self.settings, self.store))

    def _observatory(self):
        """The safety monitor (always: Home Assistant's safety sensor reads it) and the Alpaca server (only
        when enabled: otherwise no socket at all)."""
        from cielo.safety.watch import SafetyWatch

        safety = SafetyWatch(self.settings, self.store)
        if not self.settings.alpaca.enabled:
            return safety, None
        from cielo.outputs.alpaca.server import AlpacaServer

        cfg = self.settings.alpaca
        try:
            return safety, AlpacaServer(self.settings, safety)
        except OSError as exc:
            raise CieloError(f"alpaca: cannot listen on {cfg.bind} port {cfg.port}: {exc.strerror or exc} "
                             "(another program uses it? set [alpaca].port)") from None

    # -- jobs ---------------------------------------------------------------------------------------------
    def run_source(self, name: str) -> None:
        """One live run in a child process; its output lines become this daemon's log lines."""
        if self.stopping.is_set() or not self._clock_ok():
            return
        self._child(name, cielo_command(self.settings.path, "ingest", "--source", name), timeout=JOB_TIMEOUT_S,
                    live=True)

    def run_maintenance(self, name: str, command: tuple[str, ...]) -> None:
        """A source's upkeep command (SourceExtras.maintenance) in a child process, after any live run."""
        if self.stopping.is_set() or not self._clock_ok():
            return
        self._child(f"{name} maintenance", cielo_command(self.settings.path, *command), timeout=JOB_TIMEOUT_S)

    def _turn(self, live: bool) -> bool:
        """Wait (holding self._lock) until no other child runs. A live run asks a running job child to stop
        (SIGTERM: it finishes the batch in hand, its tasks stay resumable and `run_jobs` starts it again
        after the live run), so a capture waits only for that, never for a whole catch-up; a job child
        waits while live runs are queued. False when the daemon is stopping."""
        if live:
            self._live_waiting += 1
        try:
            while not self.stopping.is_set():
                if not self.children and (live or not self._live_waiting):
                    return True
                if live:
                    for child, what in self.children.items():
                        if what.startswith("job ") and child not in self._preempted:
                            self._preempted.add(child)
                            child.terminate()
                self._turns.wait(0.5)
            return False
        finally:
            if live:
                self._live_waiting -= 1

    def _child(self, what: str, cmd: list[str], timeout: float | None, live: bool = False) -> bool:
        """Run one child process to its end; False when it was stopped to let a live run go first."""
        with self._lock:
            if not self._turn(live):
                return True
            try:
                # The children's allocator favours memory over a few percent of CPU (cielo.service.memory says why).
                # It follows the daemon out, even after kill -9 (cielo.service.child says why not by preexec_fn).
                child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                         env={**os.environ, **CHILD_ENV, **parent_env()})
            except OSError as exc:
                log.error("%s: cannot start: %s", what, exc)
                return True
            self.children[child] = what
        try:
            out, _ = child.communicate(timeout=timeout)
            with self._lock:
                paused = child in self._preempted
            if paused:
                out += f"{what}: paused for a live run, goes on after it\n"
            level = logging.INFO if child.returncode == 0 or paused else logging.WARNING
            for line in out.splitlines():
                log.log(level, "%s", line)
            if out.strip():
                self.notifier.status(out.strip().splitlines()[-1])
            if child.returncode not in (0, 1) and not self.stopping.is_set() and not paused:
                log.error("%s: exited with status %s", what, child.returncode)
            if self.publisher is not None:
                self.publisher.poke()
            self.safety.poke()
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            log.error("%s: stuck for %d s, killed", what, timeout)
        finally:
            with self._lock:
                self.children.pop(child, None)
                preempted = child in self._preempted
                self._preempted.discard(child)
                self._turns.notify_all()
        return not preempted

    def catch_up(self, trigger: str, min_lag: timedelta | None) -> None:
        """Queue a job for every gap of every enabled source (cielo.backfill.catch_up), then run queued jobs."""
        if self.stopping.is_set() or not self._clock_ok():
            return
        from cielo.backfill import jobs
        from cielo.backfill.catch_up import catch_up

        sources = {n: cls(self.settings) for n, cls in REGISTRY.items() if cls.enabled(self.settings)}
        try:
            jobs.reset_stuck(self.store)
            catch_up(self.store, sources, trigger, timedelta(days=self.settings.backfill.lookback_days),
                          utcnow(), min_lag)
        finally:
            for source in sources.values():
                source.close()
        self.run_jobs()

    def run_jobs(self) -> None:
        """Each open job in a child process (`cielo jobs run ID`), one after another, in this thread."""
        if self.stopping.is_set() or not self._jobs_lock.acquire(blocking=False):
            return
        try:
            from cielo.backfill import jobs

            for job in jobs.open_jobs(self.store):
                # A job stopped for a live run goes on from where it stopped once that run is done.
                while not self.stopping.is_set():
                    done = self._child(f"job {job}", cielo_command(self.settings.path, "jobs", "run", str(job)),
                                       timeout=None)
                    if done or job not in jobs.open_jobs(self.store):
                        break
        finally:
            self._jobs_lock.release()

    def _clock_ok(self) -> bool:
        problem = clock.problem(self.store, utcnow())
        if problem != self._clock_problem:
            if problem:
                log.warning("%s", problem)
                self.notifier.status(problem)
            else:
                log.info("the clock is sane again (%s)", iso(utcnow()))
            self._clock_problem = problem
        return problem is None

    def heartbeat(self) -> None:
        """WATCHDOG=1 only when this scheduler ran us on time and a database write went through."""
        try:
            self.store.set_state("heartbeat", iso(utcnow()))
        except StoreError as exc:
            if "full" not in str(exc):  # a full disk is logged elsewhere; a stuck database is not alive
                log.error("watchdog: database write failed: %s", exc)
                return
        self.notifier.watchdog()

    def clock_stepped(self, step_s: float) -> None:
        if step_s > 0:  # forward: what is due now runs once (coalesced); nothing to recompute
            log.info("the wall clock stepped forward by %s", clockstep.describe(step_s))
            return
        moved = clockstep.reschedule(self.scheduler, utcnow())
        log.warning("the wall clock stepped back by %s: next runs of %d job(s) recomputed from %s",
                    clockstep.describe(step_s), moved, iso(utcnow()))

    def checkpoint(self, mode: str = "TRUNCATE") -> None:
        try:
            self.store.checkpoint(mode)
        except (sqlite3.Error, StoreError) as exc:
            log.warning("database checkpoint failed: %s", exc)

    # -- life ---------------------------------------------------------------------------------------------
    def _started(self, _event: object) -> None:
        if self.stopping.is_set():  # SIGTERM came before the scheduler ran: stop now, not never
            self.scheduler.shutdown(wait=False)
            return
        jobs = [j.name for j in self.scheduler.get_jobs() if j.id in REGISTRY]
        self.notifier.ready(f"running: {', '.join(jobs) or 'no sources enabled'}")

    def stop(self, signum: int, _frame: object) -> None:
        # A signal handler runs on the main thread between two bytecodes, possibly while the scheduler there
        # holds a lock (submitting a job, writing a log line): shutting down from here could deadlock. It
        # only records the signal; _watch stops the scheduler from its own thread.
        # From the first signal on, SIGTERM is ignored, also while the interpreter exits (which would restore
        # the default action: a second `systemctl stop` would turn a clean exit 0 into death by signal).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self._signal = signum
        self.stopping.set()

    def _watch(self) -> None:
        self.stopping.wait()
        log.info("received %s, stopping", signal.Signals(self._signal).name if self._signal else "a stop")
        self.notifier.stopping()
        with contextlib.suppress(SchedulerNotRunningError):  # not started yet: _started stops it
            self.scheduler.shutdown(wait=False)

    def run(self) -> int:
        self._signal: int | None = None
        threading.Thread(target=self._watch, name="stop", daemon=True).start()
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        jobs = [j.name for j in self.scheduler.get_jobs() if j.id in REGISTRY]
        log.info("cielo started: database %s, jobs: %s, mqtt %s", self.settings.storage.database,
                 ", ".join(jobs) or "none (every source is disabled)",
                 f"{self.settings.mqtt.host}:{self.settings.mqtt.port}" if self.publisher else "disabled")
        if self.publisher is not None:
            self.publisher.start()
        self.safety.start()
        if self.alpaca is not None:
            self.alpaca.start()
        clockstep.watch(self.clock_stepped, self.stopping)
        if not self.stopping.is_set():
            try:
                self.scheduler.start()  # blocks until stop()
            except JobLookupError:
                # The stop thread's shutdown empties the job store; a loop settling a one-off job (the run on
                # start) at that moment finds it gone. A stop, not a failure.
                if not self.stopping.is_set():
                    raise
        # A backfill job stops at once (its tasks resume on the next start); a live run in progress finishes
        # its write: it gets SIGTERM only after a grace period.
        with self._lock:
            children = list(self.children.items())
        for child, what in children:
            if what.startswith("job "):
                child.terminate()
        for child, _ in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:  # systemd would SIGKILL the whole unit at TimeoutStopSec
                child.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=5)
        if self.alpaca is not None:
            self.alpaca.stop()
        self.safety.stop()
        if self.publisher is not None:
            self.publisher.stop()  # after the children: what they stored last is published first
        self.checkpoint("PASSIVE")  # on the way out: never wait for other connections
        self.store.close()
        log.info("cielo stopped")
        return 0


def run_daemon(settings: Settings) -> int:
    """`cielo run`: one daemon per database (a second one stops at the lock); the database is created,
    migrated and checked first, so a bad file stops the start rather than a job."""
    from cielo.errors import damaged
    from cielo.service.lock import DaemonLock

    with DaemonLock(settings.storage.database):
        with open_store(settings) as store:
            damage = store.quick_check()
            if damage != "ok":
                raise damaged(store.path, damage)
        registry.preflight(settings)
        return Daemon(settings).run()
