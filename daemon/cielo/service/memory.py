"""Process memory on a small board: how the C allocator hands back what numpy and onnxruntime free.

glibc serves blocks over its mmap threshold with mmap and returns them to the system on free, but raises that
threshold after the first such free (up to 32 MB): from then on onnxruntime's per-call intermediates (~0.3 MB
each at a batch of 4, a couple of dozen per call) come from the heap, which keeps the high-water mark of
every thread's arena. Measured on a 7-day camera backfill in one process (2-core machine):

- default: 108-117 MB peak RSS;
- two malloc arenas instead of eight per core (the fetch threads share them): 104-107 MB, same speed;
- and a fixed 128 KB mmap threshold: 101 MB, but inference costs twice the CPU (0.19 -> 0.44 ms per image:
  every call maps and faults its intermediates anew).

So every process that loads the model gets two arenas (`lean_malloc`, speed-neutral), and the daemon's
children, which share a small board with the daemon and where a few percent of CPU matter less than memory,
also get the fixed threshold (`CHILD_ENV`, read by glibc at their start). `cielo backfill` run by hand keeps
its speed.

The cap binds only threads that have not yet allocated: glibc gives each new thread its own arena at its
first malloc, up to the limit in force then. A backfill's fetch threads start before the model loads (the
model loads in the first of them), so the backfill runner caps arenas before it starts any thread: without
that, a 14-day backfill ran with five heaps (main + four fetch threads) and peaked 4-6 MB higher.
"""

from __future__ import annotations

import ctypes

M_ARENA_MAX = -8
ARENAS = 2
CHILD_ENV = {"MALLOC_ARENA_MAX": str(ARENAS), "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}

_done = False


def lean_malloc() -> bool:
    """Two malloc arenas for this process, once; False where the C library is not glibc."""
    global _done
    if _done:
        return True
    try:
        # The process's own symbols: libc is already loaded, and find_library would run ldconfig (~15 ms).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    _done = bool(mallopt(M_ARENA_MAX, ARENAS))
    return _done
