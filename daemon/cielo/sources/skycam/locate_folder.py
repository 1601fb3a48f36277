"""Frames in the folder a camera program writes on this board (AllskyTeam/allsky, indi-allsky, or any naming
given as a strptime `pattern`).

A frame's time comes from its path, never from file times. Each camera slot takes the frame nearest its minute
within half a cadence (while the slot is still open, the newest one so far). Only the folders a range can need
are listed (a folder's name gives the days or hours it can hold, a day either side for programs that file a
night under the date it began), and each listing is kept while the folder's mtime says it is unchanged, so a
day's backfill over a year-deep tree reads three day folders, not a year. Nothing here is ever written: files
are opened read-only, and a file still being written (younger than a few seconds, or growing while read) is
left for the next pass.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import stat
import threading
import time
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cielo.http import FetchError, NotFound
from cielo.sources.skycam.located import Found

log = logging.getLogger(__name__)

SETTLE_S = 5.0  # a file changed this recently may still be being written
FUTURE_SLACK = timedelta(minutes=2)  # a frame named later than now + this is ignored (a camera clock ahead)
MAX_ENTRIES = 200_000  # frames kept in listings across folders: bounds memory on huge flat folders
KEEP = 2 * 86400.0  # seconds either side of the range asked for that a listing keeps
IMAGE_EXTS = frozenset({"jpg", "jpeg", "png"})

# Where each program files its frames, read in their code (tests/sources/skycam/fixtures/README.md):
# allsky: ~/allsky/images/YYYYMMDD/image-YYYYMMDDHHMMSS.jpg, a night under the date it began (12 hours ago);
# the file's stem is allsky's `filename` setting ("image" by default).
# indi-allsky: <IMAGE_FOLDER>/ccd_<uuid>/exposures/YYYYMMDD/<day|night>/DD_HH/ccd<N>_YYYYMMDD_HHMMSS.jpg,
# IMAGE_FOLDER /var/www/html/allsky/images by default; the day folder is the night's or the day's date.
LAYOUTS = {
    "allsky": "%Y%m%d/*-%Y%m%d%H%M%S.*",
    "indi-allsky": "ccd_*/exposures/%Y%m%d/*/%d_%H/ccd*_%Y%m%d_%H%M%S.*",
}

CODES = {"Y": r"\d{4}", "y": r"\d{2}", "m": r"\d{2}", "d": r"\d{2}", "H": r"\d{2}", "M": r"\d{2}", "S": r"\d{2}",
         "j": r"\d{3}"}
DIR_CODES = ("Y", "y", "m", "d", "j", "H")  # what a folder name can be checked against, hour by hour


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    regex: re.Pattern[str]
    codes: tuple[str, ...]  # in group order: group i+1 is codes[i]


def _segment(text: str) -> Segment:
    out, codes, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c == "%":
            code = text[i + 1: i + 2]
            if code == "%":
                out.append("%")
            elif code in CODES:
                out.append(f"({CODES[code]})")
                codes.append(code)
            else:
                raise ValueError(f"{text!r}: %{code} is not one of %Y %y %m %d %j %H %M %S")
            i += 2
            continue
        out.append(".*?" if c == "*" else re.escape(c))
        i += 1
    return Segment(text, re.compile("".join(out)), tuple(codes))


def compile_pattern(pattern: str) -> list[Segment]:
    parts = [p for p in pattern.strip("/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError(f"{pattern!r} is not a path under the folder")
    return [_segment(p) for p in parts]


def check_pattern(pattern: str) -> None:
    """ValueError unless every frame's path under the pattern gives its date and its hour and minute."""
    segments = compile_pattern(pattern)
    have = {c for s in segments for c in s.codes}
    day = {"Y", "m", "d"} <= have or {"y", "m", "d"} <= have or ({"Y", "j"} <= have) or ({"y", "j"} <= have)
    if not day or not {"H", "M"} <= have:
        raise ValueError(f"{pattern!r} must give the date (%Y%m%d or %Y%j) and %H%M of each frame")


