"""`cielo run`: the live loop. APScheduler fires each enabled source's job at its cron times.

Each job runs `cielo ingest --source S` in a child process. The daemon itself stays small and never loads
numpy, Pillow or onnxruntime (the model alone is ~40 MB resident), and a hung or crashing classification
cannot take the loop down: the child is killed at its time limit and the next run goes on. A capture every
10 minutes costs a child start (~0.4 s CPU), well under 1 % of a core.

Under systemd it speaks the notify protocol (cielo.notify): READY=1 once the store and scheduler are up,
STATUS= after each run, WATCHDOG=1 from a scheduler job that also proves a database write goes through
(so a hung scheduler or a stuck database leads to a restart, a long live run does not), STOPPING=1 on exit.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from cielo import clock
from cielo.config import Settings
from cielo.notify import Notifier, watchdog_interval_s
from cielo.runtime import open_store
from cielo.sources import REGISTRY
from cielo.store import StoreError
from cielo.timeutil import iso, utcnow

log = logging.getLogger("cielo")

JOB_TIMEOUT_S = 600  # a live run that takes longer than this is stuck
CHECKPOINT_EVERY_S = 3600  # keep the WAL file from growing between SQLite's automatic checkpoints


def ingest_command(config: Path | None, source: str) -> list[str]:
    cmd = [sys.executable, "-m", "cielo"]
    if config is not None:
        cmd += ["--config", str(config)]
    return [*cmd, "ingest", "--source", source]


class Daemon:
    def __init__(self, settings: Settings, notifier: Notifier | None = None):
        self.settings = settings
        self.store = open_store(settings)
        self.notifier = notifier or Notifier()
        self.publisher = self._publisher()
        self.stopping = threading.Event()
        self.children: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._clock_problem: str | None = None
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
        self.scheduler.add_job(self.checkpoint, "interval", seconds=CHECKPOINT_EVERY_S, id="checkpoint",
                               name="database checkpoint")
        interval = watchdog_interval_s()
        if interval:
            self.scheduler.add_job(self.heartbeat, "interval", seconds=interval, id="watchdog", name="watchdog")
        self.scheduler.add_listener(self._started, EVENT_SCHEDULER_STARTED)

    def _publisher(self):
        """The MQTT publisher thread, or None when MQTT is off."""
        if not self.settings.mqtt.enabled:
            return None
        from cielo import status
        from cielo.mqtt.publisher import Publisher

        return Publisher(self.settings, self.store, self.store.announcer,
                         lambda now: status.summary(self.settings, self.store, now))

    # -- jobs ---------------------------------------------------------------------------------------------
    def run_source(self, name: str) -> None:
        """One live run in a child process; its output lines become this daemon's log lines."""
        if self.stopping.is_set() or not self._clock_ok():
            return
        cmd = ingest_command(self.settings.path, name)
        try:
            child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        except OSError as exc:
            log.error("%s: cannot start a live run: %s", name, exc)
            return
        with self._lock:
            self.children.add(child)
        try:
            out, _ = child.communicate(timeout=JOB_TIMEOUT_S)
            level = logging.INFO if child.returncode == 0 else logging.WARNING
            for line in out.splitlines():
                log.log(level, "%s", line)
            if out.strip():
                self.notifier.status(out.strip().splitlines()[-1])
            if child.returncode not in (0, 1) and not self.stopping.is_set():
                log.error("%s: live run exited with status %s", name, child.returncode)
            if self.publisher is not None:
                self.publisher.poke()
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            log.error("%s: live run stuck for %d s, killed", name, JOB_TIMEOUT_S)
        finally:
            with self._lock:
                self.children.discard(child)

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

    def checkpoint(self, mode: str = "TRUNCATE") -> None:
        try:
            self.store.query(f"PRAGMA wal_checkpoint({mode})")
        except sqlite3.Error as exc:
            log.warning("database checkpoint failed: %s", exc)

    # -- life ---------------------------------------------------------------------------------------------
    def _started(self, _event: object) -> None:
        jobs = [j.name for j in self.scheduler.get_jobs() if j.id in REGISTRY]
        self.notifier.ready(f"running: {', '.join(jobs) or 'no sources enabled'}")

    def stop(self, signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        self.notifier.stopping()
        self.stopping.set()
        self.scheduler.shutdown(wait=False)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        jobs = [j.name for j in self.scheduler.get_jobs() if j.id in REGISTRY]
        log.info("cielo started: database %s, jobs: %s, mqtt %s", self.settings.storage.database,
                 ", ".join(jobs) or "none (every source is disabled)",
                 f"{self.settings.mqtt.host}:{self.settings.mqtt.port}" if self.publisher else "disabled")
        if self.publisher is not None:
            self.publisher.start()
        self.scheduler.start()  # blocks until stop()
        # A live run in progress finishes its write: children get SIGTERM only after a grace period.
        with self._lock:
            children = list(self.children)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.terminate()
        if self.publisher is not None:
            self.publisher.stop()  # after the children: what they stored last is published first
        self.checkpoint("PASSIVE")  # on the way out: never wait for other connections
        self.store.close()
        log.info("cielo stopped")
        return 0
