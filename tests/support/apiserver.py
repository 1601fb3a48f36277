"""A loopback server for the weather and price APIs, answering in their real formats (tests/sources/<name>/fixtures).

Roots (point each source's base URL at them):
  <base>/ree             REE apidatos: precios-mercados-tiempo-real for any range of Madrid days; a day with a
                         fixture (ree/prices-YYYY-MM-DD.json) answers its recorded values, any other day
                         synthetic values in the same format (the benchmark's year).
  <base>/aemet/opendata  AEMET OpenData: the two-step envelope -> datos (ISO-8859-15) for observations
                         (fixture fints moved to the last 23 hours when `aemet_recent`) and daily values.
  <base>/owm             OpenWeatherMap /data/2.5/weather (fixture, `dt` set to now unless `owm_dt`).
  <base>/om-archive      Open-Meteo /v1/archive (fixture for its range, else synthetic).
  <base>/om-forecast     Open-Meteo /v1/forecast with past_days (synthetic, real clock).
Per-API failure behaviours (`behaviours[api] = kind`; api: ree, aemet, aemet-datos, owm, om-archive,
om-forecast): "html" (an HTML page with 200), "truncated" (half the JSON), "schema" (valid JSON of another
shape), "401", "404", "429" (always, Retry-After: 1), "429-once", "503", "503-once", "slow" (answers after
`slow_s`), "api-error" (the API's own error body: REE errors, Open-Meteo reason, AEMET estado 401/404/429 in
a 200 envelope via "estado-401" / "estado-404" / "estado-429"; "estado-429-once": the first envelope only).
Hostile ones: "echo-400" / "echo-503" (an error body echoing the request line and headers, as some
gateways do: keys in URLs and headers come back), "drip" (headers at once, then the body a byte a second),
"bad-values" (Open-Meteo/OpenWeatherMap answers holding NaN, Infinity, 9999 °C, 9999 %, -9999 mm and `true`).
Every request is logged with its time.

Standalone (the benchmark runs it): python -m tests.support.apiserver prints `PORT <n>`.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

SOURCES = Path(__file__).resolve().parents[1] / "sources"  # each source's fixtures: sources/<name>/fixtures/
MADRID = ZoneInfo("Europe/Madrid")
HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"
AEMET_ORIGIN = "https://opendata.aemet.es/opendata"
OM_VARS = ("temperature_2m", "relative_humidity_2m", "pressure_msl", "precipitation", "wind_speed_10m", "cloud_cover")


def fixtures(source: str) -> Path:
    return SOURCES / source / "fixtures"


def fixture(source: str, *parts: str) -> bytes:
    return fixtures(source).joinpath(*parts).read_bytes()


class ApiServer:
    def __init__(self, *, latency_s: float = 0.0, slow_s: float = 3.0):
        self.latency_s, self.slow_s = latency_s, slow_s
        self.behaviours: dict[str, str] = {}
        self.log: list[tuple[float, str, str]] = []  # (time.monotonic(), api, path)
        self.seen: Counter[str] = Counter()
        self.aemet_recent = True
        self.owm_dt: int | None = None
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._ree_days = {p.stem.removeprefix("prices-"): json.loads(p.read_text())
                          for p in fixtures("ree").glob("prices-*.json")}

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> ApiServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, api: str) -> int:
        with self._lock:
            return sum(1 for _, a, _ in self.log if a == api)

    def times(self, api: str) -> list[float]:
        with self._lock:
            return [t for t, a, _ in self.log if a == api]

    def paths(self, api: str) -> list[str]:
        with self._lock:
            return [p for _, a, p in self.log if a == api]

    # --- answers ---------------------------------------------------------------------------------------

    def ree(self, q: dict[str, list[str]]) -> bytes:
        first = date.fromisoformat(q["start_date"][0][:10])
        last = date.fromisoformat(q["end_date"][0][:10])
        series: dict[str, list[dict]] = {"1001": [], "600": []}
        day = first
        while day <= last:
            recorded = self._ree_days.get(day.isoformat())
            if recorded is not None:
                for item in recorded["included"]:
                    series[item["id"]] += item["attributes"]["values"]
            else:
                t = datetime.combine(day, datetime.min.time(), MADRID).astimezone(UTC)
                end = datetime.combine(day + timedelta(days=1), datetime.min.time(), MADRID).astimezone(UTC)
                while t < end:
                    local = t.astimezone(MADRID)
                    stamp = local.isoformat(timespec="milliseconds")
                    h = local.hour
                    pvpc = round(110 + 40 * math.sin((h - 14) / 24 * 2 * math.pi) + day.toordinal() % 17, 2)
                    series["1001"].append({"value": pvpc, "percentage": 0.6, "datetime": stamp})
                    series["600"].append({"value": round(pvpc * 0.7, 2), "percentage": 0.4, "datetime": stamp})
                    t += timedelta(hours=1)
            day += timedelta(days=1)
        titles = {"1001": "PVPC (€/MWh)", "600": "Precio mercado spot (€/MWh)"}
        doc = {"data": {"type": "Precios mercado peninsular en tiempo real", "id": "mer13",
                        "attributes": {"title": "Precios mercado peninsular en tiempo real",
                                       "last-update": datetime.now(MADRID).isoformat(timespec="milliseconds"),
                                       "description": None}, "meta": {"cache-control": {"cache": "MISS"}}},
               "included": [{"type": titles[k], "id": k, "groupId": None,
                             "attributes": {"title": titles[k], "description": None, "color": "#ffcf09",
                                            "type": None, "magnitude": "price", "composite": False,
                                            "last-update": "2021-10-30T20:16:46.000+02:00", "values": v}}
                            for k, v in series.items() if v]}
        return json.dumps(doc).encode()

    def aemet_datos(self, ident: str) -> bytes:
        if ident == "9d4f1c2e":
            return fixture("aemet", "daily-1387-data.json")
        body = fixture("aemet", "station-3195-data.json")
        if not self.aemet_recent:
            return body
        rows = json.loads(body.decode("iso-8859-15"))
        last = datetime.now(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None) - timedelta(hours=1)
        for i, row in enumerate(rows):
            row["fint"] = (last - timedelta(hours=len(rows) - 1 - i)).isoformat()
        return json.dumps(rows, ensure_ascii=False).encode("iso-8859-15")

    def openmeteo(self, first: datetime, last_day: date, q: dict[str, list[str]]) -> bytes:
        key = f"archive-{first.date()}-{last_day}.json"
        if (fixtures("openmeteo") / key).exists():
            return fixture("openmeteo", key)
        hours = int((datetime.combine(last_day + timedelta(days=1), datetime.min.time()) - first).total_seconds()
                    // 3600)
        times, cols = [], {v: [] for v in OM_VARS}
        for i in range(hours):
            t = first + timedelta(hours=i)
            times.append(t.strftime("%Y-%m-%dT%H:%M"))
            x = (t.hour - 9) / 24 * 2 * math.pi
            cols["temperature_2m"].append(round(12 + 6 * math.sin(x) + (t.timetuple().tm_yday % 30) / 10, 1))
            cols["relative_humidity_2m"].append(int(70 - 15 * math.sin(x)))
            cols["pressure_msl"].append(round(1013 + 5 * math.sin(t.toordinal() / 5), 1))
            cols["precipitation"].append(0.2 if t.hour in (4, 5) and t.day % 3 == 0 else 0.0)
            cols["wind_speed_10m"].append(round(2 + (t.hour % 5) * 0.5, 2))
            cols["cloud_cover"].append((t.hour * 13 + t.day * 7) % 101)
        doc = {"latitude": float(q["latitude"][0]), "longitude": float(q["longitude"][0]),
               "generationtime_ms": 0.9, "utc_offset_seconds": 0, "timezone": "GMT",
               "timezone_abbreviation": "GMT", "elevation": 657.0,
               "hourly_units": {"time": "iso8601", "temperature_2m": "°C", "relative_humidity_2m": "%",
                                "pressure_msl": "hPa", "precipitation": "mm", "wind_speed_10m": "m/s",
                                "cloud_cover": "%"},
               "hourly": {"time": times, **cols}}
        return json.dumps(doc, ensure_ascii=False).encode()

    def owm(self) -> bytes:
        doc = json.loads(fixture("openweather", "current.json"))
        doc["dt"] = self.owm_dt if self.owm_dt is not None else int(time.time())
        return json.dumps(doc).encode()

    # --- HTTP ------------------------------------------------------------------------------------------

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                path, q = parts.path, parse_qs(parts.query)
                api = self._api(path)
                with server._lock:
                    server.log.append((time.monotonic(), api, self.path))
                    server.seen[api] += 1
                    seen = server.seen[api]
                if server.latency_s:
                    time.sleep(server.latency_s)
                kind = server.behaviours.get(api, "")
                if kind == "slow":
                    time.sleep(server.slow_s)
                if kind == "html":
                    return self._send(200, HTML, "text/html; charset=utf-8")
                if kind == "401":
                    body = fixture("openweather", "error-401.json") if api == "owm" else b'{"message": "Unauthorized"}'
                    return self._send(401, body)
                if kind == "404":
                    return self._send(404, b"<html><body>Not Found</body></html>", "text/html")
                if kind == "429" or (kind == "429-once" and seen == 1):
                    return self._send(429, b'{"message": "Too Many Requests"}', headers={"Retry-After": "1"})
                if kind == "503" or (kind == "503-once" and seen == 1):
                    return self._send(503, HTML, "text/html")
                if kind == "schema":
                    return self._send(200, b'{"status": "ok", "items": []}' if api != "aemet-datos" else b'{"x": 1}')
                if kind.startswith("echo-"):
                    echoed = f"bad request {self.command} {self.path} headers " + " ".join(
                        f"{k}={v}" for k, v in self.headers.items())
                    body = json.dumps({"cod": int(kind[5:]), "message": echoed, "estado": int(kind[5:]),
                                       "descripcion": echoed}).encode()
                    return self._send(int(kind[5:]), body)
                if kind == "estado-429-once":
                    if seen == 1:
                        return self._send(200, fixture("aemet", "error-429.json"),
                                          "application/json;charset=ISO-8859-15")
                    kind = ""
                if kind.startswith("estado-"):
                    body = fixture("aemet", f"error-{kind[7:]}.json")
                    return self._send(200, body, "application/json;charset=ISO-8859-15")
                if kind == "api-error":
                    if api == "ree":
                        return self._send(400, fixture("ree", "error-400.json"))
                    if api.startswith("om-"):
                        return self._send(400, fixture("openmeteo", "error-400.json"))
                body, ctype = self._answer(api, path, q)
                if body is None:
                    return self._send(404, b'{"message": "no route"}')
                if kind == "truncated":
                    body = body[: len(body) // 2]
                if kind == "bad-values":
                    body = bad_values(api, body)
                if kind == "drip":
                    return self._drip(body, ctype)
                return self._send(200, body, ctype)

            def _drip(self, body: bytes, ctype: str) -> None:
                """Headers at once, then a byte a second: each read is within any read timeout."""
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.flush()
                try:
                    for i in range(len(body)):
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(1.0)
                except OSError:
                    pass

            @staticmethod
            def _api(path: str) -> str:
                if path.startswith("/ree/"):
                    return "ree"
                if path.startswith("/aemet/opendata/sh/"):
                    return "aemet-datos"
                if path.startswith("/aemet/"):
                    return "aemet"
                if path.startswith("/owm/"):
                    return "owm"
                if path.startswith("/om-archive/"):
                    return "om-archive"
                if path.startswith("/om-forecast/"):
                    return "om-forecast"
                return "other"

            def _answer(self, api: str, path: str, q: dict[str, list[str]]) -> tuple[bytes | None, str]:
                if api == "ree" and path == "/ree/es/datos/mercados/precios-mercados-tiempo-real":
                    return server.ree(q), "application/json"
                if api == "aemet":
                    latin = "application/json;charset=ISO-8859-15"
                    if self.headers.get("api_key") in (None, ""):
                        return fixture("aemet", "error-401.json"), latin
                    if re.fullmatch(r"/aemet/opendata/api/observacion/convencional/datos/estacion/\w+", path):
                        env = fixture("aemet", "station-3195.json")
                    elif "/valores/climatologicos/diarios/datos/" in path:
                        env = fixture("aemet", "daily-1387.json")
                    else:
                        return None, ""
                    return env.replace(AEMET_ORIGIN.encode(), f"{server.base}/aemet/opendata".encode()), latin
                if api == "aemet-datos":
                    return server.aemet_datos(path.rsplit("/", 1)[-1]), "application/json;charset=ISO-8859-15"
                if api == "owm":
                    if not q.get("appid"):
                        return fixture("openweather", "error-401.json"), "application/json"
                    return server.owm(), "application/json; charset=utf-8"
                if api == "om-archive":
                    first = datetime.fromisoformat(q["start_date"][0])
                    return server.openmeteo(first, date.fromisoformat(q["end_date"][0]), q), "application/json"
                if api == "om-forecast":
                    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
                    past = int(q.get("past_days", ["0"])[0])
                    days = int(q.get("forecast_days", ["7"])[0])
                    first = today - timedelta(days=past)
                    return server.openmeteo(first, (today + timedelta(days=days - 1)).date(), q), "application/json"
                return None, ""

        return Handler


BAD_HOURS = {  # hour of the day -> (Open-Meteo variable, value as JSON text)
    1: ("temperature_2m", "NaN"), 2: ("temperature_2m", "Infinity"), 3: ("temperature_2m", "9999"),
    4: ("relative_humidity_2m", "9999"), 5: ("precipitation", "-9999"), 6: ("cloud_cover", "true"),
    7: ("temperature_2m", "-Infinity"),
}


def bad_values(api: str, body: bytes) -> bytes:
    """The answer with values no instrument gives (JSON's NaN/Infinity extensions, which Python emits and
    reads, impossible magnitudes, a boolean): OpenWeatherMap's current values, or some hours of Open-Meteo's."""
    doc = json.loads(body)
    if api == "owm":
        text = json.dumps(doc)
        return text.replace(f'"temp": {json.dumps(doc["main"]["temp"])}', '"temp": NaN').replace(
            f'"humidity": {json.dumps(doc["main"]["humidity"])}', '"humidity": true').encode()
    hourly = doc["hourly"]
    marks = {}
    for i, t in enumerate(hourly["time"]):
        hour = int(t[11:13])
        if hour in BAD_HOURS:
            var, text = BAD_HOURS[hour]
            marker = f"@@{i}-{var}@@"
            hourly[var][i] = marker
            marks[json.dumps(marker)] = text
    out = json.dumps(doc, ensure_ascii=False)
    for marker, text in marks.items():
        out = out.replace(marker, text)
    return out.encode()


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description="loopback weather and price APIs")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    args = ap.parse_args()
    srv = ApiServer(latency_s=args.latency_ms / 1000)
    print(f"PORT {srv.port}", flush=True)
    srv.httpd.serve_forever()


if __name__ == "__main__":
    main()
