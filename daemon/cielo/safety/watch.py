"""The daemon's safety monitor: a thread that feeds the stored camera frames to the state machine, and makes
each change known: an event (`safety_changed`, on MQTT `events`) when safe/unsafe flips, and the retained
`<prefix>/<device>/safety` topic (Home Assistant's binary_sensor) whenever the verdict or its reason changes.

It reads the database every few seconds, and at once when the daemon pokes it after a capture; the Alpaca
server and the INDI page read its `verdict` from memory, so answering a client never waits on SQLite.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from cielo.astro.sun import elevation
from cielo.config import Settings
from cielo.safety.machine import Conditions, Frame, SafetyMachine, Verdict
from cielo.sources import registry
from cielo.store import Store
from cielo.timeutil import from_iso, iso, utcnow

log = logging.getLogger("cielo")

OCTAS = "skycam.octas"  # the contract's series names (docs/contract.md)
PRECIPITATION = "weather.precipitation"
TICK_S = 2.0
REPUBLISH_S = 300.0  # the retained topic again, for a broker that lost it


class SafetyWatch:
    def __init__(self, settings: Settings, store: Store, clock: Callable[[], datetime] = utcnow):
        self.settings = settings
        self.store = store
        self.clock = clock
        declared = {d.spec.name: d for d in registry.series(settings)}
        camera = declared.get(OCTAS)
        self.camera_enabled = bool(camera and camera.enabled)
        self.camera_source = camera.source if camera else None
        cadence = camera.spec.cadence if camera else timedelta(minutes=10)
        self.started = clock()
        self.machine = SafetyMachine(settings.safety, cadence, self.started)
        self.verdict = Verdict(False, "starting", None)
        self.last_judged: Frame | None = None  # the newest frame with octas (ObservingConditions.CloudCover)
        self.publishes = store.announcer is not None and hasattr(store.announcer, "safety")  # MQTT on
        self._after = iso(self.started - self.machine.safe_after - 2 * self.machine.max_age)
        self._announced: tuple[bool, str] | None = None
        self._flipped = False  # it starts unsafe: the first event is the first time it turns safe
        self._published_at = 0.0
        self._problem: str | None = None
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="safety", daemon=True)

    def start(self) -> None:
        self.tick(history=True)  # before any capture of this run: what is stored now is history
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.thread.join(timeout=5)

    def poke(self) -> None:
        self.wake.set()

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.wake.wait(TICK_S)
            self.wake.clear()
            if not self.stopping.is_set():
                self.tick()

    def tick(self, history: bool = False) -> Verdict:
        now = self.clock()
        try:
            self._feed(now, news=not history)
            verdict = self.machine.judge(now, self._conditions(now))
            if self._problem is not None:
                log.info("safety: reading the database again")
                self._problem = None
        except Exception as exc:  # a locked or damaged database: closed, said once, tried again next tick
            if str(exc) != self._problem:
                log.warning("safety: %s", exc)
                self._problem = str(exc)
            verdict = Verdict(False, f"cannot read the database: {exc}", self.machine.last)
        self.verdict = verdict
        try:
            self._announce(verdict, now)
        except Exception as exc:
            log.warning("safety: cannot record the change: %s", exc)
        return verdict

    def _feed(self, now: datetime, news: bool) -> None:
        for ts, value, flag, stored in self.store.frames_after(OCTAS, self._after, iso(now)):
            frame = Frame(from_iso(ts), value, flag, from_iso(stored))
            self.machine.feed(frame, news)
            if value is not None:
                self.last_judged = frame
            self._after = ts

    def _conditions(self, now: datetime) -> Conditions:
        error = None
        last = self.machine.last
        if self.camera_source is not None:
            since = iso(last.stored) if last is not None else iso(self.started - self.machine.max_age)
            failed = self.store.last_event("live_failed", source=self.camera_source, since=since)
            if failed is not None and (last is None or from_iso(failed[0]) > last.stored):
                error = str(failed[1].get("error", "capture failed"))[:200]
        rain = None
        if self.settings.safety.rain_unsafe:
            rows = self.store.readings(PRECIPITATION, now - timedelta(hours=2), now + timedelta(seconds=1))
            rain = sum(v for _, v, *_ in rows if v and v > 0) or None
        sun = elevation(now, self.settings.device.latitude, self.settings.device.longitude)
        return Conditions(self.camera_enabled, error, sun, rain)

    def _announce(self, verdict: Verdict, now: datetime) -> None:
        key = (verdict.safe, verdict.reason)
        due = self.publishes and self.clock().timestamp() - self._published_at >= REPUBLISH_S
        if key == self._announced and not due:
            return
        payload = verdict.payload(now)
        if verdict.safe != self._flipped:
            log.info("safety: %s (%s)", "safe" if verdict.safe else "unsafe", verdict.reason)
            self.store.add_event("safety_changed", payload, level="info" if verdict.safe else "warning")
            self._flipped = verdict.safe
        if self.publishes:
            announcer = self.store.announcer
            self.store.transaction(lambda cur: announcer.safety(cur, payload, now))  # type: ignore[union-attr]
            self._published_at = self.clock().timestamp()
        self._announced = key


def indi_status(verdict: Verdict) -> dict:
    """The INDI Weather Safety Proxy's JSON: open_ok 1 only when safe."""
    return {"roof_status": {"open_ok": 1 if verdict.safe else 0, "reasons": verdict.reason}}
