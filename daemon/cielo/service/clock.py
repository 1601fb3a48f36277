"""Is the clock sane? A Pi has no real-time clock: after a power cut it can boot days behind until NTP
syncs. Capturing then would file images under wrong times and plan a catch-up for a range that is not
missing, so live runs wait until the clock is past the build date and past the newest write in the
database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cielo import BUILD_DATE
from cielo.store import Store
from cielo.timeutil import from_iso, iso

SLACK = timedelta(minutes=2)  # two writers' clocks a little apart is not a problem


def problem(store: Store, now: datetime) -> str | None:
    """One line saying what is wrong with `now`, or None when it can be trusted."""
    build = datetime.fromisoformat(BUILD_DATE).replace(tzinfo=UTC)
    if now < build:
        return f"the clock says {iso(now)}, before this cielo was built ({BUILD_DATE}): waiting for time sync"
    (newest,) = store.query("SELECT max(ingested_at) FROM readings")[0]
    if newest and now < from_iso(newest) - SLACK:
        return f"the clock says {iso(now)}, before the newest stored write ({newest}): waiting for time sync"
    return None
