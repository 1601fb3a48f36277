"""The documentation's examples are checked, so they cannot rot: the Telegraf config parses as TOML with the
keys that matter, Mosquitto loads the bridge config, and every CLI command is in the README."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from cielo.cli import build_parser
from tests.conftest import ROOT
from tests.support.broker import MOSQUITTO, free_port


def test_telegraf_example_is_valid_and_matches_the_topics():
    conf = tomllib.loads((ROOT / "docs/examples/telegraf-cielo.conf").read_text())
    (consumer,) = conf["inputs"]["mqtt_consumer"]
    assert set(consumer["topics"]) == {"cielo/+/+/+", "cielo/+/+/+/backfill"}
    assert consumer["qos"] == 1 and consumer["persistent_session"] is True
    (parser,) = consumer["json_v2"]
    assert parser["timestamp_path"] == "ts" and parser["field"][0]["path"] == "value"
    assert parser["measurement_name_path"] == "series"
    fleet = (ROOT / "docs/fleet.md").read_text()
    assert "[[inputs.mqtt_consumer]]" in fleet


@pytest.mark.skipif(not (shutil.which("mosquitto") or Path(MOSQUITTO).exists()), reason="mosquitto not installed")
def test_mosquitto_loads_the_bridge_example(tmp_path: Path):
    port = free_port()
    conf = tmp_path / "m.conf"
    bridge = (ROOT / "docs/examples/mosquitto-bridge.conf").read_text().replace("broker.example.net:8883",
                                                                                "127.0.0.1:9")
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nuser root\n{bridge}")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.05)
        else:
            pytest.fail("mosquitto did not start with the bridge config")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a bridge stuck connecting can ignore SIGTERM on a loaded machine
            proc.kill()
            proc.wait(timeout=10)


def test_every_command_is_documented():
    readme = (ROOT / "README.md").read_text()
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        assert f"`cielo {name}" in readme, f"README does not document `cielo {name}`"


def test_the_readme_names_the_shipped_models_version():
    card = json.loads((ROOT / "models/octas.json").read_text())
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"model version (skyref-[0-9.]+)", readme))
    assert named == {card["version"]}, f"README says {named}, the card {card['version']}"


def test_the_readme_names_the_uncertain_bars_the_daemon_uses():
    from cielo.sources.skycam import confidence

    readme = " ".join((ROOT / "README.md").read_text().split())
    said = f"under {confidence.WEAK_CONFIDENCE}, by day with a site calibration {confidence.SITE_WEAK_CONFIDENCE},"
    assert said in readme
