"""MQTT: every message goes through the SQLite outbox (outbox.py) and leaves it when the broker acknowledges
it (publisher.py); Home Assistant discovery configs come from pure functions (discovery.py)."""
