"""One daemon per database: `cielo run` holds an exclusive lock on `<database>.lock` for its whole life.

Two daemons on one database would share one MQTT client id, and the broker throws each out when the other
connects: hundreds of reconnects a second, online/offline flips and an outbox that grows without end. So the
second `cielo run` is refused with one line naming the PID that holds the lock.

The lock is `flock` on a file beside the database: the kernel drops it when the process dies however it
dies (kill -9, a crash), so a stale file never blocks a restart. The file holds the PID, for the message and
for `cielo status`. Its descriptor is not inherited by child processes (Python opens files
close-on-exec), so the daemon's own `cielo ingest` / `cielo jobs run` children neither hold nor need it,
and a child outliving a killed daemon cannot keep the next one from starting. Every other command (jobs,
backfill, status, ...) works beside a running daemon: only `cielo run` takes the lock.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from cielo.errors import CieloError


class AlreadyRunning(CieloError):
    """Another `cielo run` holds this database."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class DaemonLock:
    def __init__(self, database: Path):
        self.database = database
        self.path = lock_path(database)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning (one line naming the holder's PID)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                writable = True
            except PermissionError:  # a lock file another user created: locking needs no write access
                fd = os.open(self.path, os.O_RDONLY)
                writable = False
        except OSError as exc:
            raise CieloError(f"{self.path}: cannot open the daemon lock: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            pid = _read_pid(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise CieloError(f"{self.path}: cannot lock: {exc.strerror or exc}") from None
            who = f"pid {pid}" if pid else "another process"
            raise AlreadyRunning(f"another cielo daemon ({who}) is already running on {self.database}"
                                 f" (lock {self.path}); stop it first, e.g. `systemctl stop cielo`") from None
        if writable:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays (removing it would race a new daemon)
            self._fd = None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(database: Path) -> int | None:
    """The PID of the daemon running on `database` (0 when one runs but its PID is unknown), None when none
    runs. Asks the kernel (a shared lock that cannot be had), never trusts the file alone."""
    path = lock_path(database)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None  # no lock file: no daemon has ever run here
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return _read_pid(fd) or 0
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
