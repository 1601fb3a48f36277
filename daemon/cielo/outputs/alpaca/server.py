"""The Alpaca server inside the daemon: routes, the management API, setup pages, the INDI JSON.

Paths (ASCOMInitiative/ASCOMRemote Swagger: AlpacaDeviceAPI_v1.yaml, AlpacaManagementAPI_v1.yaml):
  /api/v1/<device type>/<n>/<member>   GET/PUT device members (cielo.outputs.alpaca.devices)
  /management/apiversions              [1]
  /management/v1/description           ServerName, Manufacturer, ManufacturerVersion, Location
  /management/v1/configureddevices     DeviceName, DeviceType, DeviceNumber, UniqueID of each device
  /setup, /setup/v1/<type>/<n>/setup   HTML pages (cielo is configured in config.toml, not here)
  /indi/weather-safety.json            the INDI Weather Safety Proxy's {"roof_status": {...}}
It serves from its own threads (cielo.outputs.alpaca.http) and reads only the safety monitor's verdict in
memory, so a client can neither stall nor change capture.
"""

from __future__ import annotations

import html
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cielo import __version__
from cielo.config import Settings
from cielo.outputs.alpaca import discovery
from cielo.outputs.alpaca.devices import Device, Readings, make_devices
from cielo.outputs.alpaca.http import PooledServer, Request, Response
from cielo.outputs.alpaca.protocol import AlpacaError, BadRequest, Params, Transactions, envelope, ids
from cielo.safety.watch import indi_status
from cielo.timeutil import utcnow

log = logging.getLogger("cielo")

INDI_PATH = "/indi/weather-safety.json"
JSON = "application/json; charset=utf-8"


