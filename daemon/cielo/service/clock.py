"""Is the clock sane? A Pi has no real-time clock: after a power cut it can boot days behind until NTP
syncs. Capturing then would file images under wrong times and plan a catch-up for a range that is not
missing, so live runs wait until the clock is past the build date and past the newest write in the
database.

The newest write is itself only as good as the clock that stamped it: one run with a clock in 2031 would
otherwise block capture until 2031. So once the system says its clock is synchronised (systemd-timesyncd's
flag file, else the kernel's adjtimex status), the clock wins: capture resumes, and writes stamped later than
now are reported by `cielo doctor` and moved aside by `cielo prune-future` (cielo.store.Store.move_future).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cielo import BUILD_DATE
from cielo.errors import CieloError
from cielo.store import Store
from cielo.timeutil import from_iso, iso

SLACK = timedelta(minutes=2)  # two writers' clocks a little apart is not a problem
TIMESYNCD_FLAG = Path("/run/systemd/timesync/synchronized")  # touched by systemd-timesyncd on each sync
STA_UNSYNC = 0x0040
TIME_ERROR = 5


def synchronised() -> bool | None:
    """Does the system say its clock is synchronised? None when it cannot tell. `CIELO_CLOCK_SYNCED=yes|no`
    overrides (tests, and boards whose NTP client leaves no trace)."""
    forced = os.environ.get("CIELO_CLOCK_SYNCED", "").strip().lower()
    if forced in ("yes", "1", "true"):
        return True
    if forced in ("no", "0", "false"):
        return False
    if TIMESYNCD_FLAG.exists():
        return True
    return _adjtimex_synced()


def _adjtimex_synced() -> bool | None:
    """The kernel's NTP status (adjtimex with no modes only reads); None where the call is not allowed
    (systemd's ProtectClock filters it) or not there."""
    try:
        import ctypes

        class Timex(ctypes.Structure):
            _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                        ("rest", ctypes.c_long * 32)]

        libc = ctypes.CDLL(None, use_errno=True)
        tx = Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != TIME_ERROR and not tx.status & STA_UNSYNC


def problem(store: Store, now: datetime) -> str | None:
    """One line saying what is wrong with `now`, or None when it can be trusted."""
    build = datetime.fromisoformat(BUILD_DATE).replace(tzinfo=UTC)
    if now < build:
        return f"the clock says {iso(now)}, before this cielo was built ({BUILD_DATE}): waiting for time sync"
    newest = store.newest_ingested()
    if newest and now < from_iso(newest) - SLACK and not synchronised():
        return (f"the clock says {iso(now)}, before the newest stored write ({newest}): waiting for time sync "
                "(if the clock is right, that write came from a wrong clock: `cielo prune-future` moves it aside)")
    return None


def future_detail(store: Store, now: datetime) -> str:
    """Which time of the readings `Store.future_writes` counts is after `now`: when they were written (a
    clock that was ahead) and/or the slot they are for (a source or file that dated them in the future)."""
    written, latest_write, slots, latest_slot = store.future_kinds(now)
    parts = []
    if written:
        parts.append(f"{written} written at a time after now (up to {latest_write}: a clock that was ahead)")
    if slots:
        parts.append(f"{slots} for slots more than two days after now (up to {latest_slot}: dated in the future "
                     "by their source or file)")
    return "; ".join(parts)


def future_cutoff(now: datetime) -> datetime:
    return now + SLACK


def prune_future(store: Store, now: datetime, dry_run: bool, force: bool = False) -> str:
    """`cielo prune-future`: move readings stamped later than `now` aside (refused while the clock is not
    synchronised, unless `force`: then they may be right and the clock wrong); returns the line that says
    what happened, naming which time is after now (future_detail)."""
    ahead, _latest = store.future_writes(now)
    if not ahead:
        return f"no readings stamped later than now ({iso(now)})"
    which = future_detail(store, now)
    if synchronised() is False and not dry_run and not force:
        raise CieloError(f"the system clock ({iso(now)}) is not synchronised: {ahead} readings {which} may be "
                         "right and the clock wrong; sync it first (timedatectl), or if the clock is right run "
                         "`cielo prune-future --force`")
    if dry_run:
        return f"{ahead} readings stamped later than now ({iso(now)}): {which} (dry run: nothing moved)"
    moved = store.move_future(now)
    return (f"moved {moved} readings stamped later than now ({iso(now)}: {which}) into readings_future; "
            "the next gap check refills their slots")
