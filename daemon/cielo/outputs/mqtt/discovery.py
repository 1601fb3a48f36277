"""Home Assistant MQTT discovery: pure functions from the configuration to retained config messages.

One device message, `<prefix>/device/<device id>/config` (Home Assistant's device-based discovery, 2024.11):
`dev` (device), `o` (origin), the availability shared by every entity, and `cmps`, one entry per entity: a
sensor per known series (with `expire_after` of three cadences, so a stopped camera shows as unavailable, not
as an old value), cloud confidence, the last backfill result, the outbox depth, and the sky-safety binary_sensor
(device_class `safety`: on means unsafe, the reason as an attribute), and a `problem` binary_sensor per source
(on while its live runs fail or its breaker is open). A series or source that is disabled is an entry with
only its platform, which removes its entity.

Older versions sent one config per entity (`<prefix>/sensor/<device id>/<key>/config`). The component keys
are the same object ids, so Home Assistant's discovery ids (`<device id> <key>`) are unchanged; the hand-over
follows its documented migration: `{"migrate_discovery": true}` on each old topic, the device message, then
an empty retained payload on each old topic (once per database: see cielo.outputs.mqtt.publisher).
Keys and device classes: https://www.home-assistant.io/integrations/mqtt/ (device discovery),
https://www.home-assistant.io/integrations/sensor.mqtt/, https://www.home-assistant.io/integrations/sensor/
#device-class and https://www.home-assistant.io/integrations/binary_sensor/#device-class.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from cielo.outputs.mqtt.topics import Topics
from cielo.sources.base import Entity, SeriesSpec


@dataclass(frozen=True)
class SeriesInfo:
    spec: SeriesSpec  # name, unit and the Home Assistant description its source declares
    enabled: bool

    @property
    def expire_after(self) -> int:
        """Seconds after which Home Assistant shows the value as unavailable: three cadences (the outbox's
        freshness), or how late the series' values may come (daily values)."""
        window = self.spec.live_within or max(3 * self.spec.cadence, timedelta(minutes=30))
        return int(window.total_seconds())


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


def _entity(device_id: str, key: str, name: str, state_topic: str, template: str, platform: str = "sensor",
            **extra: object) -> dict:
    return {
        "p": platform,
        "name": name,
        "unique_id": f"cielo_{device_id}_{key}",
        # Home Assistant 2025.10 replaced object_id (dropped in 2026.4) with a full default entity id.
        "default_entity_id": f"{platform}.cielo_{device_id}_{key}",
        "state_topic": state_topic,
        "value_template": template,
        **{k: v for k, v in extra.items() if v is not None},
    }


def _extra(device_id: str, entity: Entity, topic: str, expire_after: int) -> dict:
    """An entity drawn from a series' JSON by its template; a binary_sensor's renders ON/OFF (or 'None':
    unknown), a sensor's a number, or one of its `options` (an enum: no unit, no state class)."""
    if entity.options:
        return _entity(device_id, entity.key, entity.name, topic, entity.template, device_class="enum",
                       options=list(entity.options), icon=entity.icon, expire_after=expire_after)
    if entity.platform == "binary_sensor":
        return _entity(device_id, entity.key, entity.name, topic, entity.template, platform="binary_sensor",
                       payload_on="ON", payload_off="OFF", device_class=entity.device_class, icon=entity.icon,
                       expire_after=expire_after)
    return _entity(device_id, entity.key, entity.name, topic, entity.template, unit_of_measurement=entity.unit,
                   device_class=entity.device_class, state_class="measurement", icon=entity.icon,
                   expire_after=expire_after)


SAFETY_EXPIRE_S = 900  # the safety monitor republishes its state every 5 minutes


