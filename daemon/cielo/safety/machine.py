"""Is the sky safe for an open roof? A pure state machine fed with judged frames and the time.

Astronomy practice: unsafe at once, safe slowly. A frame at or above `unsafe_octas` makes it unsafe at once; it
becomes safe again only after `safe_after_min` minutes of frames at or below `safe_octas` (a frame in between
neither opens nor closes: hysteresis, so broken cloud does not flap the roof). It fails closed: unsafe while no
frame is newer than `max_age_min`, while the camera is off or its last capture failed, on frames flagged
uncertain/dark/invalid (unless configured), until a frame arrives after the daemon started, in daylight (unless
`daylight_safe`), and after rain in the last hour. Reasons are stable texts (instants, not running counts), so a
changed reason means a changed situation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cielo.config import SafetyConfig
from cielo.timeutil import iso


@dataclass(frozen=True, slots=True)
class Frame:
    ts: datetime  # the slot observed
    octas: float | None
    flag: str | None  # None, "uncertain" (octas kept), "dark", "night", "invalid" (no octas)
    stored: datetime  # when it reached the database


@dataclass(frozen=True, slots=True)
class Verdict:
    safe: bool
    reason: str
    frame: Frame | None  # the newest frame seen

    def payload(self, now: datetime) -> dict:
        f = self.frame
        return {"ts": iso(now), "safe": self.safe, "state": "safe" if self.safe else "unsafe",
                "reason": self.reason, "frame_ts": iso(f.ts) if f else None,
                "octas": None if f is None or f.octas is None else int(f.octas) if float(f.octas).is_integer()
                else f.octas}


@dataclass(frozen=True, slots=True)
class Conditions:
    """What the frames do not say, gathered at judging time."""

    camera_enabled: bool = True
    camera_error: str | None = None  # the newest capture failed after the newest frame
    sun_elevation: float | None = None
    rain_mm: float | None = None  # precipitation in the last hour, when a weather source gives it


class SafetyMachine:
    def __init__(self, cfg: SafetyConfig, cadence: timedelta, started: datetime):
        self.cfg = cfg
        self.started = started.replace(microsecond=0)
        self.max_age = timedelta(minutes=cfg.max_age_min) if cfg.max_age_min else 3 * cadence
        self.safe_after = timedelta(minutes=cfg.safe_after_min)
        # Frames further apart than this leave a hole in the clear run (the camera was away).
        self.gap = max(self.max_age, cadence * 3 / 2)
        self.last: Frame | None = None
        self.fresh = False  # a frame stored since the daemon started
        self.blocking: str | None = None  # why the newest frame is unsafe, if it is
        self.clear_since: datetime | None = None  # first frame of the current clear run
        self.safe = False

    def _judge_frame(self, f: Frame) -> tuple[str, str]:
        """('bad' | 'clear' | 'band' | 'neutral', why)."""
        cfg = self.cfg
        if f.flag == "uncertain" and not cfg.uncertain_safe:
            return "bad", f"frame {iso(f.ts)} uncertain"
        if f.octas is None or f.flag not in (None, "uncertain"):
            if f.flag in ("dark", "night") and cfg.dark_safe:
                return "neutral", ""
            return "bad", f"frame {iso(f.ts)} {f.flag or 'not judged'}"
        octas = int(f.octas) if float(f.octas).is_integer() else f.octas
        if f.octas >= cfg.unsafe_octas:
            return "bad", f"octas {octas} >= {cfg.unsafe_octas}"
        if f.octas <= cfg.safe_octas:
            return "clear", ""
        return "band", f"octas {octas} > {cfg.safe_octas}"

    def feed(self, f: Frame, news: bool = True) -> None:
        """One frame, in time order (older or repeated ones are ignored). `news`: it arrived after the start
        (the history a restarted daemon reads back keeps the clear run going, but is no proof of now)."""
        if self.last is not None and f.ts <= self.last.ts:
            return
        gap = self.last is not None and f.ts - self.last.ts > self.gap
        kind, why = self._judge_frame(f)
        if gap:  # a camera that was away proves nothing about the sky in between
            self.clear_since = None
        if kind == "bad":
            self.blocking, self.clear_since = why, None
        elif kind == "clear":
            self.blocking = None
            self.clear_since = self.clear_since or f.ts
        elif kind == "band":
            self.blocking = None
            self.clear_since = None
        self.last = f
        self.fresh = self.fresh or news

    def _closed(self, now: datetime, c: Conditions) -> str | None:
        """Why it must be unsafe whatever the frames said, if anything."""
        if not c.camera_enabled:
            return "camera disabled"
        if self.last is None:
            return "no judged frame yet"
        if now - self.last.ts > self.max_age:
            return f"no frame since {iso(self.last.ts)} (max {_minutes(self.max_age)} min)"
        if not self.fresh:
            return f"starting: no frame since {iso(self.started)}"
        if c.camera_error:
            return f"camera unreachable: {c.camera_error}"
        if c.sun_elevation is not None and c.sun_elevation > 0 and not self.cfg.daylight_safe:
            return f"daylight (sun {c.sun_elevation:.0f}° up)"
        if c.rain_mm and self.cfg.rain_unsafe:
            return f"rain in the last hour ({c.rain_mm:g} mm)"
        return self.blocking

    def judge(self, now: datetime, conditions: Conditions | None = None) -> Verdict:
        c = conditions or Conditions()
        closed = self._closed(now, c)
        if closed is not None:
            self.safe = False
            return Verdict(False, closed, self.last)
        assert self.last is not None
        octas = self.last.octas
        shown = "?" if octas is None else f"{int(octas) if float(octas).is_integer() else octas}"
        if self.safe and self.clear_since is not None:
            return Verdict(True, f"clear (octas <= {self.cfg.safe_octas}) since {iso(self.clear_since)}", self.last)
        if self.safe:  # broken cloud after a clear spell: still safe
            return Verdict(True, f"octas {shown} < {self.cfg.unsafe_octas}", self.last)
        if self.clear_since is None:
            return Verdict(False, f"octas {shown} > {self.cfg.safe_octas}: waiting for a clear sky", self.last)
        if now - self.clear_since >= self.safe_after:
            self.safe = True
            return Verdict(True, f"clear (octas <= {self.cfg.safe_octas}) since {iso(self.clear_since)}", self.last)
        return Verdict(False, f"clear since {iso(self.clear_since)}: safe at {iso(self.clear_since + self.safe_after)}",
                       self.last)


def _minutes(td: timedelta) -> str:
    return f"{td.total_seconds() / 60:g}"