class AlpacaApp:
    """Request -> Response, no sockets: the server's whole behaviour."""

    def __init__(self, settings: Settings, readings: Readings, clock: Callable[[], datetime] = utcnow):
        self.settings = settings
        self.readings = readings
        self.devices = make_devices(settings.device.id, readings, clock)
        self.transactions = Transactions()

    def __call__(self, request: Request) -> Response:
        parts = urlsplit(request.target)
        path = parts.path
        try:
            if path.startswith("/api/"):
                return self._api(request, path, parts.query)
            if path.startswith("/management/"):
                return self._management(request, path, parts.query)
            if path == "/setup" or path.startswith("/setup/"):
                return self._setup(request, path)
            if path == INDI_PATH and request.method in ("GET", "HEAD"):
                return Response(200, json.dumps(indi_status(self.readings.verdict)).encode(), JSON)
        except BadRequest as exc:
            return Response.text(400, str(exc))
        return Response.text(404, f"no such page: {path[:200]}")

    def _params(self, request: Request, query: str) -> Params:
        if request.method == "PUT":
            return Params.of_form(request.body)
        return Params.of_query(query)

    def _api(self, request: Request, path: str, query: str) -> Response:
        parts = path.split("/")  # '', 'api', 'v1', type, number, member
        if len(parts) != 6 or parts[2] != "v1":
            raise BadRequest(f"not an Alpaca device URL: {path[:200]} (expected /api/v1/<type>/<n>/<member>)")
        _, _, _, kind, number, member = parts
        if request.method not in ("GET", "PUT"):
            return Response(405, f"{request.method[:20]} is not an Alpaca method: use GET or PUT\n".encode(),
                            headers={"Allow": "GET, PUT"})
        params = self._params(request, query)
        _client, client_tx = ids(params)
        devices = self.devices.get(kind)
        if devices is None:
            raise BadRequest(f"unknown device type {kind[:40]!r} (served: {', '.join(self.devices)})")
        if not number.isdigit() or not number.isascii() or int(number) not in devices:
            raise BadRequest(f"no {kind} device number {number[:20]!r} (served: {', '.join(map(str, devices))})")
        device: Device = devices[int(number)]
        handlers = device.members.get(member)
        handler = None if handlers is None else handlers.get if request.method == "GET" else handlers.put
        if handler is None:
            if handlers is None:
                raise BadRequest(f"unknown {kind} member {member[:40]!r}")
            raise BadRequest(f"{member} does not take {request.method}")
        server_tx = self.transactions.next()
        try:
            value = handler(params)
        except AlpacaError as exc:
            return Response(200, envelope(client_tx, server_tx, error=exc), JSON)
        return Response(200, envelope(client_tx, server_tx, value, has_value=request.method == "GET"), JSON)

    def _management(self, request: Request, path: str, query: str) -> Response:
        if request.method != "GET":
            return Response(405, b"the management API answers GET only\n", headers={"Allow": "GET"})
        _client, client_tx = ids(Params.of_query(query))
        value: Any
        if path == "/management/apiversions":
            value = [1]
        elif path == "/management/v1/description":
            value = {"ServerName": f"cielo {self.settings.device.id}", "Manufacturer": "cielo",
                     "ManufacturerVersion": __version__,
                     "Location": self.settings.alpaca.location or self.settings.device.id}
        elif path == "/management/v1/configureddevices":
            value = [d.configured() for devices in self.devices.values() for d in devices.values()]
        else:
            return Response.text(404, f"no such management path: {path[:200]}")
        return Response(200, envelope(client_tx, self.transactions.next(), value, has_value=True), JSON)

    def _setup(self, request: Request, path: str) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response(405, b"setup pages answer GET only\n", headers={"Allow": "GET"})
        verdict = self.readings.verdict
        state = f"{'SAFE' if verdict.safe else 'UNSAFE'}: {verdict.reason}"
        if path in ("/setup", "/setup/"):
            rows = "".join(f"<li>{html.escape(d.type_name)} {d.number}: <a href='/setup/v1/{d.kind}/{d.number}/setup'>"
                           f"{html.escape(d.name)}</a></li>" for ds in self.devices.values() for d in ds.values())
            body = (f"<h1>cielo {html.escape(self.settings.device.id)}</h1><p>{html.escape(state)}</p><ul>{rows}</ul>"
                    f"<p>INDI Weather Safety Proxy: <a href='{INDI_PATH}'>{INDI_PATH}</a></p>")
            return _page(body)
        parts = path.split("/")  # '', 'setup', 'v1', type, n, 'setup'
        if len(parts) == 6 and parts[2] == "v1" and parts[5] == "setup":
            device = self.devices.get(parts[3], {}).get(int(parts[4])) if parts[4].isdigit() else None
            if device is None:
                return Response.text(400, f"no device {parts[3][:40]} {parts[4][:20]}")
            s = self.settings.safety
            body = (f"<h1>{html.escape(device.name)}</h1><p>{html.escape(state)}</p><p>Configured in cielo's "
                    f"config.toml, section [safety]: unsafe_octas = {s.unsafe_octas}, safe_octas = {s.safe_octas}, "
                    f"safe_after_min = {s.safe_after_min:g}, daylight_safe = {str(s.daylight_safe).lower()}. "
                    "Nothing here can be changed from the network.</p>")
            return _page(body)
        return Response.text(404, f"no such setup page: {path[:200]}")


def _page(body: str) -> Response:
    text = f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>cielo</title></head><body>{body}</body></html>"
    return Response(200, text.encode(), "text/html; charset=utf-8")


class AlpacaServer:
    """The listening socket, its thread and the discovery responder; nothing at all when disabled."""

    def __init__(self, settings: Settings, readings: Readings, clock: Callable[[], datetime] = utcnow):
        cfg = settings.alpaca
        self.app = AlpacaApp(settings, readings, clock)
        self.http = PooledServer((cfg.bind, cfg.port), self.app)
        self.port = self.http.server_address[1]
        self.discovery = (discovery.Responder(cfg.bind, cfg.discovery_port, self.port)
                          if cfg.discovery_port else None)
        self.thread = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.5},
                                       name="alpaca-http", daemon=True)

    def start(self) -> None:
        self.thread.start()
        if self.discovery is not None:
            self.discovery.start()
        log.info("alpaca: serving on %s port %d%s", self.app.settings.alpaca.bind, self.port,
                 f", discovery on UDP {self.discovery.port}" if self.discovery else "")

    def stop(self) -> None:
        if self.discovery is not None:
            self.discovery.stop()
        self.http.close(serving=self.thread.is_alive())
