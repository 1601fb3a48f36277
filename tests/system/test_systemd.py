"""cielo installed with install.sh on a real Debian 12 booted with systemd as PID 1 (systemd-nspawn), the unit
exactly as shipped, pointed at a loopback camera and a real Mosquitto on the host (the container shares the
host's network): READY and Status=, a capture classified under the full hardening (onnxruntime under
MemoryDenyWriteExecute and the syscall filter), kill -9 restarts it with nothing lost, the watchdog restarts a
SIGSTOPped daemon, `systemctl stop` ends it cleanly with `offline` published, no denials in the journal, and
the operator command /usr/local/bin/cielo works for a non-root sudoer. The tests run in order on one install."""

from __future__ import annotations

import json
import re
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest

from tests.support.broker import Broker, Subscriber
from tests.support.camserver import CameraServer
from tests.system.conftest import TIMINGS, need, rootfs
from tests.system.machine import Booted

RESTART_SEC = 10
DEVICE = "ci"


def subsolar_longitude() -> float:
    """Where the sun is highest now: the capture is by day, so it gets octas (not a night flag)."""
    now = datetime.now(UTC)
    lon = (12 - now.hour - now.minute / 60) * 15
    return round((lon + 180) % 360 - 180, 2)


class Site:
    def __init__(self, box: Booted, camera: CameraServer, broker: Broker, sub: Subscriber):
        self.box, self.camera, self.broker, self.sub = box, camera, broker, sub

    def query(self, sql: str) -> list:
        """SQL on the daemon's database, as user cielo (no root-owned WAL/SHM)."""
        code = ("import json, sqlite3; db = sqlite3.connect('/var/lib/cielo/cielo.db'); "
                f"print(json.dumps(db.execute({sql!r}).fetchall()))")
        out = self.box.sh(f"runuser -u cielo -- /opt/cielo/.venv/bin/python -c {json.dumps(code)}").stdout
        return json.loads(out)

    def state(self) -> dict[str, str]:
        return self.box.show("cielo", "ActiveState", "SubState", "MainPID", "NRestarts", "StatusText", "Result",
                             "ExecMainStatus", "ExecMainCode")

    def wait(self, what: str, cond: Callable[[dict[str, str]], bool], timeout: float) -> tuple[dict, float]:
        start = time.monotonic()
        while True:
            st = self.state()
            if cond(st):
                return st, time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise AssertionError(f"{what}: not within {timeout} s: {st}\n{self.box.journal('cielo')[-4000:]}"
                                     f"\nthe unit's processes:\n{self.processes()}")
            time.sleep(0.2)

    def processes(self) -> str:
        """Every process left in the unit's control group, with what it waits on (for a failure's message)."""
        # the unified hierarchy, or systemd's own on a hybrid (cgroup v1) host
        script = ('cg=$(systemctl show -p ControlGroup --value cielo); '
                  'for p in $(cat /sys/fs/cgroup/unified$cg/cgroup.procs 2>/dev/null '
                  '|| cat /sys/fs/cgroup/systemd$cg/cgroup.procs 2>/dev/null || cat /sys/fs/cgroup$cg/cgroup.procs); '
                  'do echo "$p $(grep -E \'^(PPid|State|SigCgt|SigIgn|Threads):\' /proc/$p/status '
                  '| tr -s \'\\t\\n\' \' \')'
                  ' wchan=$(cat /proc/$p/wchan) $(tr \'\\0\' \' \' < /proc/$p/cmdline)"; done')
        return self.box.sh(script, check=False).stdout

    def status_messages(self) -> list[str]:
        return [payload for topic, payload, _ in list(self.sub.messages) if topic == f"cielo/{DEVICE}/status"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    need("debootstrap", "systemd-nspawn", "nsenter", "mosquitto")
    started = time.monotonic()
    lower = rootfs("amd64")
    TIMINGS["amd64 root filesystem (cached or built)"] = time.monotonic() - started
    with ExitStack() as stack:
        broker = Broker(tmp_path_factory.mktemp("broker")).start()
        stack.callback(broker.stop)
        sub = Subscriber(broker.port, "cielo/#")
        stack.callback(sub.client.loop_stop)
        camera = stack.enter_context(CameraServer())
        started = time.monotonic()
        box = Booted(lower)
        stack.callback(box.close)
        TIMINGS["container boot to running"] = time.monotonic() - started
        started = time.monotonic()
        install = box.sh(f"cd /root/cielo && ./install.sh --no-start --camera {camera.base_url} "
                         f"--latitude 0 --longitude {subsolar_longitude()}", timeout=900)
        TIMINGS["install.sh (apt python3-venv, venv, pinned wheels)"] = time.monotonic() - started
        assert "installing python3-venv" in install.stdout  # a minimal Debian: the installer adds it
        # What an operator then edits: the broker, a short catch-up window, a device id.
        config = box.path("/etc/cielo/config.toml")
        text = config.read_text()
        text = text.replace("\n[device]\n", f'\n[device]\nid = "{DEVICE}"\n', 1)
        mqtt = f'enabled = true\nhost = "127.0.0.1"\nport = {broker.port}\n'
        text = text.replace("\n[mqtt]\n", f"\n[mqtt]\n{mqtt}", 1)
        text = text.replace("\n[backfill]\n", "\n[backfill]\nlookback_days = 1\n", 1)
        config.write_text(text)
        assert tomllib.loads(text)["mqtt"]["port"] == broker.port
        # A second install.sh changes nothing but the package, then enables and starts the service.
        again = box.sh("cd /root/cielo && ./install.sh", timeout=600)
        assert "wrote" not in again.stdout and "set [" not in again.stdout
        assert "cielo is running" in again.stdout
        yield Site(box, camera, broker, sub)


def test_ready_with_its_status_text(site: Site):
    st, took = site.wait("READY", lambda s: s["ActiveState"] == "active" and s["SubState"] == "running", 60)
    TIMINGS["start to READY (after install.sh)"] = took
    assert re.match(r"running: .*skycam|skycam", st["StatusText"]), st
    unit = site.box.sh("systemctl cat cielo").stdout
    assert "MemoryDenyWriteExecute=yes" in unit and "SystemCallFilter=@system-service" in unit
    assert "drop-in" not in site.box.sh("systemctl status cielo --no-pager", check=False).stdout.lower()


def test_capture_is_classified_under_the_full_hardening(site: Site):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        got = site.query("SELECT ts, value, json_extract(attrs, '$.flag') FROM readings WHERE series = "
                         "'skycam.octas' AND value IS NOT NULL ORDER BY ts DESC LIMIT 1")
        if got:
            break
        time.sleep(1)
    assert got, site.box.journal("cielo")[-4000:]
    _ts, octas, flag = got[0]
    assert 0 <= octas <= 8 and flag in (None, "uncertain")  # judged: a broken sky may be a weak answer
    assert site.camera.total_requests > 0
    # Classified by the service's processes: the live capture, or the catch-up that got to the slot first (its
    # line comes when the whole day is in, at the camera's request budget).
    deadline = time.monotonic() + 180
    while not re.search(r"skycam \S+Z: octas=\d|skycam: total=\d+ new=[1-9]", journal := site.box.journal("cielo")):
        assert time.monotonic() < deadline, journal[-3000:]
        time.sleep(1)
    # onnxruntime ran inside the sandbox: the process that classified had the unit's restrictions.
    main = site.state()["MainPID"]
    status = site.box.sh(f"grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/{main}/status").stdout
    assert "Seccomp:\t2" in status and "NoNewPrivs:\t1" in status and "CapEff:\t0000000000000000" in status
    # The live value reached MQTT, retained.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(t == f"cielo/{DEVICE}/skycam/octas" for t, _, _ in site.sub.messages):
        time.sleep(0.5)
    live = [json.loads(p) for t, p, _ in site.sub.messages if t == f"cielo/{DEVICE}/skycam/octas"]
    assert live and live[-1]["value"] is not None


def test_operator_command_works_for_a_non_root_sudoer(site: Site):
    box = site.box
    box.sh("useradd -m -s /bin/bash alice && usermod -aG sudo alice && "
           "echo 'alice ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/alice && chmod 0440 /etc/sudoers.d/alice && "
           "useradd -m -s /bin/bash bob")
    status = box.sh("su - alice -c 'cd ~ && command -v cielo && cielo status --json'")
    assert status.stdout.startswith("/usr/local/bin/cielo\n")
    summary = json.loads(status.stdout.split("\n", 1)[1])
    assert "skycam.octas" in json.dumps(summary)
    doctor = box.sh("su - alice -c 'cd ~ && cielo doctor'", check=False)
    assert "✔ database: /var/lib/cielo/cielo.db" in doctor.stdout, doctor.stdout + doctor.stderr
    assert "✔ model" in doctor.stdout and "✔ skycam" in doctor.stdout and "✔ broker" in doctor.stdout
    # Acted on the daemon's data, not on ./cielo.db in alice's home; nothing there or in the state dir is
    # owned by anyone but cielo.
    assert box.sh("find /home/alice -name 'cielo.db*' -o -name calibration.json").stdout == ""
    assert box.sh("find /var/lib/cielo ! -user cielo").stdout == ""
    # The README's datasette lines: as user cielo, on the 0750 state directory, while the daemon writes.
    box.sh("python3 -m venv /opt/datasette && /opt/datasette/bin/pip install --quiet datasette", timeout=600)
    # five readings to page through: the catch-up's first ones may still be on their way (it commits as it goes,
    # at the camera's budget; one CI run met only the live capture here)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and site.query("SELECT count(*) FROM readings WHERE series = "
                                                     "'skycam.octas'")[0][0] < 5:
        time.sleep(2)
    rows = box.sh("sudo -u cielo /opt/datasette/bin/datasette /var/lib/cielo/cielo.db "
                  "--get '/cielo/octas.json?_shape=array&_size=5'").stdout
    assert len(json.loads(rows)) == 5 and "octas" in json.loads(rows)[0], rows + box.journal("cielo")[-3000:]
    assert box.sh("find /var/lib/cielo ! -user cielo").stdout == ""
    # Someone who may not sudo gets nothing.
    refused = box.sh("su - bob -c 'cielo status' </dev/null", check=False)
    assert refused.returncode != 0 and "sudo" in refused.stderr


