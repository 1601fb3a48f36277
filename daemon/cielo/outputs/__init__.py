"""Outputs: where what cielo stored goes out. MQTT (mqtt/) and the ASCOM Alpaca server for observatories
(alpaca/: SafetyMonitor, ObservingConditions, the INDI Weather Safety Proxy's JSON).

How an output plugs in:
- It reads through `cielo.latest.LatestState` (each series' newest reading, the status summary), never the
  database directly; what it must not lose in a crash it writes through the store's transactions (MQTT:
  its outbox rows are written with the readings they announce, `cielo.store.outbox`). The Alpaca server
  reads the safety monitor's verdict (cielo.safety.watch), which reads the camera's frames from the store.
- It runs in the daemon (`cielo.service.scheduler.Daemon` starts it beside the scheduler: a thread with
  `start()` and `stop()`), is off unless its own config table turns it on, and names no source: series and
  their specs come from `cielo.sources.registry`.
- Its module lives here, under a folder named after the protocol (mqtt/, alpaca/).
"""
