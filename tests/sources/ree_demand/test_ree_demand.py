"""REE's electricity demand, end to end: the real CLI against a loopback server answering with the recorded
apidatos shape (fixtures/), a real SQLite file. This source's tests need nothing outside this folder."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from cielo.sources.ree_demand import parse
from tests.conftest import cielo, rows, write_config
from tests.sources.helpers import summary

FIXTURES = Path(__file__).parent / "fixtures"
DAY = ("--from", "2024-01-15T00:00+01:00", "--to", "2024-01-15T23:59+01:00")


class Apidatos:
    """apidatos' demand endpoint on 127.0.0.1: the fixture's day, REE's error envelope for any other."""

    def __init__(self) -> None:
        self.asked: list[dict[str, list[str]]] = []
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                q = parse_qs(url.query)
                server.asked.append(q)
                day = q.get("start_date", [""])[0][:10]
                path = FIXTURES / f"demanda-{day}.json"
                if url.path == "/es/datos/demanda/demanda-tiempo-real" and path.exists():
                    status, body = 200, path.read_bytes()
                else:
                    status, body = 502, json.dumps({"errors": [{"code": 502, "status": "502", "title": "Bad Gateway",
                                                                "detail": "no data for this day"}]}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> Apidatos:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()


@pytest.fixture
def ree_demand(tmp_path: Path) -> Iterator[tuple[Path, Apidatos]]:
    with Apidatos() as api:
        config = write_config(tmp_path / "config.toml", {
            "storage": {"database": str(tmp_path / "cielo.db")}, "skycam": {"enabled": False},
            "backfill": {"on_startup": False, "max_attempts": 1},
            "sources.ree_demand": {"enabled": True, "base_url": api.base, "timeout_s": 2, "retries": 0}})
        yield config, api


def test_a_day_of_demand_is_stored_once(ree_demand, tmp_path: Path):
    config, api = ree_demand
    first = cielo("backfill", *DAY, "--source", "ree_demand", config=config)
    assert first.returncode == 0, first.stderr
    assert summary(first.stdout)["ree_demand"] == (24, 24, 0, 0)
    assert api.asked[0]["time_trunc"] == ["hour"] and api.asked[0]["start_date"] == ["2024-01-15T00:00"]
    stored = rows(tmp_path / "cielo.db", "SELECT ts, value, unit, source FROM readings WHERE series = 'ree.demand'"
                                         " ORDER BY ts")
    assert stored[0] == ("2024-01-14T23:00:00Z", 24512.0, "MW", "ree_demand")  # 00:00+01:00 in UTC
    assert stored[-1][0] == "2024-01-15T22:00:00Z" and len(stored) == 24
    again = cielo("backfill", *DAY, "--source", "ree_demand", config=config)
    assert summary(again.stdout)["ree_demand"] == (24, 0, 24, 0) and len(api.asked) == 1


def test_only_the_real_demand_is_kept():
    doc = json.loads((FIXTURES / "demanda-2024-01-15.json").read_text())
    readings = parse(doc)
    assert [r.series for r in readings] == ["ree.demand"] * 24
    assert max(r.value for r in readings) == 35893.0  # the real curve's evening peak, not the forecast's


def test_an_error_envelope_is_one_line(ree_demand):
    config, _ = ree_demand
    result = cielo("backfill", "--from", "2024-02-01", "--to", "2024-02-01T23:59", "--source", "ree_demand",
                   config=config)
    assert result.returncode == 1
    assert summary(result.stdout)["ree_demand"] == (24, 0, 0, 24)
    assert "HTTP 502: Bad Gateway - no data for this day" in result.stderr and "Traceback" not in result.stderr


def test_home_assistant_sees_a_power_sensor():
    from cielo.sources.ree_demand import ReeDemandSource

    spec = ReeDemandSource.series[0]
    assert (spec.name, spec.unit, spec.device_class, spec.state_class) == ("ree.demand", "MW", "power", "measurement")