def test_kill_9_restarts_within_restartsec_and_loses_nothing(site: Site):
    before_state = site.state()
    print(f"the unit's processes before kill -9:\n{site.processes()}")  # shown with a failure
    before = site.query("SELECT series, ts, value FROM readings")
    assert before
    site.box.sh(f"kill -9 {before_state['MainPID']}")
    st, took = site.wait("restart after kill -9", lambda s: s["MainPID"] not in ("0", before_state["MainPID"])
                         and s["ActiveState"] == "active", RESTART_SEC + 30)
    TIMINGS["kill -9 to READY again"] = took
    assert int(st["NRestarts"]) == int(before_state["NRestarts"]) + 1
    assert RESTART_SEC - 1 <= took <= RESTART_SEC + 10, took  # systemd's restart, after RestartSec
    assert re.search(r"Main process exited, code=killed, status=9/KILL", site.box.journal("cielo"))
    assert site.query("PRAGMA integrity_check") == [["ok"]]
    after = {tuple(r) for r in site.query("SELECT series, ts, value FROM readings")}
    assert {tuple(r) for r in before} <= after
    # Whatever was waiting in the outbox is delivered by the new process.
    deadline = time.monotonic() + 60
    while site.query("SELECT count(*) FROM outbox") != [[0]]:
        assert time.monotonic() < deadline, site.query("SELECT count(*) FROM outbox")
        time.sleep(1)


