"""Judging camera images in worker processes, for a backfill run by hand (`cielo backfill --processes N`).

Decoding a frame and the lens, sun and star analysis are many small numpy calls that hold the GIL: however
many fetch threads a backfill has, they judge on one core (a 14-day loopback backfill used 1.2 of this
machine's 2 cores, and a Pi has 4). Here each fetched JPEG goes, as bytes, to one of N processes that each
hold the model; the verdict comes back. Fetching, the request budget, the breaker and the store stay in the
backfill's own process, so nothing about them changes.

The processes are spawned (not forked: the backfill has threads, and a fork copies their locks mid-use) all at
once with the first image to judge, with SIGINT blocked: Ctrl-C stops the backfill in its own process, which then
ends them, instead of each printing a traceback. Each one also ends when its parent is gone (kill -9), rather
than wait on a queue nobody writes to; one that dies costs only the images it held. The daemon never uses
them: its catch-up and live captures judge in-process, inside the memory budget of a Pi Zero
(bench/daemon_tree.py). docs/design.md, "Speed and memory on a Pi", has the figures.

Nothing here waits forever. A process that stops answering (SIGSTOP, a decoder stuck in a loop, a pipe nobody
drains) would hold the backfill for good: when images wait and no verdict has come for `stall_s`, the
processes are killed, the images they held fail (one line says so) and new processes take the rest. Ctrl-C
(and SIGTERM, which `cielo backfill` turns into the same) gives verdicts in flight a moment, then kills them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cielo.http import FetchError

if TYPE_CHECKING:
    from cielo.sources.skycam.model import OctaModel, Verdict

log = logging.getLogger("cielo")

STALL_S = 120.0  # default: far over a model load on a Pi Zero 2 W (the first verdict waits for it)
POLL_S = 0.25  # how often a waiting thread looks at the deadline and for a Ctrl-C
JOIN_S = 2.0  # how long `close` waits for a pool's own thread once its processes are gone
GRACE_S = 2.0  # after Ctrl-C, how long verdicts in flight are awaited before their processes are killed

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
                 longitude: float, stall_s: float = STALL_S):
        self.processes = processes
        self.latitude, self.longitude = latitude, longitude
        self.stall_s = stall_s
        self._args = (model, calibration, os.getpid())
        self._pool: ProcessPoolExecutor | None = None
        self._spawned = False
        self._lock = threading.Lock()
        self._used = False
        self._closed = False
        self._outstanding = 0  # images submitted and not judged yet
        self._heard = time.monotonic()  # the last verdict, or the submit that ended a quiet spell
        self._stalled: set[int] = set()  # ids of pools killed for want of progress: their images say so
        self._interrupted: float | None = None  # monotonic time of a Ctrl-C
        self._ended: list[ProcessPoolExecutor] = []  # pools killed on the way: `close` still reaps them
        self._held: list[tuple] = []  # what `_let_go` keeps of pools it shut down: see there

    def start(self) -> Analysts:
        """Make the pool now (its queues' semaphores need a writable /dev/shm: where there is none, the
        OSError comes here, at start), and hear Ctrl-C. The processes themselves start with the first image:
        a backfill with nothing to judge (every slot held, every answer refused) never pays for them."""
        self._pool_now(spawn=False)
        if threading.current_thread() is threading.main_thread():
            before = signal.getsignal(signal.SIGINT)

            def interrupted(signum: int, frame: object) -> None:
                self._interrupted = self._interrupted or time.monotonic()
                if callable(before):
                    before(signum, frame)
                else:
                    raise KeyboardInterrupt

            signal.signal(signal.SIGINT, interrupted)
        return self

    def _pool_now(self, spawn: bool) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed or (self._interrupted and self._pool is None):
                # a fetch thread that outlived an interrupted backfill: its answer is abandoned; starting
                # processes now would race the interpreter's exit
                raise FetchError("the backfill is stopping", kind="interrupted")
            if self._pool is None:
                from cielo.service.memory import lean_malloc

                lean_malloc()  # before the pool's own threads (its manager, the queue's feeder) first allocate
                self._pool = ProcessPoolExecutor(self.processes, multiprocessing.get_context("spawn"),
                                                 initializer=_start, initargs=self._args)
                self._spawned = False
            if spawn and not self._spawned:
                self._spawned = True  # before the spawning, which may fail: `close` then ends what did start
                # ProcessPoolExecutor spawns a process per submit while none is idle: these start all of them
                # now, from this thread, with SIGINT blocked, which a spawned process inherits: Ctrl-C stops the
                # backfill in its own process, which then ends them, and never prints a traceback from each.
                blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
                try:
                    for _ in range(self.processes):
                        self._pool.submit(_ready)
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                self._heard = time.monotonic()  # the model loads before the first verdict
            return self._pool

    def submit(self, body: bytes, slot: datetime) -> Future[Judged]:
        self._used = True
        pool = self._pool_now(spawn=True)
        try:
            fut = pool.submit(_judge, body, slot, self.latitude, self.longitude)
        except BrokenProcessPool:
            # A process died (killed, or a decoder crashed on some image): the images it and its siblings
            # held fail (`result`), and the rest of the backfill goes on with new processes.
            self._discard(pool)
            pool = self._pool_now(spawn=True)
            fut = pool.submit(_judge, body, slot, self.latitude, self.longitude)
        fut.pool_id = id(pool)  # type: ignore[attr-defined]
        with self._lock:
            if not self._outstanding:
                self._heard = time.monotonic()  # a quiet spell (a slow camera) is no stall
            self._outstanding += 1
        fut.add_done_callback(self._verdict)
        return fut

    def _verdict(self, _fut: Future[Judged]) -> None:
        with self._lock:
            self._outstanding -= 1
            self._heard = time.monotonic()

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
                self._ended.append(pool)  # `close` reaps it
        self._let_go(pool)

    def result(self, pending: Future[Judged]) -> Judged:
        """A submitted image's verdict; ImageError when it is not a readable image, FetchError when its
        process died (a decoder that crashes ends that process, never the backfill), stalled, or the backfill
        was interrupted. Waits in short steps, watching the progress deadline."""
        while True:
            try:
                return pending.result(timeout=POLL_S)
            except TimeoutError:
                self._check_progress()
                if getattr(pending, "pool_id", None) in self._stalled:
                    # its processes were ended, and the pool may never fail it: a result half-written by a
                    # stopped process leaves the pool's own thread reading it forever
                    raise self._stalled_error() from None
            except (BrokenProcessPool, CancelledError) as exc:
                if getattr(pending, "pool_id", None) in self._stalled:
                    raise self._stalled_error() from None
                if self._interrupted:
                    raise FetchError("the backfill is stopping", kind="interrupted") from None
                _say_died(exc)
                raise FetchError("the image's analysis process died (see the warning 'an analysis process died' "
                                 "logged with it)", transient=False, kind="analysis process died") from None

    def _stalled_error(self) -> FetchError:
        return FetchError(f"no verdict from the analysis processes for {self.stall_s:g} s; they were ended",
                          transient=False, kind="analysis stalled")

    def _check_progress(self) -> None:
        now = time.monotonic()
        if self._interrupted and now - self._interrupted > GRACE_S:
            self._end(self._pool, None)
            return
        with self._lock:
            pool, quiet = self._pool, now - self._heard
            stalled = pool is not None and self._outstanding and quiet > self.stall_s
        if stalled:
            self._end(pool, f"skycam: no verdict from the {self.processes} analysis process(es) for {quiet:.0f} s "
                            "(one stopped or stuck?): ended them; the images they held fail, new ones go on")

    def _end(self, pool: ProcessPoolExecutor | None, why: str | None) -> None:
        """Kill a pool's processes (a stopped one too) at once; what they held fails in `result`."""
        with self._lock:
            if pool is None or self._pool is not pool:
                return  # another thread got there first
            self._pool = None
            self._ended.append(pool)
            if why is not None:
                self._stalled.add(id(pool))
                self._heard = time.monotonic()
        if why is not None:
            log.warning("%s", why)
        _kill(pool)
        self._let_go(pool)

    def _let_go(self, pool: ProcessPoolExecutor) -> None:
        """shutdown(wait=False): the pool forgets its queues at once, and its manager thread, on its way out,
        drops the last reference to them. Their semaphores' finalizers would then run on that dying thread, and
        the exit after Ctrl-C (os._exit) could cut one between unlinking a semaphore and telling the resource
        tracker, which then warns of a "leaked" semaphore. So the thread and the queues are held here until
        `close` has joined the thread, and let go on the thread that closes."""
        held = tuple(getattr(pool, name, None) for name in ("_executor_manager_thread", "_call_queue",
                                                             "_result_queue"))
        with self._lock:
            self._held.append(held)
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """End the processes: those still judging get a few seconds (after Ctrl-C, or when nothing was ever
        submitted, none), then are killed, so that closing never waits on a stopped or stuck process."""
        with self._lock:
            self._closed = True
            pools = [*self._ended, *([self._pool] if self._pool is not None else [])]
            self._pool, self._ended = None, []
        if not pools:
            return
        # Nothing to judge (every slot held), or interrupted: end them now rather than wait for them to finish
        # loading the model only to stop.
        deadline = time.monotonic() + (0.0 if not self._used or self._interrupted else 5.0)
        for pool in pools:
            processes = _processes(pool)  # before shutdown, which forgets them
            results = getattr(pool, "_result_queue", None)
            self._let_go(pool)
            killed = False
            for process in processes:
                process.join(max(deadline - time.monotonic(), 0))
                if process.is_alive():
                    process.kill()  # SIGKILL ends a stopped process too
                    killed = True
            if killed:
                _unblock_results(results)
        with self._lock:
            held, self._held = self._held, []
        for thread, *_ in held:
            if thread is not None and thread.is_alive():
                thread.join(max(deadline - time.monotonic(), 0) + JOIN_S)
        held.clear()  # the queues' semaphores are unlinked here, on this thread



def _processes(pool: ProcessPoolExecutor) -> list:
    # ProcessPoolExecutor has no public way to end its processes; this attribute has been there since
    # Python 3.2 (shutdown sets it to None), and without it a stopped process is waited for forever.
    return list((getattr(pool, "_processes", None) or {}).values())


def _kill(pool: ProcessPoolExecutor) -> None:
    for process in _processes(pool):
        if process.is_alive():
            process.kill()
    _unblock_results(getattr(pool, "_result_queue", None))


def _unblock_results(results: object) -> None:
    """A process killed mid-way through writing its result leaves the pool's thread blocked reading the rest,
    and this process holds the result pipe's write end too: closing it (the other writers are dead) ends that
    read with EOF, so the pool breaks and shutdown(wait=True), or the interpreter's exit, never waits on it."""
    writer = getattr(results, "_writer", None)
    if writer is not None:
        writer.close()


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
