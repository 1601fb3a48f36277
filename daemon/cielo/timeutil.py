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
    """CIELO_FAKE_NOW (tests only): the process's clock reads that instant when first asked and runs on from
    there (first asked, not imported: the imports of a start, pydantic's and the config's, would age it)."""
    fake = os.environ.get("CIELO_FAKE_NOW")
    if not fake:
        return timedelta(0)
    return datetime.fromisoformat(fake.replace("Z", "+00:00")).astimezone(UTC) - datetime.now(UTC)


_offset: timedelta | None = None


def utcnow() -> datetime:
    global _offset
    if _offset is None:
        _offset = _fake_offset()
    return datetime.now(UTC) + _offset


def iso(ts: datetime) -> str:
    """`2025-01-01T00:02:00Z`: the one text form of an instant in the database and on MQTT."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def whole_second(t: datetime) -> datetime:
    """`t` rounded up to a whole second: the same slots (which are on whole seconds) fall before it, and `iso`
    keeps it as it is."""
    return t if not t.microsecond else t.replace(microsecond=0) + timedelta(seconds=1)


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


_RELATIVE = re.compile(r"^-\s*(?P<n>\d{1,6})\s*(?P<unit>m|min|h|d|w)$")
_UNIT = {"m": timedelta(minutes=1), "min": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
         "w": timedelta(weeks=1)}


def relative_time(text: str, tz: ZoneInfo, now: datetime | None = None) -> datetime | None:
    """`now`, `today`, `yesterday` (local midnight in `tz`, like typing that date) or `-14d`, `-6h`, `-30m`,
    `-2w` (that long before now), as UTC; None when `text` is none of these."""
    word = text.strip().lower()
    now = now or utcnow()
    if word == "now":
        return now
    if word in ("today", "yesterday"):
        day = now.astimezone(tz).date() - timedelta(days=1 if word == "yesterday" else 0)
        return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    m = _RELATIVE.match(word)
    return now - int(m["n"]) * _UNIT[m["unit"]] if m else None


def glue_relative(argv: list[str], flags: tuple[str, ...]) -> list[str]:
    """`--from -14d` as `--from=-14d`: argparse takes a value starting with `-` for an option of its own."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in flags and arg[:1] == "-" and arg[1:2].isdigit():  # -14d, or -2x to be refused
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def parse_cli_time(text: str, tz: ZoneInfo, flag: str = "time", now: datetime | None = None) -> datetime:
    """`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`, in `tz` unless suffixed `Z` or an offset, or a relative time
    (`relative_time`: `-14d`, `-6h`, `yesterday`, `today`, `now`); returns UTC."""
    try:
        relative = relative_time(text, tz, now)
    except OverflowError:
        raise UsageError(f"{flag}: {text!r} is out of range") from None
    if relative is not None:
        return relative
    m = _CLI_TIME.match(text.strip())
    if not m:
        raise UsageError(f"{flag}: cannot read {text!r} (expected YYYY-MM-DD, YYYY-MM-DDTHH:MM, or relative: "
                         "-14d, -6h, -30m, yesterday, today, now)")
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


# Command-line instants: nothing was recorded before 1970, and far-future dates overflow local-time arithmetic.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2201, 1, 1, tzinfo=UTC)


def cli_range(start_text: str, end_text: str, tz: ZoneInfo, command: str) -> tuple[datetime, datetime]:
    """--from/--to as the UTC range [from, to + 1 min): `--to` names the last minute included."""
    start = parse_cli_time(start_text, tz, "--from")
    last = parse_cli_time(end_text, tz, "--to")
    for flag, text, ts in (("--from", start_text, start), ("--to", end_text, last)):
        if not EARLIEST <= ts <= LATEST:
            raise UsageError(f"{command}: {flag} {text} is out of range (1970 to 2200)")
    if last < start:
        raise UsageError(f"{command}: --to ({end_text}) is before --from ({start_text})")
    return start, last + timedelta(minutes=1)


def duration(text: str) -> timedelta | None:
    """`30s`, `5m`, `2h`, `1d` as a timedelta; None when it is not one."""
    m = re.fullmatch(r"(\d+)\s*(s|m|h|d)", text.strip())
    return timedelta(seconds=int(m[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m[2]]) if m else None


def human_duration(seconds: float) -> str:
    """`3.2 h`, `1.5 d`, `40 s`: for people reading a lag or a gap."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"
