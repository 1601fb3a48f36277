"""The daemon's ASCOM Alpaca server, driven by a client written from the API reference, with the protocol checks
ConformU runs (ConformU/AlpacaProtocolTestManager.cs: TestCommon, GetNoParameters, PutOneParameter,
TestBadIdValues, TestSafetyMonitor, TestObservingConditions), UDP discovery, and a fuzz of bad requests."""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.outputs.conftest import NOON, Daemon, client_for, free_port, wait_for
from tests.support.alpaca import AlpacaClient, discover

SM, OC = "safetymonitor", "observingconditions"
GOOD = {"ClientID": 123456, "ClientTransactionID": 67890}
BAD_IDS = ["", "     ", "-12345", "asdasd"]


def up(client: AlpacaClient):
    try:
        return client.request("GET", "/indi/weather-safety.json", ids=False)
    except OSError:
        return None


def call(client: AlpacaClient, method: str, device: str, member: str, params: dict, number: str = "0"):
    return client.request(method, f"/api/v1/{device}/{number}/{member}", params, ids=False)


def ok(answer, client_tx: int = 67890):
    assert answer.status == 200 and answer.content_type.startswith("application/json"), (answer.status, answer.text)
    body = answer.json
    assert list(body)[-4:] == ["ClientTransactionID", "ServerTransactionID", "ErrorNumber", "ErrorMessage"]
    assert body["ClientTransactionID"] == client_tx and body["ServerTransactionID"] >= 1, body
    return body


def plain_400(answer) -> str:
    assert answer.status == 400 and answer.content_type.startswith("text/plain"), (answer.status, answer.text)
    assert answer.text.strip() and "Traceback" not in answer.text
    return answer.text


def get_no_parameters(client: AlpacaClient, device: str, member: str) -> dict:
    """ConformU's GetNoParameters: good casing, an extra parameter, lower-case names, bad id values."""
    body = ok(call(client, "GET", device, member, GOOD))
    ok(call(client, "GET", device, member, {**GOOD, "ExtraParameter": "ExtraValue"}))
    ok(call(client, "GET", device, member, {"clientid": 123456, "ClientTransactionID": 67890}))
    ok(call(client, "GET", device, member, {"ClientID": 123456, "clienttransactionid": 67890}))
    for bad in BAD_IDS:
        plain_400(call(client, "GET", device, member, {"ClientID": bad, "ClientTransactionID": 67890}))
        plain_400(call(client, "GET", device, member, {"ClientID": 123456, "ClientTransactionID": bad}))
    return body


def put_no_parameters(client: AlpacaClient, device: str, member: str) -> None:
    assert ok(call(client, "PUT", device, member, GOOD))["ErrorNumber"] == 0
    ok(call(client, "PUT", device, member, {**GOOD, "ExtraParameter": "ExtraValue"}))
    ok(call(client, "PUT", device, member, {"clientid": 123456, "ClientTransactionID": 67890}))
    # A form parameter's name is cased as the API spells it: a badly cased transaction id is not echoed.
    ok(call(client, "PUT", device, member, {"ClientID": 123456, "clienttransactionid": 67890}), client_tx=0)
    for bad in BAD_IDS:
        plain_400(call(client, "PUT", device, member, {"ClientID": 123456, "ClientTransactionID": bad}))