def components(topics: Topics, device_id: str, series: Iterable[SeriesInfo],
               sources: Iterable[tuple[str, bool]] = ()) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for s in series:
        spec, key = s.spec, object_id(s.spec.name)
        if not s.enabled:
            out[key] = {"p": "sensor"}
            for entity in spec.extra:
                out[entity.key] = {"p": entity.platform}
            continue
        topic = topics.live(spec.name)
        out[key] = _entity(device_id, key, spec.label or spec.name, topic, "{{ value_json.value }}",
                           json_attributes_topic=topic, unit_of_measurement=spec.unit,
                           device_class=spec.device_class, state_class=spec.state_class, icon=spec.icon,
                           expire_after=s.expire_after)
        for entity in spec.extra:
            out[entity.key] = _extra(device_id, entity, topic, s.expire_after)
    # A failed job of the last 24 h outranks a later small success (cielo.health.status, worst_recent).
    out["last_backfill"] = _entity(device_id, "last_backfill", "Last backfill", topics.state,
                                   "{{ 'none' if not value_json.last_backfill else "
                                   "(value_json.last_backfill.worst_recent or value_json.last_backfill).level }}",
                                   json_attributes_topic=topics.state,
                                   json_attributes_template="{{ value_json.last_backfill | tojson }}",
                                   entity_category="diagnostic", icon="mdi:history")
    out["outbox_depth"] = _entity(device_id, "outbox_depth", "MQTT outbox depth", topics.state,
                                  "{{ value_json.outbox.depth }}", state_class="measurement",
                                  entity_category="diagnostic", icon="mdi:tray-full")
    safety = topics.safety
    out["safety"] = _entity(device_id, "safety", "Sky safety", safety, "{{ value_json.state }}",
                            platform="binary_sensor", device_class="safety", payload_on="unsafe",
                            payload_off="safe", json_attributes_topic=safety, expire_after=SAFETY_EXPIRE_S)
    out.update(problem_components(topics, device_id, sources))
    return out


def problem_components(topics: Topics, device_id: str, sources: Iterable[tuple[str, bool]]) -> dict[str, dict]:
    """Per (source, enabled): a binary_sensor with device_class `problem` reading the `state` summary's
    `sources.<name>` (cielo.health.sources); a disabled source's entity is removed.
    https://www.home-assistant.io/integrations/binary_sensor.mqtt/"""
    out: dict[str, dict] = {}
    for name, enabled in sources:
        key = f"{name}_problem"
        if not enabled:
            out[key] = {"p": "binary_sensor"}
            continue
        health = f"(value_json.sources | default({{}}))[{name!r}] | default({{}})"
        out[key] = _entity(device_id, key, f"{name} problem", topics.state,
                           f"{{{{ 'ON' if ({health}).problem | default(false) else 'OFF' }}}}",
                           platform="binary_sensor", json_attributes_topic=topics.state,
                           json_attributes_template=f"{{{{ {health} | tojson }}}}", device_class="problem",
                           entity_category="diagnostic", payload_on="ON", payload_off="OFF")
    return out


def device_message(topics: Topics, discovery_prefix: str, device_id: str, version: str,
                   series: Iterable[SeriesInfo], sources: Iterable[tuple[str, bool]] = ()) -> tuple[str, str]:
    """The retained device discovery message (topic, payload)."""
    config = {  # dev, o, cmps: the keys as Home Assistant's device discovery documents them
        "dev": device_block(device_id, version),
        "o": {"name": "cielo", "sw": version},
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "cmps": components(topics, device_id, series, sources),
    }
    return f"{discovery_prefix}/device/{device_id}/config", json.dumps(config, separators=(",", ":"), sort_keys=True)


def legacy_topics(discovery_prefix: str, device_id: str, series: Iterable[SeriesInfo],
                  sources: Iterable[tuple[str, bool]] = ()) -> list[str]:
    """The per-entity config topics older versions published."""
    keys = [k for s in series for k in (object_id(s.spec.name), *(e.key for e in s.spec.extra))]
    return ([f"{discovery_prefix}/sensor/{device_id}/{k}/config" for k in (*keys, "last_backfill", "outbox_depth")]
            + [f"{discovery_prefix}/binary_sensor/{device_id}/{name}_problem/config" for name, _ in sources])


def messages(topics: Topics, discovery_prefix: str, device_id: str, version: str, series: Iterable[SeriesInfo],
             sources: Iterable[tuple[str, bool]] = (), migrate: bool = False) -> list[tuple[str, str]]:
    """(topic, payload) pairs to publish retained, in order. With `migrate`, the old per-entity configs are
    handed over to the device message and then cleared."""
    series, sources = list(series), list(sources)
    device = device_message(topics, discovery_prefix, device_id, version, series, sources)
    if not migrate:
        return [device]
    old = legacy_topics(discovery_prefix, device_id, series, sources)
    hand_over = json.dumps({"migrate_discovery": True}, separators=(",", ":"))
    return [*((t, hand_over) for t in old), device, *((t, "") for t in old)]
