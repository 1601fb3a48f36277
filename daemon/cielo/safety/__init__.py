"""Night safety for an observatory: the state machine (machine) and the daemon's thread around it (watch)."""