def test_watchdog_restarts_a_stopped_daemon(site: Site):
    box = site.box
    box.sh("mkdir -p /etc/systemd/system/cielo.service.d && printf '[Service]\\nWatchdogSec=6s\\n' "
           "> /etc/systemd/system/cielo.service.d/ci-watchdog.conf")
    box.sh("systemctl daemon-reload && systemctl restart cielo")
    st, _ = site.wait("READY", lambda s: s["ActiveState"] == "active", 60)
    time.sleep(8)  # longer than WatchdogSec: it is pinging
    assert site.state()["MainPID"] == st["MainPID"]
    box.sh(f"kill -STOP {st['MainPID']}")
    new, took = site.wait("watchdog restart", lambda s: s["MainPID"] not in ("0", st["MainPID"])
                          and s["ActiveState"] == "active", 6 + 30 + RESTART_SEC + 30)
    TIMINGS["SIGSTOP to READY again (WatchdogSec=6s drop-in, RestartSec=10s)"] = took
    journal = box.journal("cielo")
    assert "Watchdog timeout" in journal, journal[-3000:]
    assert int(new["NRestarts"]) == int(st["NRestarts"]) + 1
    box.sh("rm -r /etc/systemd/system/cielo.service.d && systemctl daemon-reload")


def test_stop_is_clean_within_30_s_and_publishes_offline(site: Site):
    box = site.box
    site.wait("READY", lambda s: s["ActiveState"] == "active", 60)
    seen = len(site.sub.messages)
    started = time.monotonic()
    box.sh("systemctl stop cielo", timeout=60)
    took = time.monotonic() - started
    TIMINGS["systemctl stop"] = took
    assert took < 30
    st = site.state()
    assert st["ActiveState"] == "inactive" and st["Result"] == "success", st
    assert st["ExecMainCode"] == "1" and st["ExecMainStatus"] == "0", st  # exited 0, not killed
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "offline" not in [p for t, p, _ in site.sub.messages[seen:]
                                                              if t == f"cielo/{DEVICE}/status"]:
        time.sleep(0.2)
    assert site.status_messages()[-1] == "offline"
    journal = box.journal("cielo")
    assert "SIGKILL" not in journal.split("Stopping cielo.service")[-1]
    # With the daemon stopped, the operator command as root leaves no root-owned file behind (WAL/SHM),
    # and the service starts again.
    box.sh("cd /root && cielo status >/dev/null && cielo gaps --days 1 >/dev/null")
    assert box.sh("find /var/lib/cielo ! -user cielo").stdout == ""
    assert not box.path("/root/cielo.db").exists()
    box.sh("systemctl start cielo")
    site.wait("READY", lambda s: s["ActiveState"] == "active", 60)


def test_journal_has_no_seccomp_or_permission_denials(site: Site):
    box = site.box
    journal = box.journal("cielo")
    everything = box.journal()
    for bad in ("Operation not permitted", "Permission denied", "PermissionError", "Bad system call", "SIGSYS",
                "status=31/SYS", "seccomp", "Read-only file system", "Traceback"):
        assert bad not in journal, f"{bad!r} in the journal:\n{journal[-4000:]}"
    assert "audit" not in everything.lower() or "denied" not in everything.lower()
    # No unit failed in the whole container.
    assert box.sh("systemctl --failed --no-legend").stdout.strip() == ""
