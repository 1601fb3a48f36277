"""Put on PYTHONPATH, this widens a race the stdlib leaves open: a multiprocessing semaphore freed on any thread
but the main one waits 0.3 s between being unlinked and the resource tracker being told. An exit that does
not wait for such a thread makes the tracker warn of a "leaked" semaphore every time, instead of now and then
on a loaded machine (how it was found: one CI run in many)."""

import threading
import time
from multiprocessing import synchronize

_cleanup = synchronize.SemLock._cleanup


def _slow_cleanup(name: str) -> None:
    from _multiprocessing import sem_unlink
    from multiprocessing.resource_tracker import unregister

    if threading.current_thread() is threading.main_thread():
        _cleanup(name)
        return
    sem_unlink(name)
    time.sleep(0.3)
    unregister(name, "semaphore")


synchronize.SemLock._cleanup = staticmethod(_slow_cleanup)
