"""Shared fixtures: a loopback camera, config files, and the real `cielo` CLI in a subprocess."""

from __future__ import annotations

import compileall
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apiserver import ApiServer
from tests.support.broker import Broker
from tests.support.camserver import CameraServer

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "tests" / "sources"  # each source's tests beside its fixtures: sources/<name>/fixtures/


def pytest_sessionstart(session: pytest.Session) -> None:
    """Byte-compile the package once, before any test starts `cielo`: with PYTHONDONTWRITEBYTECODE set (CI
    images often set it) and an editable install, every one of the suite's hundreds of `cielo` processes
    would otherwise compile each module it imports again (~0.15 s of CPU a start). Python still checks each
    .pyc against its source, so an edited module is never run stale."""
    if not hasattr(session.config, "workerinput"):  # the xdist controller (or a run without xdist), once
        for folder in (ROOT / "daemon" / "cielo", ROOT / "tests" / "support"):
            compileall.compile_dir(folder, quiet=2)


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    lines = []
    for section, keys in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in keys.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIELO_")}
    # this checkout's own cielo first: the venv's editable install may point at another checkout (a git worktree
    # run with the main checkout's venv), and its child processes would test that one's code
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "daemon"), str(ROOT)])
    env.update(extra)
    return env


def cielo(*args: str, config: Path | None = None, timeout: float = 120, cwd: Path | None = None,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "cielo"]
    if config is not None:
        cmd += ["--config", str(config)]
    result = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                            env=env or clean_env())
    assert "Traceback" not in result.stderr, result.stderr
    return result


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


@pytest.fixture
def camera() -> Iterator[CameraServer]:
    with CameraServer() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, camera: CameraServer):
    """A config pointing at the loopback camera; keyword sections override or add keys."""

    def make(**sections: dict[str, Any]) -> Path:
        base: dict[str, dict[str, Any]] = {
            "storage": {"database": str(tmp_path / "cielo.db")},
            # The loopback camera is ours: no polite budget (the default is 120 requests a minute).
            "skycam": {"base_url": camera.base_url, "timeout_s": 2, "retries": 2, "requests_per_minute": 0},
            # The daemon's catch-up on start fills a month: tests of the live path keep it out of the way.
            "backfill": {"on_startup": False},
            # Keyless sources are off by default; tests that want them point them at loopback servers.
            "sources.ree": {"enabled": False},
            "sources.openmeteo": {"enabled": False},
        }
        for name, keys in sections.items():
            base.setdefault(name, {}).update(keys)
        return write_config(tmp_path / "config.toml", base)

    return make


@pytest.fixture
def api() -> Iterator[ApiServer]:
    with ApiServer(slow_s=3.0) as server:
        yield server


def source_sections(api: ApiServer, *enabled: str, **extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`[sources.*]` tables pointing every API at the loopback server; only `enabled` ones switched on.
    Short timeouts and quick retries keep the failure tests fast."""
    quick = {"timeout_s": 1, "retries": 1}
    sections = {
        "sources.ree": {"enabled": "ree" in enabled, "base_url": f"{api.base}/ree", **quick},
        "sources.openmeteo": {"enabled": "openmeteo" in enabled, "archive_url": f"{api.base}/om-archive",
                              "forecast_url": f"{api.base}/om-forecast", **quick},
        "sources.aemet": {"enabled": "aemet" in enabled, "base_url": f"{api.base}/aemet/opendata", **quick},
        "sources.openweather": {"enabled": "openweather" in enabled, "base_url": f"{api.base}/owm", **quick},
    }
    if "aemet" in enabled:
        sections["sources.aemet"]["api_key"] = "test-aemet-key-SECRET"
    if "openweather" in enabled:
        sections["sources.openweather"]["api_key"] = "test-owm-key-SECRET"
    for name, keys in extra.items():
        sections[f"sources.{name}"].update(keys)
    return sections


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A real Mosquitto on a free port of 127.0.0.1 (tests/support/broker.py)."""
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture
def mqtt_config(config, broker: Broker):
    """A config with MQTT on, to the test's broker, as device `pi-01`."""
    def make(**sections):
        mqtt = {"enabled": True, "port": broker.port, "host": "127.0.0.1", "state_interval_s": 1}
        mqtt.update(sections.pop("mqtt", {}))
        return config(device={"id": "pi-01"}, mqtt=mqtt, **sections)

    return make
