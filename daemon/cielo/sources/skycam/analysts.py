"""Judging camera images in worker processes, for a backfill run by hand (`cielo backfill --processes N`).

Decoding a frame and the lens, sun and star analysis are many small numpy calls that hold the GIL: however
many fetch threads a backfill has, they judge on one core (a 14-day loopback backfill used 1.2 of this
machine's 2 cores, and a Pi has 4). Here each fetched JPEG goes, as bytes, to one of N processes that each
hold the model; the verdict comes back. Fetching, the request budget, the breaker and the store stay in the
backfill's own process, so nothing about them changes.

The processes are spawned (not forked: the backfill has threads, and a fork copies their locks mid-use) all at
once when the command starts, with SIGINT blocked: Ctrl-C stops the backfill in its own process, which then
ends them, instead of each printing a traceback. Each one also ends when its parent is gone (kill -9), rather
than wait on a queue nobody writes to; one that dies costs only the images it held. The daemon never uses
them: its catch-up and live captures judge in-process, inside the memory budget of a Pi Zero
(bench/daemon_tree.py). docs/design.md, "Speed and memory on a Pi", has the figures.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cielo.http import FetchError

if TYPE_CHECKING:
    from cielo.sources.skycam.model import OctaModel, Verdict

log = logging.getLogger("cielo")

_model: OctaModel | None = None  # in a worker process: its own model ...
_failure: Exception | None = None  # ... or why it could not load one (raised for every image, as in-process)


@dataclass(frozen=True, slots=True)
class Judged:
    verdict: Verdict
    model: str  # the model's version
    calibration: str | None  # the site calibration's ident, when one was used


class Analysts:
    """N processes that decode and judge JPEG bytes. `submit` returns at once (a fetch thread goes on to its
    next request); the backfill's writer collects the verdicts in order (`result`)."""

    def __init__(self, processes: int, model: Path | None, calibration: Path | None, latitude: float,
                 longitude: float):
        self.processes = processes
        self.latitude, self.longitude = latitude, longitude
        self._args = (model, calibration, os.getpid())
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._used = False
        self._closed = False

    def start(self) -> Analysts:
        """Spawn the processes now: they import and load the model while the backfill plans and fetches."""
        self._started()
        return self

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                # a fetch thread that outlived an interrupted backfill: its answer is abandoned; starting
                # processes now would race the interpreter's exit
                raise FetchError("the backfill is stopping", kind="interrupted")
            if self._pool is None:
                from cielo.service.memory import lean_malloc

                lean_malloc()  # before the pool's own threads (its manager, the queue's feeder) first allocate
                pool = ProcessPoolExecutor(self.processes, multiprocessing.get_context("spawn"),
                                           initializer=_start, initargs=self._args)
                self._pool = pool  # before the spawning, which may fail: `close` then ends what did start
                # ProcessPoolExecutor spawns a process per submit while none is idle: these start all of them
                # now, from this thread, with SIGINT blocked, which a spawned process inherits: Ctrl-C stops the
                # backfill in its own process, which then ends them, and never prints a traceback from each.
                blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
                try:
                    for _ in range(self.processes):
                        pool.submit(_ready)
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            return self._pool

    def submit(self, body: bytes, slot: datetime) -> Future[Judged]:
        self._used = True
        pool = self._started()
        try:
            return pool.submit(_judge, body, slot, self.latitude, self.longitude)
        except BrokenProcessPool:
            # A process died (killed, or a decoder crashed on some image): the images it and its siblings
            # held fail (`result`), and the rest of the backfill goes on with new processes.
            with self._lock:
                if self._pool is pool:
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = None
            return self._started().submit(_judge, body, slot, self.latitude, self.longitude)

    @staticmethod
    def result(pending: Future[Judged]) -> Judged:
        """A submitted image's verdict; ImageError when it is not a readable image, FetchError when its
        process died (a decoder that crashes ends that process, never the backfill)."""
        try:
            return pending.result()
        except BrokenProcessPool as exc:
            _say_died(exc)
            raise FetchError("the image's analysis process died (see the warning 'an analysis process died' "
                             "logged with it)", transient=False, kind="analysis process died") from None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._pool is None:
                return
            if not self._used:
                # Nothing to judge (every slot held): end them now rather than wait for them to finish
                # loading the model only to stop. ProcessPoolExecutor has no public way to; this attribute has
                # been there since Python 3.2, and without it they are waited for.
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.kill()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_died_said = 0.0
DIED_SAY_EVERY_S = 60.0


def _say_died(exc: BaseException) -> None:
    """The line the failed images' error points at: once a minute at most (one death fails several images)."""
    global _died_said
    now = time.monotonic()
    if now - _died_said < DIED_SAY_EVERY_S and _died_said:
        return
    _died_said = now
    log.warning("an analysis process died (%s): killed (the OOM killer: see `journalctl -k`), or its image "
                "decoder crashed; the images it held fail and new processes take over", exc)


def _start(model: Path | None, calibration: Path | None, parent: int) -> None:
    global _model, _failure
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # and drops a Ctrl-C left pending while it was blocked
    from cielo.errors import CieloError
    from cielo.service.memory import lean_malloc
    from cielo.sources.skycam.calibration import load_site
    from cielo.sources.skycam.model import OctaModel

    lean_malloc()
    try:
        _model = OctaModel(model, calibration=load_site(calibration))
    except CieloError as exc:  # an initializer that raises breaks the pool with a traceback: say it per image
        _failure = exc
    threading.Thread(target=_orphaned, args=(parent,), daemon=True, name="parent-watch").start()


def _orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)  # the backfill is gone: nobody will read a verdict


def _ready() -> bool:
    return _model is not None


def _judge(body: bytes, slot: datetime, latitude: float, longitude: float) -> Judged:
    if _model is None:
        raise _failure or RuntimeError("the analysis process has no model")
    frame = _model.decode(body)
    verdict = _model.judge([frame], [slot], latitude, longitude)[0]
    cal = _model.calibration
    return Judged(verdict, _model.version, None if cal is None else cal.ident)
