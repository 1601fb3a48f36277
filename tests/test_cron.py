"""cielo.service.cron's next fire time (what `cielo status` shows) against APScheduler's, which runs the jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from cielo.config import Settings
from cielo.service.cron import next_fire
from cielo.sources import registry

SCHEDULES = [
    {"minute": "2,12,22,32,42,52", "second": 30, "timezone": "America/Argentina/Buenos_Aires"},
    {"minute": "3,13,23,33,43,53", "second": 0, "timezone": "Europe/Madrid"},  # DST days below
    {"minute": 5},
    {"hour": 7, "minute": 15},
    {"hour": 7, "minute": 15, "timezone": "Europe/Madrid"},
]


def same(a: datetime | None, b: datetime | None) -> bool:
    """One instant (aware datetimes of a repeated local hour never compare equal across zones)."""
    return a is b is None or (a is not None and b is not None and a.timestamp() == b.timestamp())


@pytest.mark.parametrize("fields", SCHEDULES)
def test_next_fire_agrees_with_apscheduler(fields: dict):
    trigger = CronTrigger(**({"timezone": "UTC"} | fields))
    start = datetime(2025, 3, 29, 22, 0, tzinfo=UTC)  # across Madrid's spring-forward night
    for k in range(0, 60 * 60 * 30, 397):  # every 397 s for 30 h: on, before and after fire times
        now = start + timedelta(seconds=k)
        assert same(next_fire(fields, now), trigger.get_next_fire_time(None, now)), (fields, now)
    autumn = datetime(2025, 10, 25, 22, 0, tzinfo=UTC)
    for k in range(0, 60 * 60 * 30, 397):
        now = autumn + timedelta(seconds=k)
        assert same(next_fire(fields, now), trigger.get_next_fire_time(None, now)), (fields, now)


def test_every_source_schedule_is_understood():
    settings = registry.check(Settings.model_validate({"sources": {"ree": {"enabled": True}}}))
    now = datetime(2025, 6, 1, 12, 0, 1, tzinfo=UTC)
    for cls in registry.SOURCES:
        fields = cls.schedule(settings)
        assert same(next_fire(fields, now), CronTrigger(**({"timezone": "UTC"} | fields)).get_next_fire_time(None, now))


def test_unknown_fields_are_refused():
    with pytest.raises(ValueError, match="day_of_week"):
        next_fire({"minute": 5, "day_of_week": "mon"}, datetime(2025, 1, 1, tzinfo=UTC))
