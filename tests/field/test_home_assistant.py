"""Home Assistant as users expect it, against a real Mosquitto."""

from __future__ import annotations

import json
from collections import Counter
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
        assert sub.wait_for(lambda: any(t.endswith("/outbox_depth/config") for t, _, _ in sub.messages))
    finally:
        stop(proc)
    sub.close()
    sent = Counter(t for t, _, _ in sub.messages)
    assert max(sent.values()) == 1, [t for t, n in sent.items() if n > 1]  # each announced once per connection
    configs = {t.split("/")[3]: json.loads(p) for t, p, _ in sub.messages if p and t.split("/")[1] == "sensor"}
    for key, c in configs.items():
        assert "object_id" not in c and c["default_entity_id"] == f"sensor.cielo_{DEV}_{key}"
    binary = {t.split("/")[3]: json.loads(p) for t, p, _ in sub.messages if p and t.split("/")[1] == "binary_sensor"}
    sun = binary["skycam_sun_covered"]  # the sun's 0/1 series: a binary sensor, not a sensor
    assert sun["default_entity_id"] == f"binary_sensor.cielo_{DEV}_skycam_sun_covered" and sun["name"] == "Sun covered"
    assert "skycam_sun_covered" not in configs
    for series in DAILY:
        c = configs[series.replace(".", "_")]
        assert c["name"] and c["name"] != series and "Daily" in c["name"]
        assert c["device_class"] in ("temperature", "precipitation") and c["unit_of_measurement"]
    assert configs["weather_precipitation_daily"]["state_class"] == "total"
    assert configs["weather_temperature"]["device_class"] == "temperature"


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
