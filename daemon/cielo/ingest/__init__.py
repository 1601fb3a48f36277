"""Ingest: every path that brings data in (a live capture, a catch-up or detached job, `cielo backfill`)
enters through `cielo.ingest.engine.fill`."""