def common_members(client: AlpacaClient, device: str, interface_version: int) -> None:
    for member in ("connected", "description", "driverinfo", "driverversion", "interfaceversion", "name",
                   "supportedactions", "connecting", "devicestate"):
        assert get_no_parameters(client, device, member)["ErrorNumber"] == 0
    assert client.value(device, "interfaceversion") == interface_version
    assert client.value(device, "driverversion") == "0.1"
    for member in ("description", "driverinfo", "name"):
        assert isinstance(client.value(device, member), str) and client.value(device, member)
    assert client.value(device, "supportedactions") == []
    # Connected: form-encoded PUT, True/False in any case; anything else is a 400.
    for text, state in (("True", True), ("false", False), ("TRUE", True)):
        assert ok(call(client, "PUT", device, "connected", {**GOOD, "Connected": text}))["ErrorNumber"] == 0
        assert client.value(device, "connected") is state
    for bad in ("", "123456", "asdqwe"):
        plain_400(call(client, "PUT", device, "connected", {**GOOD, "Connected": bad}))
    plain_400(call(client, "PUT", device, "connected", {**GOOD, "connected": "True"}))  # bad name casing
    put_no_parameters(client, device, "disconnect")
    assert client.value(device, "connected") is False
    put_no_parameters(client, device, "connect")
    assert client.value(device, "connected") is True and client.value(device, "connecting") is False
    state = client.value(device, "devicestate")
    assert all(set(item) == {"Name", "Value"} for item in state) and state[-1]["Name"] == "TimeStamp"
    # Nothing a client sends changes cielo.
    assert client.put(device, "action", Action="open", Parameters="").json["ErrorNumber"] == 0x40C
    for member in ("commandblind", "commandbool", "commandstring"):
        assert client.put(device, member, Command="x", Raw="true").json["ErrorNumber"] == 0x400
    # URLs ConformU sends to be refused with a 4xx.
    for number in ("5", "-1", "99999", "A"):
        plain_400(call(client, "GET", device, "description", GOOD, number=number))
    assert 400 <= client.request("GET", f"/api/v1/{device.upper()}/0/description", GOOD, ids=False).status < 500
    plain_400(client.request("GET", "/api/v1/baddevicetype/0/description", GOOD, ids=False))
    plain_400(call(client, "GET", device, "descrip", GOOD))
    for method in ("POST", "DELETE"):
        assert 400 <= call(client, method, device, "connected", {**GOOD, "Connected": "True"}).status < 500


def test_the_daemon_serves_a_conformant_safety_monitor_and_observing_conditions(observatory, sky):
    cfg = observatory(safety={"daylight_safe": True, "safe_after_min": 0})
    client = client_for(observatory)
    daemon = Daemon(cfg, NOON)
    try:
        wait_for(lambda: up(client), 30)
        # Safe once the camera's first frame (clear) is judged: there is no delay configured.
        indi = wait_for(lambda: (a := up(client)) and a.json["roof_status"]["open_ok"] == 1 and a.json, 60)
        assert indi["roof_status"]["reasons"].startswith("clear (octas <= 2) since 2026-11-20T15:02:00Z")

        # Management API: what discovery tools and N.I.N.A. read first.
        versions = client.request("GET", "/management/apiversions", {"ClientTransactionID": 7}, ids=False).json
        assert versions["Value"] == [1] and versions["ClientTransactionID"] == 7
        description = ok(client.request("GET", "/management/v1/description", GOOD, ids=False))["Value"]
        assert set(description) == {"ServerName", "Manufacturer", "ManufacturerVersion", "Location"}
        devices = ok(client.request("GET", "/management/v1/configureddevices",
                                    {"clienttransactionid": 67890}, ids=False))["Value"]
        assert [(d["DeviceType"], d["DeviceNumber"]) for d in devices] == [("SafetyMonitor", 0),
                                                                          ("ObservingConditions", 0)]
        assert all(len(d["UniqueID"]) == 36 and d["DeviceName"] for d in devices)

        common_members(client, SM, 3)
        assert get_no_parameters(client, SM, "issafe")["ErrorNumber"] == 0
        assert client.value(SM, "issafe") is True
        assert client.value(SM, "devicestate")[0] == {"Name": "IsSafe", "Value": True}

        common_members(client, OC, 2)
        assert client.value(OC, "cloudcover") in (0.0, 12.5, 25.0)  # 0..2 octas: a clear frame
        assert client.value(OC, "averageperiod") == 0.0
        assert ok(call(client, "PUT", OC, "averageperiod", {**GOOD, "AveragePeriod": "0.0"}))["ErrorNumber"] == 0
        for period in ("5.0", "-2.0"):
            answer = call(client, "PUT", OC, "averageperiod", {**GOOD, "AveragePeriod": period})
            assert ok(answer)["ErrorNumber"] == 0x401
        plain_400(call(client, "PUT", OC, "averageperiod", {**GOOD, "AveragePeriod": "asduio6fghZZ"}))
        plain_400(call(client, "PUT", OC, "averageperiod", {**GOOD, "averageperiod": "0.0"}))  # bad name casing
        for sensor in ("dewpoint", "humidity", "pressure", "rainrate", "skybrightness", "skyquality",
                       "skytemperature", "starfwhm", "temperature", "winddirection", "windgust", "windspeed"):
            assert get_no_parameters(client, OC, sensor)["ErrorNumber"] == 0x400
        put_no_parameters(client, OC, "refresh")
        assert "camera" in client.value(OC, "sensordescription", SensorName="CloudCover")
        assert client.get(OC, "sensordescription", SensorName="Pressure").json["ErrorNumber"] == 0x400
        assert client.get(OC, "sensordescription", sensorname="asduio6fghZZ").json["ErrorNumber"] == 0x401
        assert client.get(OC, "timesincelastupdate", SensorName="Pressure").json["ErrorNumber"] == 0x400
        assert 0 <= client.value(OC, "timesincelastupdate", SensorName="") < 600
        assert 0 <= client.value(OC, "timesincelastupdate", SENSORNAME="CloudCover") < 600
        plain_400(client.get(OC, "timesincelastupdate"))  # SensorName is required

        # ServerTransactionID goes up with every transaction.
        seen = [client.get(SM, "issafe").json["ServerTransactionID"] for _ in range(5)]
        assert seen == sorted(seen) and len(set(seen)) == 5

        # Setup pages and the INDI Weather Safety Proxy's JSON.
        page = client.request("GET", "/setup", ids=False)
        assert page.status == 200 and "text/html" in page.content_type and "SAFE" in page.text
        assert client.request("GET", f"/setup/v1/{SM}/0/setup", ids=False).status == 200
        assert client.request("GET", f"/setup/v1/{SM}/5/setup", ids=False).status == 400

        # UDP discovery on loopback answers the HTTP port.
        assert discover(observatory.ports["discovery_port"]) == {"AlpacaPort": observatory.ports["port"]}
    finally:
        out = daemon.stop()
    assert "Traceback" not in out, out


