"""A child process of the daemon (`cielo ingest`, `cielo jobs run`, a source's upkeep) and its parent.

The child ends when the daemon does, even by kill -9: Linux sends it SIGTERM then (PR_SET_PDEATHSIG), so a
restarted daemon never finds its predecessor's `jobs run` still at the same job. The child asks for that
itself, first thing after exec: a `preexec_fn` would run Python between fork and exec in a process with
threads (the daemon has several), where a lock another thread held at the fork can never be released, and
such a child neither execs nor dies of SIGTERM (Python's own handler only sets a flag it never reads).
"""

from __future__ import annotations

import os
import signal

PARENT_ENV = "CIELO_DAEMON_PID"
PR_SET_PDEATHSIG = 1


def parent_env() -> dict[str, str]:
    """What the daemon adds to a child's environment."""
    return {PARENT_ENV: str(os.getpid())}


def follow_parent() -> None:
    """In a child of the daemon: SIGTERM when the daemon dies. A no-op in any other cielo process."""
    parent = os.environ.pop(PARENT_ENV, None)  # the child's own children (analysis processes) have other parents
    if parent is None or not parent.isdigit():
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        return
    if os.getppid() != int(parent):  # the daemon died before the prctl: nothing will read this process's work
        os.kill(os.getpid(), signal.SIGTERM)

