"""ASCOM Alpaca: a SafetyMonitor and an ObservingConditions, the management API, setup pages, UDP discovery
and the INDI Weather Safety Proxy's JSON, served from the daemon (docs/observatory.md)."""
