"""systemd's notify protocol, written directly: one datagram per state change on $NOTIFY_SOCKET.

`READY=1` once the daemon is up, `STATUS=...` for `systemctl status`, `WATCHDOG=1` while healthy,
`STOPPING=1` on the way out. A path starting with `@` is an abstract-namespace socket. Outside systemd
(no NOTIFY_SOCKET) every call does nothing. See sd_notify(3).
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger("cielo")


class Notifier:
    def __init__(self, address: str | None = None):
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self._sock: socket.socket | None = None
        if self.address:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, *fields: str) -> bool:
        if self._sock is None:
            return False
        try:
            self._sock.sendto("\n".join(fields).encode(), self.address)
            return True
        except OSError as exc:  # systemd went away or the socket is wrong: keep running, say it once
            log.warning("sd_notify to %s failed: %s", self.address.replace("\0", "@"), exc)
            self._sock.close()
            self._sock = None
            return False

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={status}", f"MAINPID={os.getpid()}")

    def status(self, status: str) -> bool:
        return self.send(f"STATUS={status}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1", "STATUS=stopping")


def watchdog_interval_s() -> float | None:
    """Half of systemd's WatchdogSec (WATCHDOG_USEC), when the watchdog is on for this process."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2e6