def _fields(seg: Segment, m: re.Match[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for code, value in zip(seg.codes, m.groups(), strict=True):
        out.setdefault(code, int(value))
    return out


class Clock:
    """Local wall times of file names to UTC seconds, fast: a folder may hold 100,000 names. The zone's offset
    is looked up once per local hour; a wall time that happens twice (DST fall-back) is taken the first time,
    as the camera's slots are."""

    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self._offsets: dict[tuple[int, int, int, int], float] = {}
        self._days: dict[tuple[int, int, int], int] = {}

    def seconds(self, fields: dict[str, int]) -> float | None:
        year = fields.get("Y", 2000 + fields["y"] if "y" in fields else None)
        if year is None:
            return None
        try:
            if "j" in fields and not ("m" in fields and "d" in fields):
                day = date(year, 1, 1) + timedelta(days=fields["j"] - 1)
                month, dom = day.month, day.day
            else:
                month, dom = fields["m"], fields["d"]
            hour, minute, second = fields["H"], fields["M"], fields.get("S", 0)
            if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 62):
                return None
            key = (year, month, dom)
            days = self._days.get(key)
            if days is None:
                days = self._days[key] = (date(year, month, dom) - EPOCH).days
            hkey = (year, month, dom, hour)
            offset = self._offsets.get(hkey)
            if offset is None:
                local = datetime(year, month, dom, hour, 30, tzinfo=self.tz)
                offset = self._offsets[hkey] = (local.utcoffset() or timedelta(0)).total_seconds()
            return days * 86400 + hour * 3600 + minute * 60 + second - offset
        except (KeyError, ValueError, OverflowError):
            return None


EPOCH = date(1970, 1, 1)


class FolderLocator:
    archive = True

    def __init__(self, root: Path, tz: ZoneInfo, half: timedelta, *, layout: str | None = None,
                 pattern: str | None = None, max_bytes: int = 8_000_000):
        self.root = root
        self.tz = tz
        self.half = half
        self.max_bytes = max_bytes
        self.layout = layout
        self.exts = IMAGE_EXTS if layout else None  # a user's own pattern says its extension itself
        self.segments = compile_pattern(LAYOUTS[layout] if layout else pattern or "")
        self.anywhere = layout is None and len(self.segments) == 1  # a bare file name: at any depth
        self._lock = threading.Lock()
        self._dirs: dict[str, tuple[int, list[tuple[str, dict[str, int], tuple[int, ...]]]]] = {}
        self._files: OrderedDict[str, tuple[int, float, float, array, list[str], int, str]] = OrderedDict()
        self._entries = 0
        self._walked: tuple[float, list[Path]] | None = None
        self._warned: set[str] = set()
        self._resolved: list[Segment] | None = None
        self._clock = Clock(tz)

    # -- the public side ---------------------------------------------------------------------------------

    def find(self, slot: datetime, now: datetime) -> Found:
        lo, hi = slot - self.half, slot + self.half
        frames, unmatched = self.frames(lo, hi, now)
        if not frames:
            hint = (f"; {unmatched[0]} file(s) there match no name of the {self._naming()} (e.g. {unmatched[1]!r})"
                    if unmatched[0] else "")
            raise NotFound(f"{self.root}: no frame within {_minutes(self.half)} of "
                           f"{slot.astimezone(self.tz):%Y-%m-%d %H:%M} ({self.tz.key}){hint}")
        if hi > now:  # the slot is still open: the newest frame so far
            taken, path = frames[-1]
        else:
            taken, path = min(frames, key=lambda f: (abs((f[0] - slot).total_seconds()), f[0]))
        return Found(slot, str(path), self._read(path), taken, local=True)

    def newest(self, now: datetime, within: timedelta = timedelta(days=2)) -> tuple[datetime, Path] | None:
        frames, _ = self.frames(now - within, now + FUTURE_SLACK, now)
        return frames[-1] if frames else None

    def frames(self, lo: datetime, hi: datetime, now: datetime) -> tuple[list[tuple[datetime, Path]], tuple[int, str]]:
        """Frames taken in [lo, hi) and not in the future, ascending; and (names there that match nothing, one)."""
        t0, t1 = lo.timestamp(), hi.timestamp()
        limit = (now + FUTURE_SLACK).timestamp()
        out: list[tuple[datetime, Path]] = []
        unmatched, example = 0, ""
        with self._lock:
            for folder, fields in self._folders(lo, hi):
                stamps, names, bad, one = self._listing(folder, fields, t0, t1)
                unmatched += bad
                example = example or one
                for i in range(bisect.bisect_left(stamps, t0), bisect.bisect_left(stamps, t1)):
                    path = folder / names[i]
                    if stamps[i] > limit:
                        self._warn(f"{path}: named {datetime.fromtimestamp(stamps[i], self.tz):%Y-%m-%d %H:%M:%S}, "
                                   "later than now (the camera's clock?): ignored")
                        continue
                    out.append((datetime.fromtimestamp(stamps[i], lo.tzinfo), path))
        out.sort()
        return out, (unmatched, example)

    def check(self) -> None:
        """FetchError when the folder cannot be read (missing, not a folder, no permission)."""
        try:
            if not stat.S_ISDIR(os.stat(self.root).st_mode):
                raise FetchError(f"{self.root}: not a folder", transient=False, kind="no such folder")
            with os.scandir(self.root):  # opening it is the permission check; a huge folder is not read here
                pass
        except FileNotFoundError:
            raise FetchError(f"{self.root}: no such folder", transient=False, kind="no such folder") from None
        except PermissionError:
            raise FetchError(f"{self.root}: not readable by {_user()}", transient=False,
                             kind="folder not readable") from None
        except OSError as exc:
            raise FetchError(f"{self.root}: {exc.strerror or exc}", transient=False,
                             kind="folder not readable") from None

    # -- reading one frame ---------------------------------------------------------------------------------

    def _read(self, path: Path) -> bytes:
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):  # a pipe would block the read forever; a folder named like a frame
                raise FetchError(f"{path}: not a file", transient=False, kind="file not readable")
            age = time.time() - st.st_mtime
            if age < SETTLE_S:
                raise FetchError(f"{path}: still being written (changed {max(age, 0):.1f} s ago); left for the next "
                                 "pass", kind="still being written")
            if st.st_size > self.max_bytes:
                raise FetchError(f"{path}: {st.st_size} bytes is over the {self.max_bytes}-byte cap",
                                 transient=False, kind="too large")
            with open(path, "rb") as f:  # read-only: the camera program's files are never changed
                body = f.read(self.max_bytes + 1)
            if len(body) != st.st_size or path.stat().st_mtime_ns != st.st_mtime_ns:
                raise FetchError(f"{path}: changed while read (still being written); left for the next pass",
                                 kind="still being written")
            return body
        except PermissionError:
            raise FetchError(f"{path}: not readable by {_user()}", transient=False,
                             kind="file not readable") from None
        except OSError as exc:  # gone since the listing, a symlink loop, an I/O error
            raise FetchError(f"{path}: {exc.strerror or exc}", transient=False, kind="file not readable") from None

    # -- which folders, and what is in them ----------------------------------------------------------------

    def _naming(self) -> str:
        return f"{self.layout} layout" if self.layout else f"pattern {self.segments[-1].text!r}"

    def _warn(self, text: str) -> None:
        if text not in self._warned and len(self._warned) < 100:
            self._warned.add(text)
            log.warning("skycam: %s", text)

    def _segments(self) -> list[Segment]:
        """The layout's segments from where `folder` points: indi-allsky users may name its images folder,
        one camera's ccd_<uuid> folder or its exposures folder."""
        if self._resolved is not None:
            return self._resolved
        segments = self.segments
        if self.layout == "indi-allsky":
            if self.root.name == "exposures":
                segments = segments[2:]
            elif (self.root / "exposures").is_dir():
                segments = segments[1:]
            else:
                cameras = sorted(name for name, _, _ in self._subdirs(self.root, segments[0], ()))
                if len(cameras) > 1:
                    raise FetchError(f"{self.root}: holds {len(cameras)} cameras ({', '.join(cameras)}): set folder "
                                     f"to one of them", transient=False, kind="several cameras")
        self._resolved = segments
        return segments

    def _folders(self, lo: datetime, hi: datetime) -> list[tuple[Path, dict[str, int]]]:
        """The folders frames of [lo, hi) can be in, each with the time fields its path gives."""
        self.check()
        segments = self._segments()
        if self.anywhere:
            return [(d, {}) for d in self._walk()]
        # Folder names are checked against every hour a frame of [lo, hi) may be filed under.
        hours: list[datetime] = []
        t = (lo - timedelta(days=1)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        end = hi + timedelta(days=1)
        while t < end:  # in UTC: local hours repeat or vanish at DST changes
            hours.append(t.astimezone(self.tz))
            t += timedelta(hours=1)
        level: list[tuple[Path, dict[str, int]]] = [(self.root, {})]
        for seg in segments[:-1]:
            codes = tuple(c for c in seg.codes if c in DIR_CODES)
            allowed = {tuple(int(h.strftime(f"%{c}")) for c in codes) for h in hours} if codes else None
            nxt = []
            for folder, fields in level:
                for name, got, key in self._subdirs(folder, seg, codes):
                    if allowed is None or key in allowed:
                        nxt.append((folder / name, fields | got))
            level = nxt
        return level

    def _walk(self) -> list[Path]:
        """Every folder under the root (symlinked folders are not followed: no loops), kept for a minute. Only
        folders are collected: a folder's files are read when it is listed."""
        if self._walked is not None and time.monotonic() - self._walked[0] < 60:
            return self._walked[1]
        found, todo = [], [self.root]
        while todo and len(found) < 100_000:
            folder = todo.pop()
            found.append(folder)
            try:
                with os.scandir(folder) as it:
                    todo += [Path(e.path) for e in it if e.is_dir(follow_symlinks=False)]
            except OSError as exc:
                self._warn(f"{folder}: {exc.strerror or exc}: skipped")
        self._walked = (time.monotonic(), found)
        return found

    def _subdirs(self, folder: Path, seg: Segment,
                 codes: tuple[str, ...]) -> list[tuple[str, dict[str, int], tuple[int, ...]]]:
        """The folder's subfolders that `seg` names, each with its time fields and their `codes` values; kept
        while the folder's mtime says it is unchanged."""
        key = f"{folder}\0{seg.text}"
        try:
            mtime = folder.stat().st_mtime_ns
            held = self._dirs.get(key)
            if held is not None and held[0] == mtime:
                return held[1]
            names = []
            with os.scandir(folder) as it:
                for e in it:
                    try:
                        if e.is_dir():  # follows a symlink to a folder; a symlink loop is no folder
                            names.append(e.name)
                    except OSError:
                        continue
        except OSError as exc:
            self._warn(f"{folder}: {exc.strerror or exc}: skipped")
            return []
        out = []
        for name in names:
            if (m := seg.regex.fullmatch(name)) is not None:
                got = _fields(seg, m)
                out.append((name, got, tuple(got[c] for c in codes)))
        if len(self._dirs) > 4096:
            self._dirs.clear()
        self._dirs[key] = (mtime, out)
        return out

    def _listing(self, folder: Path, inherited: dict[str, int], lo: float,
                 hi: float) -> tuple[array, list[str], int, str]:
        """The folder's frames by time (UTC seconds, names) around [lo, hi), with how many names matched
        nothing. Only frames within KEEP of the range are kept: a flat folder of a year's frames costs a
        listing every few days of a backfill, not a year of names in memory. A name's fields win over its
        folders' (allsky's day folder is the night's date, its names the frame's)."""
        key = str(folder)
        seg = (self._resolved or self.segments)[-1]
        try:
            mtime = folder.stat().st_mtime_ns
            held = self._files.get(key)
            if held is not None and held[0] == mtime and held[1] <= lo and hi <= held[2]:
                self._files.move_to_end(key)
                return held[3], held[4], held[5], held[6]
            keep_lo, keep_hi = lo - KEEP, hi + KEEP
            rows: list[tuple[float, str]] = []
            bad, one = 0, ""
            pairs = list({c: i for i, c in reversed(list(enumerate(seg.codes)))}.items())  # a code's first group
            with os.scandir(folder) as it:
                for e in it:
                    name = e.name
                    if name.startswith("."):  # a writer's temporary file
                        continue
                    m = seg.regex.fullmatch(name)
                    if m is None:
                        taken = None
                    else:
                        g = m.groups()
                        taken = self._clock.seconds({**inherited, **{c: int(g[i]) for c, i in pairs}})
                    if taken is None or (self.exts and name.rsplit(".", 1)[-1].lower() not in self.exts):
                        try:
                            if not e.is_dir(follow_symlinks=False):
                                bad += 1
                                one = one or name
                        except OSError:
                            pass
                        continue
                    try:  # a pipe, a folder or a dangling link named like a frame is none
                        if not e.is_file():
                            continue
                    except OSError:
                        continue
                    if keep_lo <= taken < keep_hi:
                        rows.append((taken, name))
        except OSError as exc:
            self._warn(f"{folder}: {exc.strerror or exc}: skipped")
            return array("d"), [], 0, ""
        rows.sort()
        stamps = array("d", (r[0] for r in rows))
        names = [r[1] for r in rows]
        old = self._files.pop(key, None)
        if old is not None:
            self._entries -= len(old[4])
        self._files[key] = (mtime, keep_lo, keep_hi, stamps, names, bad, one)
        self._entries += len(names)
        while self._entries > MAX_ENTRIES and len(self._files) > 1:
            _, dropped = self._files.popitem(last=False)
            self._entries -= len(dropped[4])
        return stamps, names, bad, one


def _user() -> str:
    uid = os.geteuid()
    try:
        import pwd

        return f"user {pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _minutes(d: timedelta) -> str:
    s = d.total_seconds()
    return f"{s / 60:g} min" if s >= 60 else f"{s:g} s"
