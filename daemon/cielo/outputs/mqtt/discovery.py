"""Home Assistant MQTT discovery: pure functions from the configuration to retained config messages.

One device (`cielo <device id>`) with a sensor per known series, plus cloud confidence, the last backfill
result, the outbox depth and a `problem` binary_sensor per source. A series whose source is disabled gets an
empty retained config, which removes its entity. Keys and device classes follow
https://www.home-assistant.io/integrations/sensor.mqtt/ and
https://www.home-assistant.io/integrations/sensor/#device-class.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from cielo.outputs.mqtt.topics import Topics
from cielo.sources.base import SeriesSpec


@dataclass(frozen=True)
class SeriesInfo:
    spec: SeriesSpec  # name, unit and the Home Assistant description its source declares
    enabled: bool


# Home Assistant reads a rendered 'None' as unknown: a 0/1 series' null (the sun down) is neither on nor off
BINARY_TEMPLATE = ("{{ 'ON' if value_json.value == 1 else ('OFF' if value_json.value == 0 else 'None') }}")


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
            template: str, platform: str = "sensor", **extra: object) -> dict:
    return {
        "name": name,
        "unique_id": f"cielo_{device_id}_{key}",
        # Home Assistant 2025.10 replaced object_id (dropped in 2026.4) with a full default entity id.
        "default_entity_id": f"{platform}.cielo_{device_id}_{key}",
        "state_topic": state_topic,
        "value_template": template,
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": device_block(device_id, version),
        **{k: v for k, v in extra.items() if v is not None},
    }


def messages(topics: Topics, discovery_prefix: str, device_id: str, version: str,
             series: Iterable[SeriesInfo], sources: Iterable[tuple[str, bool]] = ()) -> list[tuple[str, str]]:
    """(topic, payload) pairs to publish retained; an empty payload removes the entity."""
    out: list[tuple[str, str]] = []

    def add(key: str, config: dict | None, platform: str = "sensor") -> None:
        topic = f"{discovery_prefix}/{platform}/{device_id}/{key}/config"
        out.append((topic, "" if config is None else json.dumps(config, separators=(",", ":"), sort_keys=True)))

    for s in series:
        spec, key = s.spec, object_id(s.spec.name)
        if not s.enabled:
            add(key, None, spec.platform)
            for entity in spec.extra:
                add(entity.key, None)
            continue
        topic = topics.live(spec.name)
        if spec.platform == "binary_sensor":  # a 0/1 series: 1 on, 0 off, null unknown
            add(key, _config(topics, device_id, version, key, spec.label or spec.name, topic, BINARY_TEMPLATE,
                             "binary_sensor", json_attributes_topic=topic, payload_on="ON", payload_off="OFF",
                             device_class=spec.device_class, icon=spec.icon), "binary_sensor")
            continue
        add(key, _config(topics, device_id, version, key, spec.label or spec.name, topic, "{{ value_json.value }}",
                         json_attributes_topic=topic, unit_of_measurement=spec.unit, device_class=spec.device_class,
                         state_class=spec.state_class, icon=spec.icon))
        for entity in spec.extra:
            add(entity.key, _config(topics, device_id, version, entity.key, entity.name, topic, entity.template,
                                    unit_of_measurement=entity.unit, state_class="measurement", icon=entity.icon))
    # A failed job of the last 24 h outranks a later small success (cielo.health.status, worst_recent).
    add("last_backfill", _config(topics, device_id, version, "last_backfill", "Last backfill", topics.state,
                                 "{{ 'none' if not value_json.last_backfill else "
                                 "(value_json.last_backfill.worst_recent or value_json.last_backfill).level }}",
                                 json_attributes_topic=topics.state,
                                 json_attributes_template="{{ value_json.last_backfill | tojson }}",
                                 entity_category="diagnostic", icon="mdi:history"))
    add("outbox_depth", _config(topics, device_id, version, "outbox_depth", "MQTT outbox depth", topics.state,
                                "{{ value_json.outbox.depth }}", state_class="measurement",
                                entity_category="diagnostic", icon="mdi:tray-full"))
    out += problem_messages(topics, discovery_prefix, device_id, version, sources)
    return out


# --- a `problem` binary_sensor per source (on while its live runs fail or its breaker is open) -------------

def problem_messages(topics: Topics, discovery_prefix: str, device_id: str, version: str,
                     sources: Iterable[tuple[str, bool]]) -> list[tuple[str, str]]:
    """(topic, payload) per (source, enabled): a binary_sensor with device_class `problem` reading the `state`
    summary's `sources.<name>` (cielo.health.sources); a disabled source's entity is removed.
    https://www.home-assistant.io/integrations/binary_sensor.mqtt/"""
    out = []
    for name, enabled in sources:
        key = f"{name}_problem"
        topic = f"{discovery_prefix}/binary_sensor/{device_id}/{key}/config"
        if not enabled:
            out.append((topic, ""))
            continue
        health = f"(value_json.sources | default({{}}))[{name!r}] | default({{}})"
        config = _config(topics, device_id, version, key, f"{name} problem", topics.state,
                         f"{{{{ 'ON' if ({health}).problem | default(false) else 'OFF' }}}}",
                         json_attributes_topic=topics.state, json_attributes_template=f"{{{{ {health} | tojson }}}}",
                         device_class="problem", entity_category="diagnostic", payload_on="ON", payload_off="OFF")
        config["default_entity_id"] = f"binary_sensor.cielo_{device_id}_{key}"
        out.append((topic, json.dumps(config, separators=(",", ":"), sort_keys=True)))
    return out
