"""The SQLite store, the one place that speaks SQL: readings and events (database.py), the outbox's rows
(outbox.py), backfill jobs and tasks (jobs.py), request budgets and breakers (budget.py)."""

from cielo.store.database import (
    MIGRATIONS,
    UPSERT,
    Announcer,
    Latest,
    Missing,
    Reading,
    Store,
    StoreError,
    disk_full,
    write_event,
)

__all__ = ["MIGRATIONS", "UPSERT", "Announcer", "Latest", "Missing", "Reading", "Store", "StoreError", "disk_full",
           "write_event"]
