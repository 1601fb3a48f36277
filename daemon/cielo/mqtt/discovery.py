"""Home Assistant MQTT discovery: pure functions from the configuration to retained config messages.

One device (`cielo <device id>`) with a sensor per known series, plus cloud confidence, the last backfill
result and the outbox depth. A series whose source is disabled gets an empty retained config, which removes
its entity. Keys and device classes follow https://www.home-assistant.io/integrations/sensor.mqtt/ and
https://www.home-assistant.io/integrations/sensor/#device-class.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from cielo.mqtt.topics import Topics

# series -> (friendly name, device_class or None, icon or None)
SENSORS: dict[str, tuple[str, str | None, str | None]] = {
    "skycam.octas": ("Cloud cover (octas)", None, "mdi:weather-cloudy"),
    "ree.pvpc": ("PVPC price", None, "mdi:currency-eur"),  # monetary allows no state_class: measurement
    "ree.spot": ("Spot price", None, "mdi:currency-eur"),
    "weather.temperature": ("Temperature", "temperature", None),
    "weather.humidity": ("Humidity", "humidity", None),
    "weather.pressure": ("Pressure", "atmospheric_pressure", None),
    "weather.precipitation": ("Precipitation", "precipitation", None),
    "weather.wind_speed": ("Wind speed", "wind_speed", None),
    "weather.cloud_cover": ("Cloud cover (model)", None, "mdi:weather-partly-cloudy"),
}


@dataclass(frozen=True)
class SeriesInfo:
    name: str
    unit: str
    enabled: bool


def object_id(series: str) -> str:
    return series.replace(".", "_")


def device_block(device_id: str, version: str) -> dict:
    return {
        "identifiers": [f"cielo_{device_id}"],
        "name": f"cielo {device_id}",
        "model": "cielo edge daemon",
        "manufacturer": "cielo",
        "sw_version": version,
    }


def _config(topics: Topics, device_id: str, version: str, key: str, name: str, state_topic: str,
            template: str, **extra: object) -> dict:
    return {
        "name": name,
        "unique_id": f"cielo_{device_id}_{key}",
        "object_id": f"cielo_{device_id}_{key}",
        "state_topic": state_topic,
        "value_template": template,
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": device_block(device_id, version),
        **{k: v for k, v in extra.items() if v is not None},
    }


def messages(topics: Topics, discovery_prefix: str, device_id: str, version: str,
             series: Iterable[SeriesInfo]) -> list[tuple[str, str]]:
    """(topic, payload) pairs to publish retained; an empty payload removes the entity."""
    out: list[tuple[str, str]] = []

    def add(key: str, config: dict | None) -> None:
        topic = f"{discovery_prefix}/sensor/{device_id}/{key}/config"
        out.append((topic, "" if config is None else json.dumps(config, separators=(",", ":"), sort_keys=True)))

    for s in series:
        key = object_id(s.name)
        name, device_class, icon = SENSORS.get(s.name, (s.name, None, None))
        if not s.enabled:
            add(key, None)
            if s.name == "skycam.octas":
                add("skycam_confidence", None)
            continue
        add(key, _config(topics, device_id, version, key, name, topics.live(s.name),
                         "{{ value_json.value }}", json_attributes_topic=topics.live(s.name),
                         unit_of_measurement=s.unit, device_class=device_class, state_class="measurement",
                         icon=icon))
        if s.name == "skycam.octas":
            add("skycam_confidence", _config(
                topics, device_id, version, "skycam_confidence", "Cloud cover confidence", topics.live(s.name),
                "{{ (value_json.confidence * 100) | round(1) if value_json.confidence is not none else none }}",
                unit_of_measurement="%", state_class="measurement", icon="mdi:gauge"))
    add("last_backfill", _config(topics, device_id, version, "last_backfill", "Last backfill", topics.state,
                                 "{{ value_json.last_backfill.level if value_json.last_backfill else 'none' }}",
                                 json_attributes_topic=topics.state,
                                 json_attributes_template="{{ value_json.last_backfill | tojson }}",
                                 entity_category="diagnostic", icon="mdi:history"))
    add("outbox_depth", _config(topics, device_id, version, "outbox_depth", "MQTT outbox depth", topics.state,
                                "{{ value_json.outbox.depth }}", state_class="measurement",
                                entity_category="diagnostic", icon="mdi:tray-full"))
    return out
