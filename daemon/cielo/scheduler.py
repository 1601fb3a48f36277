"""`cielo run`: the live loop. APScheduler fires each enabled source's job at its cron times.

Each job runs `cielo ingest --source S` in a child process. The daemon itself stays small and never loads
numpy, Pillow or onnxruntime (the model alone is ~40 MB resident), and a hung or crashing classification
cannot take the loop down: the child is killed at its time limit and the next run goes on. A capture every
10 minutes costs a child start (~0.4 s CPU), well under 1 % of a core.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from cielo.config import Settings
from cielo.sources import REGISTRY

log = logging.getLogger("cielo")

JOB_TIMEOUT_S = 600  # a live run that takes longer than this is stuck


def _publisher(settings: Settings):
    """The MQTT publisher thread with its own store connection, or None when MQTT is off."""
    if not settings.mqtt.enabled:
        return None
    from cielo import status
    from cielo.mqtt.publisher import Publisher
    from cielo.runtime import announcer, open_store

    store = open_store(settings)
    return Publisher(settings, store, announcer(settings), lambda now: status.summary(settings, store, now))


def ingest_command(config: Path | None, source: str) -> list[str]:
    cmd = [sys.executable, "-m", "cielo"]
    if config is not None:
        cmd += ["--config", str(config)]
    return [*cmd, "ingest", "--source", source]


class Daemon:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.publisher = _publisher(settings)
        self.stopping = threading.Event()
        self.children: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
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

    def run_source(self, name: str) -> None:
        """One live run in a child process; its output lines become this daemon's log lines."""
        if self.stopping.is_set():
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
            if self.publisher is not None:
                self.publisher.poke()
            if child.returncode not in (0, 1) and not self.stopping.is_set():
                log.error("%s: live run exited with status %s", name, child.returncode)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            log.error("%s: live run stuck for %d s, killed", name, JOB_TIMEOUT_S)
        finally:
            with self._lock:
                self.children.discard(child)

    def stop(self, signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        self.stopping.set()
        self.scheduler.shutdown(wait=False)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        jobs = [j.name for j in self.scheduler.get_jobs() if not j.id.endswith("-start")]
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
        log.info("cielo stopped")
        return 0