RAW_BAD = [
    b"\x00\x01\x02garbage\r\n\r\n",
    b"GET /api/v1/safetymonitor/0/issafe HTTP/9.9\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /api/v1/safetymonitor/0/issafe HTTP/1.1\r\nbad header line\r\n\r\n",
    b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n",
    b"PUT /api/v1/safetymonitor/0/connected HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
    b"PUT /api/v1/safetymonitor/0/connected HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"PUT /api/v1/safetymonitor/0/connected HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"PUT /api/v1/safetymonitor/0/connected HTTP/1.1\r\nContent-Length: 12\r\n\r\nConnected=\xff\xfe\xfd",
    b"PUT /api/v1/safetymonitor/0/connected HTTP/1.1\r\nContent-Length: 9\r\n\r\n%%%&&&===",
    b"GET /api/v1/safetymonitor/0/issafe?ClientTransactionID=99999999999999999999 HTTP/1.1\r\n\r\n",
    b"GET /api/v1/safetymonitor/0/issafe?" + b"a=1&" * 200 + b" HTTP/1.1\r\n\r\n",
    b"GET /api/v1/safetymonitor/\xc3\x28/issafe HTTP/1.1\r\n\r\n",
    b"GET /api/v1/observingconditions/0/sensordescription?SensorName=%00%ff HTTP/1.1\r\n\r\n",
    b"GET /management/v1/../../etc/passwd HTTP/1.1\r\n\r\n",
    b"GET /setup/v1/safetymonitor/99999999999999999999999/setup HTTP/1.1\r\n\r\n",
    b"BREW /api/v1/safetymonitor/0/issafe HTTP/1.1\r\n\r\n",
    b"GET /api/v1/safetymonitor/0/issafe HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n",
]


def raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before it has read it all
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_bad_slow_and_flooding_requests_get_an_error_and_the_server_goes_on(observatory, sky):
    """Also: a camera that answers 404 for everything, so never a judged frame: unsafe, and saying why."""
    cfg = observatory(skycam={"base_url": sky.base_url.replace("/image", "/nothing")})
    client = client_for(observatory)
    port = observatory.ports["port"]
    daemon = Daemon(cfg, NOON)
    try:
        first = wait_for(lambda: up(client), 30).json
        assert first["roof_status"]["open_ok"] == 0 and first["roof_status"]["reasons"]
        assert client.value(SM, "issafe") is False
        assert client.get(OC, "cloudcover").json["ErrorNumber"] == 0x402  # no judged frame: ValueNotSet
        # Slow clients (a head that never ends) hold no worker: others are answered at once, the slow ones
        # get a 408 at the head deadline (5 s).
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(6)]
        for s in slow:
            s.sendall(b"GET /api/v1/safetymonitor/0/issafe HTTP/1.1\r\nX-Slow: ")
        started = time.monotonic()
        answers: list[int] = []

        def ask() -> None:
            answers.append(client.get(SM, "issafe").status)

        askers = [threading.Thread(target=ask) for _ in range(8)]
        for t in askers:
            t.start()
        for t in askers:
            t.join(timeout=30)
        assert answers == [200] * 8 and time.monotonic() - started < 4
        for data in RAW_BAD:
            answer = raw(port, data)
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
            assert b"Traceback" not in answer and status not in (0, 500), (data[:80], answer[:200])
            if status == 200:  # understood: then it is an ASCOM error
                assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["ErrorNumber"] != 0, (data[:80], answer)
            else:
                assert 400 <= status < 506, (data[:80], answer[:200])
            assert client.get(SM, "issafe").status == 200
        # A flood of idle connections: past 64 open ones, a 503 at once; once they close, all is well again.
        flood = [socket.create_connection(("127.0.0.1", port)) for _ in range(70)]
        readable, _, _ = select.select(flood, [], [], 2)
        assert any(s.recv(200).startswith(b"HTTP/1.1 503") for s in readable)
        for s in flood:
            s.close()
        assert wait_for(lambda: client.get(SM, "issafe").status == 200, 10)
        for s in slow:
            s.settimeout(10)
            assert s.recv(200).startswith(b"HTTP/1.1 408"), "a slow head gets 408"
            s.close()
        assert client.get(SM, "issafe").status == 200
        daemon.wait_line(r"skycam \S+: failed")
        assert up(client).json == {"roof_status": {"open_ok": 0, "reasons": "no judged frame yet"}}
    finally:
        out = daemon.stop()
    assert "Traceback" not in out and "alpaca:" in out, out


def listening_sockets(pid: int) -> set[str]:
    """Inodes of the TCP/UDP sockets the process has open that are listening or bound."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    bound = set()
    for table in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            listening = table.startswith("udp") or fields[3] == "0A"
            if listening and fields[9] in inodes:
                bound.add(f"{table} {fields[1]}")
    return bound


def test_disabled_means_no_listening_socket_at_all(observatory):
    cfg = observatory(alpaca={"enabled": False})
    daemon = Daemon(cfg, NOON)
    try:
        daemon.wait_line(r"cielo started")  # logged after the Alpaca sockets would have been opened
        assert listening_sockets(daemon.proc.pid) == set()
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", observatory.ports["port"])) != 0
        assert discover(observatory.ports["discovery_port"], timeout=0.5) is None
    finally:
        out = daemon.stop()
    assert "alpaca" not in out, out


def test_a_port_in_use_is_one_line_and_a_non_zero_exit(observatory):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", observatory.ports["port"]))
        taken.listen()
        daemon = Daemon(observatory(), NOON)
        assert daemon.proc.wait(timeout=30) != 0
        out = daemon.stop()
    assert "Traceback" not in out and f"alpaca: cannot listen on 127.0.0.1 port {observatory.ports['port']}" in out


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_bind_all_ipv6_serves_both_families_and_discovery_on_both(tmp_path: Path):
    """bind = "::": one dual-stack socket for HTTP; discovery answers over IPv4 and IPv6 (unicast here: the
    multicast group ff12::a1:9aca needs a real interface)."""
    from cielo.config import Settings
    from cielo.outputs.alpaca.server import AlpacaServer
    from cielo.safety.machine import Verdict

    class Readings:  # what the safety monitor hands the server: a verdict and the last judged frame
        verdict = Verdict(False, "no judged frame yet", None)
        last_judged = None

    port, dport = free_port(), free_port(socket.SOCK_DGRAM)
    settings = Settings.model_validate({"alpaca": {"enabled": True, "bind": "::", "port": port,
                                                   "discovery_port": dport}})
    server = AlpacaServer(settings, Readings())
    server.start()
    try:
        for host in ("127.0.0.1", "::1"):
            client = AlpacaClient(port, host=host)
            assert client.value(SM, "issafe") is False
            assert discover(dport, host=host) == {"AlpacaPort": port}
        assert AlpacaClient(port).get(OC, "cloudcover").json["ErrorNumber"] == 0x402
    finally:
        server.stop()
    with socket.socket() as s:  # stopped means closed
        assert s.connect_ex(("127.0.0.1", port)) != 0
