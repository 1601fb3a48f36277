"""`cielo doctor` lines for the way frames are found: the folder is readable by this user and its newest frame
is recent; a latest-frame URL answers a fresh image; an archive answers for the newest slot."""

from __future__ import annotations

import getpass
from datetime import timedelta
from typing import TYPE_CHECKING

from cielo.errors import CieloError
from cielo.timeutil import human_duration, iso, utcnow

if TYPE_CHECKING:
    from cielo.sources.skycam.source import SkycamSource


def camera_checks(source: SkycamSource) -> list[tuple[bool, str]]:
    cfg, now = source.cfg, utcnow()
    try:
        if cfg.folder is not None:
            return [_folder(source, now)]
        if cfg.latest_url is not None:
            found = source.locator.find(now, now)
            age = human_duration(max((now - found.taken).total_seconds(), 0)) if found.taken else "?"
            return [(True, f"camera: {cfg.latest_url} answers an image ({len(found.body)} bytes) taken "
                           f"{iso(found.taken or now)}, {age} ago")]
        slot = source.live_range(now)[0]
        found = source.locator.find(slot, now)
        return [(True, f"camera: {found.where} answers an image ({len(found.body)} bytes)")]
    except CieloError as exc:
        where = "folder" if cfg.folder is not None else cfg.way
        return [(False, f"camera: {exc}: check [skycam].{where}")]
    finally:
        source.close()


def _folder(source: SkycamSource, now) -> tuple[bool, str]:
    from cielo.sources.skycam.locate_folder import FolderLocator

    locator = source.locator
    assert isinstance(locator, FolderLocator)
    cfg = source.cfg
    way = f"layout {cfg.layout}" if cfg.layout else f"pattern {cfg.pattern!r}"
    try:
        locator.check()
    except CieloError as exc:
        return False, (f"camera folder: {exc}: the service runs as its own user (cielo): give it read access "
                       f"(e.g. add it to the folder owner's group), or fix [skycam].folder")
    newest = locator.newest(now)
    who = getpass.getuser()
    if newest is None:
        return False, (f"camera folder: {cfg.folder} is readable by {who} but holds no frame of the last 2 days "
                       f"named as its {way} says: check [skycam].layout/pattern and that the camera program runs")
    taken, path = newest
    age = (now - taken).total_seconds()
    fresh = age <= (cfg.longest_wait * 2 + timedelta(seconds=cfg.delay_s)).total_seconds()
    text = f"camera folder: {cfg.folder} readable by {who} ({way}); newest frame {path.name}, {human_duration(age)} old"
    return fresh, text if fresh else f"{text}: the camera program has stopped writing frames"
