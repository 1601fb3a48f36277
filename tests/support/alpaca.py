"""A small ASCOM Alpaca client written from the API reference (ASCOMInitiative/ASCOMRemote Swagger files), for
tests: GET with query parameters, PUT with a form-encoded body, ClientID/ClientTransactionID on every call,
and UDP discovery. It checks nothing itself: tests assert on what it returns."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


@dataclass
class Answer:
    status: int
    text: str
    content_type: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.text)


class AlpacaClient:
    def __init__(self, port: int, host: str = "127.0.0.1", client_id: int = 4242):
        self.host, self.port = host, port
        self.client_id = client_id
        self.transaction = 0

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, *, ids: bool = True,
                body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
        params = dict(params or {})
        if ids:
            self.transaction += 1
            params = {"ClientID": self.client_id, "ClientTransactionID": self.transaction, **params}
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            if method == "GET" or body is not None:
                target = f"{path}?{urlencode(params)}" if params and method == "GET" else path
                conn.request(method, target, body=body, headers=headers or {})
            else:
                conn.request(method, path, body=urlencode(params),
                             headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
            r = conn.getresponse()
            return Answer(r.status, r.read().decode("utf-8", "replace"), r.getheader("Content-Type") or "")
        finally:
            conn.close()

    def get(self, device: str, member: str, number: int = 0, **params: Any) -> Answer:
        return self.request("GET", f"/api/v1/{device}/{number}/{member}", params)

    def put(self, device: str, member: str, number: int = 0, **params: Any) -> Answer:
        return self.request("PUT", f"/api/v1/{device}/{number}/{member}", params)

    def value(self, device: str, member: str, **params: Any) -> Any:
        a = self.get(device, member, **params)
        assert a.status == 200, (member, a.status, a.text)
        body = a.json
        assert body["ErrorNumber"] == 0, (member, body)
        return body["Value"]


def discover(port: int, host: str = "127.0.0.1", timeout: float = 2.0) -> dict[str, Any] | None:
    """Send `alpacadiscovery1` to host:port (UDP) and return the JSON answer, or None."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(b"alpacadiscovery1", (host, port))
        try:
            data, _ = s.recvfrom(1024)
        except TimeoutError:
            return None
    return json.loads(data)
