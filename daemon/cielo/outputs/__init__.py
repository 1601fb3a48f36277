"""What the daemon serves besides MQTT: the ASCOM Alpaca server (alpaca/)."""
