"""How a stored value is written out: SQLite hands every value back as a REAL, so a whole octa comes back
6.0; everything cielo prints or exports writes it 6, as the MQTT payloads do (cielo.outputs.mqtt.outbox)."""

from __future__ import annotations


def plain(value: float | None) -> float | int | None:
    """6.0 -> 6; 6.5, None and non-finite values unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
