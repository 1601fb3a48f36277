"""One URL that always serves the newest frame (allsky's `/current/tmp/image.jpg`, indi-allsky's
`/indi-allsky/images/latest.jpg`): each live capture fetches it, stamps the frame and files it in its slot.

The stamp is the frame's EXIF DateTimeOriginal (with OffsetTimeOriginal; without it the camera's time zone,
as indi-allsky writes it), else the answer's Last-Modified, else the fetch time. A frame older than two of the
camera's longest waits is stale: the camera has stopped, and nothing is stored (a stopped camera must never
look like a clear sky). Such a camera keeps no archive, so there is nothing to backfill."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from cielo.http import FetchError
from cielo.sources.skycam import exif
from cielo.sources.skycam.located import Found, Getter
from cielo.timeutil import human_duration, iso

FUTURE_SLACK = timedelta(minutes=2)  # a camera clock this far ahead of ours is still believed


class CameraStopped(FetchError):
    """The newest frame is stale."""

    def __init__(self, message: str):
        super().__init__(message, transient=False, kind="camera stopped")


def stamp(body: bytes, headers: Mapping[str, str], now: datetime, tz: ZoneInfo) -> tuple[datetime, str]:
    """(when the frame was taken, how that is known)."""
    taken = exif.taken(body, tz)
    if taken is not None:
        return taken, "exif"
    modified = next((v for k, v in headers.items() if k.lower() == "last-modified"), None)
    if modified:
        try:
            return parsedate_to_datetime(modified), "last-modified"
        except (TypeError, ValueError, IndexError):
            pass
    return now, "fetch time"


class LatestLocator:
    archive = False

    def __init__(self, url: str, get: Getter, tz: ZoneInfo, slot_of: Callable[[datetime, datetime], datetime],
                 stale_after: timedelta):
        self.url = url
        self.get = get
        self.tz = tz
        self.slot_of = slot_of
        self.stale_after = stale_after

    def find(self, slot: datetime, now: datetime) -> Found:
        body, headers = self.get(self.url)
        taken, how = stamp(body, headers, now, self.tz)
        age = (now - taken).total_seconds()
        if age > self.stale_after.total_seconds():
            raise CameraStopped(f"{self.url}: the camera has stopped: its newest frame was taken {iso(taken)} "
                                f"({human_duration(age)} ago, by its {how}); nothing stored")
        if -age > FUTURE_SLACK.total_seconds():
            raise FetchError(f"{self.url}: the newest frame is stamped {iso(taken)} (by its {how}), "
                             f"{human_duration(-age)} ahead of this board's clock; nothing stored",
                             transient=False, kind="stamped in the future")
        return Found(self.slot_of(taken, now), self.url, body, taken)
