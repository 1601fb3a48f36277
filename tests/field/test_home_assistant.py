"""Home Assistant as users expect it, against a real Mosquitto."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import source_sections
from tests.support.apiserver import ApiServer
from tests.support.broker import Broker, Subscriber, retained
from tests.support.camserver import CameraServer
from tests.support.daemon import BASE, DEV, needs_mosquitto, start_daemon, stop

pytestmark = needs_mosquitto

DAILY = ("weather.temperature_daily_mean", "weather.temperature_daily_max", "weather.temperature_daily_min",
         "weather.precipitation_daily")


def test_discovery_names_each_series_once_with_readable_names(camera: CameraServer, api: ApiServer,
                                                               broker: Broker, mqtt_config):
    """Weather filled by three sources is one entity per series; daily sensors have names and device classes;
    `default_entity_id` replaces the deprecated `object_id`."""
    sub = Subscriber(broker.port, "homeassistant/#")
    proc = start_daemon(mqtt_config(**source_sections(api, "aemet", "openweather", "openmeteo")))
    try:
        assert sub.wait_for(lambda: any(t == f"homeassistant/device/{DEV}/config" for t, _, _ in sub.messages))
    finally:
        stop(proc)
    sub.close()
    device = [t for t, _, _ in sub.messages if "/device/" in t]
    assert device == [f"homeassistant/device/{DEV}/config"]  # announced once per connection
    configs = {k: c for k, c in json.loads(next(p for t, p, _ in sub.messages if t == device[0]))["cmps"].items()
               if len(c) > 1}  # not removals (a platform alone)
    for key, c in configs.items():
        assert "object_id" not in c and c["default_entity_id"] == f"{c['p']}.cielo_{DEV}_{key}"
    assert configs["weather_temperature_daily_mean"]["expire_after"] == 10 * 86400  # published days late
    assert configs["weather_temperature"]["expire_after"] == 3 * 3600
    sun = configs["skycam_sun_covered"]  # the sun's 0/1 series: a binary sensor
    assert sun["p"] == "binary_sensor" and sun["name"] == "Sun covered" and sun["payload_on"] == "ON"
    # Older versions' per-entity configs: handed over (Home Assistant's migrate_discovery), then cleared.
    old = [(t, p) for t, p, _ in sub.messages if t == f"homeassistant/sensor/{DEV}/skycam_octas/config"]
    assert [p for _, p in old] == ['{"migrate_discovery":true}', ""]
    order = [t for t, _, _ in sub.messages]
    first_old, last_old = order.index(old[0][0]), len(order) - 1 - order[::-1].index(old[0][0])
    assert first_old < order.index(device[0]) < last_old
    for series in DAILY:
        c = configs[series.replace(".", "_")]
        assert c["name"] and c["name"] != series and "Daily" in c["name"]
        assert c["device_class"] in ("temperature", "precipitation") and c["unit_of_measurement"]
    assert configs["weather_precipitation_daily"]["state_class"] == "total"
    assert configs["weather_temperature"]["device_class"] == "temperature"


def test_the_hand_over_from_per_entity_configs_happens_once():
    from cielo.config import Settings
    from cielo.outputs.mqtt import discovery
    from cielo.outputs.mqtt.topics import Topics
    from cielo.sources import registry

    series = [discovery.SeriesInfo(d.spec, d.enabled) for d in registry.series(registry.check(Settings()))]
    topics = Topics("cielo", DEV)
    first = discovery.messages(topics, "homeassistant", DEV, "1.0", series, migrate=True)
    later = discovery.messages(topics, "homeassistant", DEV, "1.0", series)
    assert [t for t, _ in later] == [f"homeassistant/device/{DEV}/config"]
    old = discovery.legacy_topics("homeassistant", DEV, series)
    assert f"homeassistant/sensor/{DEV}/outbox_depth/config" in old and len(first) == 2 * len(old) + 1
    assert first[len(old)] == later[0] and {p for _, p in first[len(old) + 1:]} == {""}


def test_live_values_come_back_after_the_broker_lost_its_retained_messages(camera: CameraServer, api: ApiServer,
                                                                           broker: Broker, mqtt_config,
                                                                           tmp_path: Path):
    cfg = mqtt_config(**source_sections(api, "openweather"))
    temperature, octas = f"{BASE}/weather/temperature", f"{BASE}/skycam/octas"
    proc = start_daemon(cfg)
    try:
        sub = Subscriber(broker.port, temperature, octas, persistent=False)
        assert sub.wait_for(lambda: sub.on(temperature) and sub.on(octas), timeout=60), sub.messages
        sub.close()
        before = retained(broker.port, f"{BASE}/#")
        assert temperature in before and octas in before
        broker.stop()
        (tmp_path / "mosquitto.db").unlink()  # a broker restarted without its persistence file
        broker.start()
        sub = Subscriber(broker.port, temperature, octas, persistent=False)
        # Back before the next live run (an hour for weather, ten minutes for the camera).
        assert sub.wait_for(lambda: sub.on(temperature) and sub.on(octas), timeout=30), sub.messages
        sub.close()
        after = retained(broker.port, f"{BASE}/#")
        assert after[temperature] == before[temperature] and after[octas] == before[octas]
    finally:
        out = stop(proc)
    assert "live value(s) sent again" in out, out


def test_a_daily_value_published_days_late_is_still_the_current_one(tmp_path: Path):
    """AEMET publishes a day's values about four days late: the newest is what Home Assistant should show,
    not history that never reaches the live topic (the sensor would stay `unknown`)."""
    from datetime import UTC, datetime, timedelta

    from cielo.config import Settings
    from cielo.service.runtime import announcer
    from cielo.sources.registry import check
    from cielo.store import Reading, Store

    settings = check(Settings.model_validate({
        "device": {"id": DEV}, "mqtt": {"enabled": True}, "storage": {"database": str(tmp_path / "c.db")},
        "sources": {"aemet": {"api_key": "k"}}}))
    now = datetime(2025, 3, 10, 7, 20, tzinfo=UTC)
    day = datetime(2025, 3, 6, tzinfo=UTC)
    with Store(tmp_path / "c.db", announcer(settings)) as store:
        store.add_readings([Reading("weather.temperature_daily_mean", day - timedelta(days=1), 11.0, "°C", "aemet"),
                            Reading("weather.temperature_daily_mean", day, 12.5, "°C", "aemet")], now, mode="live")
        sent = store.query("SELECT topic, retain, json_extract(payload, '$.ts') FROM outbox ORDER BY id")
    assert sent == [(f"{BASE}/weather/temperature_daily_mean/backfill", 0, "2025-03-05T00:00:00Z"),
                    (f"{BASE}/weather/temperature_daily_mean", 1, "2025-03-06T00:00:00Z")]
