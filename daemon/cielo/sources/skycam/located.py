"""What every way of finding frames (the locate_* modules) hands the camera source: a frame's bytes, where
they came from, the slot they fill and, when the frame's own time is known, that time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# GET a URL through the camera's budget and breaker: (body, response headers).
Getter = Callable[[str], tuple[bytes, Mapping[str, str]]]


@dataclass(frozen=True, slots=True)
class Found:
    slot: datetime  # the camera slot the frame fills (UTC)
    where: str  # its URL or file path
    body: bytes
    taken: datetime | None = None  # when the frame was taken, where it differs from the slot
    local: bool = False  # a file on this board: never copied again with keep_images


class Locator(Protocol):
    archive: bool  # False: only the newest frame exists (no backfill, no catch-up)

    def find(self, slot: datetime, now: datetime) -> Found:
        """The frame for `slot`; raises cielo.http.NotFound when there is none, FetchError when it cannot be
        had now (one line)."""
        ...
