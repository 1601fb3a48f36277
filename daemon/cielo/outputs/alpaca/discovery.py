"""Alpaca UDP discovery: a datagram `alpacadiscovery1` (to the IPv4 broadcast address, or to the IPv6
multicast group ff12::a1:9aca) on the discovery port (32227) is answered with `{"AlpacaPort": <http port>}`
(the ASCOM Alpaca API's discovery protocol, as ConformU's discovery diagnostics send it).

IPv4 is answered when the server listens on IPv4 (all interfaces, or the bound address only); IPv6 when it
listens on `::` or an IPv6 address, since a client found over IPv6 will connect over IPv6. Anything else
sent to the port is ignored; a socket that cannot be opened (IPv6 off on the board) is said once in the log.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import struct
import threading

log = logging.getLogger("cielo")

QUERY = b"alpacadiscovery1"
IPV6_GROUP = "ff12::a1:9aca"


class Responder:
    def __init__(self, bind: str, port: int, http_port: int):
        self.answer = json.dumps({"AlpacaPort": http_port}).encode()
        self.sockets: list[socket.socket] = []
        v6 = ":" in bind
        if not v6 or bind == "::":
            self._open(socket.AF_INET, "0.0.0.0" if bind in ("0.0.0.0", "::") else bind, port)
        if v6:
            self._open(socket.AF_INET6, bind, port)
        self.port = self.sockets[0].getsockname()[1] if self.sockets else port
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="alpaca-discovery", daemon=True)

    def _open(self, family: socket.AddressFamily, host: str, port: int) -> None:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            else:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((host, port))
            if family == socket.AF_INET6:
                group = socket.inet_pton(socket.AF_INET6, IPV6_GROUP) + struct.pack("@I", 0)
                try:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group)
                except OSError as exc:
                    log.warning("alpaca: discovery cannot join %s: %s (unicast queries still answered)",
                                IPV6_GROUP, exc.strerror or exc)
        except OSError as exc:
            sock.close()
            log.warning("alpaca: no %s discovery on UDP port %d: %s",
                        "IPv6" if family == socket.AF_INET6 else "IPv4", port, exc.strerror or exc)
            return
        self.sockets.append(sock)

    def start(self) -> None:
        if self.sockets:
            self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=2)
        for sock in self.sockets:
            sock.close()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                ready, _, _ = select.select(self.sockets, [], [], 0.5)
            except (OSError, ValueError):  # closed under us while stopping
                return
            for sock in ready:
                try:
                    data, peer = sock.recvfrom(256)
                    if data.startswith(QUERY):
                        sock.sendto(self.answer, peer)
                except OSError:
                    continue  # one bad peer (unreachable, gone) never stops the responder
