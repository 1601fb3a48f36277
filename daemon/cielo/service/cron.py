"""The next fire time of a live job's cron fields, without APScheduler.

`cielo status` shows when each live job runs next; importing APScheduler for that costs ~12 ms of a command
that should start in well under a quarter of a second. Sources' `schedule()` uses a small subset of
APScheduler's cron fields: `minute` (an int or "a,b,c"), `hour` (an int), `second` (an int) and `timezone`
(the daemon's scheduler runs in UTC otherwise). This walks minute by minute, at most two days, and agrees with
APScheduler's `CronTrigger(**fields).get_next_fire_time(None, now)` (tests/test_cron.py compares them).
Local times a spring-forward night skips are skipped here (APScheduler would name the nonexistent time);
no source fires at a fixed local hour in those two hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

FIELDS = frozenset({"minute", "hour", "second", "timezone"})


def _values(field: Any, default: set[int] | None) -> set[int] | None:
    if field is None:
        return default
    return {int(v) for v in str(field).split(",")}


def next_fire(fields: dict[str, Any], now: datetime) -> datetime | None:
    """The first instant at or after `now` the cron fields match, in UTC (None past two days)."""
    unknown = set(fields) - FIELDS
    if unknown:
        raise ValueError(f"cron fields not handled here: {', '.join(sorted(unknown))}")
    tz = ZoneInfo(str(fields.get("timezone") or "UTC"))
    minutes = _values(fields.get("minute"), None)
    hours = _values(fields.get("hour"), None)
    second = int(fields.get("second") or 0)
    local = now.astimezone(tz).replace(second=0, microsecond=0)
    for _ in range(2 * 24 * 60 + 1):
        if (hours is None or local.hour in hours) and (minutes is None or local.minute in minutes):
            at = local.replace(second=second)
            if at >= now:
                return at.astimezone(UTC)
        local = (local.astimezone(UTC) + timedelta(minutes=1)).astimezone(tz)
    return None
