"""UTC instants in, UTC ISO-8601 text out; local time only at the edges (docs/contract.md, Time)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cielo.errors import UsageError

_CLI_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<tz>Z|[+-]\d{2}:?\d{2})?)?$"
)


def _fake_offset() -> timedelta:
    """CIELO_FAKE_NOW (tests only): the process's clock starts at that instant and runs on from there."""
    fake = os.environ.get("CIELO_FAKE_NOW")
    if not fake:
        return timedelta(0)
    return datetime.fromisoformat(fake.replace("Z", "+00:00")).astimezone(UTC) - datetime.now(UTC)


_OFFSET = _fake_offset()


def utcnow() -> datetime:
    return datetime.now(UTC) + _OFFSET


def iso(ts: datetime) -> str:
    """`2025-01-01T00:02:00Z`: the one text form of an instant in the database and on MQTT."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def parse_cli_time(text: str, tz: ZoneInfo, flag: str = "time") -> datetime:
    """`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`, in `tz` unless suffixed `Z` or an offset; returns UTC."""
    m = _CLI_TIME.match(text.strip())
    if not m:
        raise UsageError(f"{flag}: cannot read {text!r} (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM)")
    try:
        local = datetime.fromisoformat(m["date"] + "T" + (m["time"] or "00:00"))
    except ValueError as exc:
        raise UsageError(f"{flag}: {text!r} is not a valid date: {exc}") from None
    try:
        if m["tz"] == "Z":
            return local.replace(tzinfo=UTC)
        if m["tz"]:
            sign = 1 if m["tz"][0] == "+" else -1
            digits = m["tz"][1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return (local - sign * offset).replace(tzinfo=UTC)
        return local.replace(tzinfo=tz).astimezone(UTC)
    except (OverflowError, ValueError):
        raise UsageError(f"{flag}: {text!r} is out of range") from None


def human_duration(seconds: float) -> str:
    """`3.2 h`, `1.5 d`, `40 s`: for people reading a lag or a gap."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"
