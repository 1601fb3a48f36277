"""Fetching a plan's windows: on a bounded pool in window order (a backfill), or one by one on the calling
thread (a live capture: one or two windows, no pool to start)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

from cielo.ingest.summary import Summary
from cielo.ingest.writer import BATCH, Writer
from cielo.sources.base import Source, Window


def fetch_in_order(source: Source, windows: list[Window], workers: int, now: datetime, writer: Writer,
                   stop: threading.Event | None = None, progress: Callable[[Summary], None] | None = None) -> None:
    """Fetch on a bounded pool of worker threads and hand results to the writer in window order (a small
    reorder buffer), so the store and the MQTT history receive each series in time order and what is
    committed is always a contiguous prefix of the plan."""
    window_limit = max(workers * 4, BATCH)
    source.size_pool(workers)  # as many pooled connections as fetching threads
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"fetch-{source.name}")
    inflight: deque[tuple[Window, Future[Any]]] = deque()
    queue = iter(windows)

    def settle_done() -> None:
        while inflight and inflight[0][1].done() and not inflight[0][1].cancelled():
            writer.take(*inflight.popleft())

    try:
        while True:
            if stop is not None and stop.is_set():  # keep what is already fetched, in order; abandon the rest
                writer.summary.interrupted = True
                for _, fut in inflight:
                    fut.cancel()
                settle_done()
                return
            while len(inflight) < window_limit and (window := next(queue, None)) is not None:
                inflight.append((window, pool.submit(source.fetch, window, now)))
            if not inflight:
                return
            wait([inflight[0][1]], timeout=0.5)
            settle_done()
            if writer.full or not inflight:
                writer.flush()
                if progress:
                    progress(writer.summary)
    except KeyboardInterrupt:
        writer.summary.interrupted = True
        settle_done()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def fetch_each(source: Source, windows: list[Window], now: datetime, writer: Writer) -> None:
    """Fetch on this thread, one window after another; Ctrl-C propagates (a live run is not resumable)."""
    for window in windows:
        done: Future[Any] = Future()
        try:
            done.set_result(source.fetch(window, now))
        except Exception as exc:  # the writer sorts fetch errors from bugs
            done.set_exception(exc)
        writer.take(window, done)
