"""Frames at a URL computed from the slot's time: the seed's naming, or any archive's through `url_template`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from cielo.sources.skycam.located import Found, Getter

Naming = Callable[[datetime, datetime], str]  # (slot, now) -> URL


def seed_naming(base_url: str, year_dir: str, tz: ZoneInfo) -> Naming:
    """`<base_url>[/<YYYY>]/<YYYY>-<MMDDHH><mm>.jpg` in the camera's time; the year folder per `year_dir`
    ("past": only for years before the current one, the seed camera's layout)."""

    def url(slot: datetime, now: datetime) -> str:
        local = slot.astimezone(tz)
        name = f"{local:%Y}-{local:%m%d%H%M}.jpg"
        if year_dir == "always" or (year_dir == "past" and local.year < now.astimezone(tz).year):
            return f"{base_url}/{local:%Y}/{name}"
        return f"{base_url}/{name}"

    return url


def template_naming(template: str, tz: ZoneInfo) -> Naming:
    """A Python format string with `t`, the slot's time in the camera's time zone."""

    def url(slot: datetime, now: datetime) -> str:
        return template.format(t=slot.astimezone(tz))

    return url


class TemplateLocator:
    """One request per slot, at the URL its naming gives; 404 means the camera has no frame for it."""

    archive = True

    def __init__(self, naming: Naming, get: Getter):
        self.naming = naming
        self.get = get

    def url_for(self, slot: datetime, now: datetime) -> str:
        return self.naming(slot, now)

    def find(self, slot: datetime, now: datetime) -> Found:
        url = self.naming(slot, now)
        body, _headers = self.get(url)
        return Found(slot, url, body)
