"""The sun as Home Assistant gets it: `cielo run` against a loopback camera and a real Mosquitto, a day frame
judged; the live octas message carries the sun's keys and every sun entity announced reads one of them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from tests.sources.skycam.test_sun import CLOUDS, COVER_KEYS, SUN_KEYS, frame
from tests.support.broker import Broker, Subscriber
from tests.support.camserver import CameraServer
from tests.support.daemon import needs_mosquitto, start_daemon, stop

pytestmark = needs_mosquitto

DEV = "pi-sun"
OCTAS = f"cielo/{DEV}/skycam/octas"
READS = re.compile(r"value_json\.(\w+)")


def test_the_live_message_and_discovery_carry_the_sun(camera: CameraServer, config, broker: Broker):
    from cielo.sources.skycam.source import SUN_ENTITIES

    now = datetime.now(UTC)
    lon = ((12 - (now.hour + now.minute / 60)) * 15 + 180) % 360 - 180  # noon there now: a day frame
    camera.images = [frame(CLOUDS)]
    cfg = config(device={"id": DEV, "latitude": 10.0, "longitude": lon},
                 skycam={"base_url": camera.base_url, "timeout_s": 2, "retries": 2, "requests_per_minute": 0,
                         "timezone": "UTC"},
                 mqtt={"enabled": True, "host": "127.0.0.1", "port": broker.port, "state_interval_s": 1})
    sub = Subscriber(broker.port, OCTAS, f"homeassistant/device/{DEV}/config")
    proc = start_daemon(cfg)
    try:
        assert sub.wait_for(lambda: sub.json_on(OCTAS) and sub.on(f"homeassistant/device/{DEV}/config"),
                            timeout=60), sub.messages
    finally:
        stop(proc)
    sub.close()
    live = sub.json_on(OCTAS)[-1]
    assert set(SUN_KEYS + COVER_KEYS) <= set(live), live
    assert live["sun"] == "visible" and live["sun_covered"] == 0 and 0 <= live["sun_cloud_15"] <= 100
    assert live["sun_eta_min"] is None  # one frame: nothing to follow yet
    device = json.loads(sub.on(f"homeassistant/device/{DEV}/config")[-1][0])["cmps"]
    for entity in SUN_ENTITIES:
        c = device[entity.key]
        assert c["state_topic"] == OCTAS and c["name"] == entity.name
        # a key the payload lacks would leave the entity unknown for ever
        assert set(READS.findall(c["value_template"])) <= set(live), (entity.key, c["value_template"])
    sun = device["skycam_sun"]
    assert sun["p"] == "sensor" and sun["device_class"] == "enum" and sun["options"] == ["visible", "thin", "covered"]
    assert "state_class" not in sun and "unit_of_measurement" not in sun  # an enum has neither
    assert sun["default_entity_id"] == f"sensor.cielo_{DEV}_skycam_sun"
    assert device["skycam_sun_covered"]["p"] == "binary_sensor"
    assert device["skycam_sun_eta_min"]["device_class"] == "duration"
