"""Drains the outbox to the broker: in id order, a bounded number in flight, each row deleted only when the
broker acknowledges it (PUBACK at QoS 1). Runs as a thread of the daemon.

One paho client per connection, driven by this thread's own `loop()` calls: when the connection drops, the
client and its in-flight bookkeeping are thrown away and the next connection resends from the oldest row
still in the outbox (at-least-once; payload ids let consumers drop repeats). Reconnects back off from 1 s to
60 s. A broker that is down or refuses the login is logged once, and its recovery once. Whatever else stops
the thread (a CA file removed, a bug, the database) is never silent: it is logged with its cause, recorded as
an `mqtt_publisher_failed` event, shown as `failed` by `cielo status` and `cielo doctor`, and the thread
starts over after a backoff (1 s to 60 s), so the outbox drains once the cause is gone.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime

import paho.mqtt.client as paho

from cielo import __version__
from cielo.config import Settings
from cielo.latest import LatestState
from cielo.outputs.mqtt import discovery
from cielo.outputs.mqtt.client import make_client
from cielo.outputs.mqtt.hints import connect_problem
from cielo.outputs.mqtt.outbox import Announcer, refresh_live, republish_live
from cielo.outputs.mqtt.topics import Topics
from cielo.sources import registry
from cielo.store import Store
from cielo.store import outbox as rows
from cielo.timeutil import utcnow

log = logging.getLogger("cielo")

MAX_INFLIGHT = 200
REFRESH_EVERY_S = 60.0


class Publisher:
    def __init__(self, settings: Settings, store: Store, announcer: Announcer,
                 state: LatestState, clock: Callable[[], datetime] = utcnow):
        self.thread = threading.Thread(target=self.run, name="mqtt", daemon=True)
        self.settings = settings
        self.cfg = settings.mqtt
        self.store = store
        self.announcer = announcer
        self.topics: Topics = announcer.topics
        self.state = state  # what it reads: the status summary (cielo.latest)
        self.clock = clock
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.connected = threading.Event()
        self._problem: str | None = None  # the last failure logged, so each is said once
        self._session_present = False  # the broker's CONNACK: it kept our session (and, with it, its state)

    # -- the thread ---------------------------------------------------------------------------------------
    def run(self) -> None:
        """`publish`, started over whenever it stops on an error."""
        delay = 1.0
        while not self.stopping.is_set():
            try:
                self.publish()
                return
            except Exception as exc:  # any cause: a publisher that dies silently lets the outbox grow
                self.connected.clear()
                self._problem = None  # the next connection is news either way
                cause = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
                log.error("mqtt: the publisher stopped (%s); starting it again in %.0f s", cause, delay)
                with contextlib.suppress(Exception):  # the database may be the cause
                    self.store.set_state("mqtt", "failed")
                    self.store.add_event("mqtt_publisher_failed", {"error": cause, "restart_in_s": delay},
                                         level="error")
                self.stopping.wait(delay)
                delay = min(delay * 2, 60.0)

    def publish(self) -> None:
        """Connect, serve, reconnect with backoff, until stopped."""
        backoff = 1.0
        while not self.stopping.is_set():
            client = self._connect()
            if client is None:
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            self._serve(client)
            self._drop(client)

    def _serve(self, client: paho.Client) -> None:
        """One connection's life: drain, refresh live topics, publish the state; until it drops or we stop."""
        pending: dict[int, int] = {}  # paho mid -> outbox id
        acked: list[int] = []

        def on_publish(_c, _u, mid: int, _rc, _p) -> None:
            if mid in pending:
                acked.append(pending.pop(mid))

        client.on_publish = on_publish
        self._enqueue_discovery()
        if not self._session_present:  # a broker without our session has likely lost its retained messages too
            queued = republish_live(self.store, self.announcer, self.clock())
            if queued:
                log.info("mqtt: the broker had no session of ours: %d live value(s) sent again, retained", queued)
        last_id = 0
        next_refresh = next_state = 0.0
        while self.connected.is_set() and not self.stopping.is_set():
            now = time.monotonic()
            if now >= next_refresh or self.wake.is_set():
                self.wake.clear()
                refresh_live(self.store, self.announcer, self.clock())
                next_refresh = now + REFRESH_EVERY_S
            if now >= next_state:
                at = self.clock()
                snapshot = self.state.status(at)  # outside the transaction: it reads through the same store
                self.store.transaction(lambda cur, s=snapshot, at=at: self.announcer.state(cur, s, at))
                next_state = now + self.cfg.state_interval_s
            last_id = self._send(client, pending, last_id)
            rc = client.loop(timeout=0.0 if pending else 0.05)
            self._forget_acked(acked)
            if rc != paho.MQTT_ERR_SUCCESS:
                self.connected.clear()
        if self.stopping.is_set() and self.connected.is_set():
            self._goodbye(client, pending, acked)

    def _forget_acked(self, acked: list[int]) -> None:
        if acked:
            done = acked[:]
            acked.clear()
            rows.forget(self.store, done)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)

    def poke(self) -> None:
        """New readings were stored by a live run: look at the live topics now, not in a minute."""
        self.wake.set()

    # -- connection ---------------------------------------------------------------------------------------
    def _client(self) -> paho.Client:
        # A persistent session, so that CONNACK's session-present flag tells whether the broker kept its
        # state since we last connected (see _serve).
        client = make_client(self.cfg, self.cfg.client_id or f"cielo-{self.settings.device.id}", persistent=True,
                             will=self.topics.status)
        client.max_inflight_messages_set(MAX_INFLIGHT)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = lambda *_: self.connected.clear()
        return client

    def _on_connect(self, client: paho.Client, _userdata, flags, reason, _props) -> None:
        if reason.is_failure:
            self._say(f"mqtt: {self.cfg.host}:{self.cfg.port} refused the connection: {reason}")
            return
        self._session_present = bool(getattr(flags, "session_present", False))
        client.publish(self.topics.status, "online", qos=1, retain=True)
        self.connected.set()

    def _connect(self) -> paho.Client | None:
        client = self._client()
        try:
            client.connect(self.cfg.host, self.cfg.port, keepalive=30)
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._say(f"mqtt: {connect_problem(exc, self.cfg.host, self.cfg.port)}")
            return None
        deadline = time.monotonic() + 10
        while not self.connected.is_set() and time.monotonic() < deadline and not self.stopping.is_set():
            if client.loop(timeout=0.1) != paho.MQTT_ERR_SUCCESS:
                break
        if not self.connected.is_set():
            if self._problem is None:
                self._say(f"mqtt: {self.cfg.host}:{self.cfg.port} did not accept the connection")
            self._drop(client)
            return None
        if self._problem is not None:
            log.info("mqtt: connected to %s:%s again", self.cfg.host, self.cfg.port)
        else:
            log.info("mqtt: connected to %s:%s", self.cfg.host, self.cfg.port)
        self._problem = None
        self.store.set_state("mqtt", "connected")
        return client

    def _say(self, problem: str) -> None:
        if problem != self._problem:
            log.warning("%s", problem)
            self._problem = problem
            self.store.set_state("mqtt", "disconnected")

    def _drop(self, client: paho.Client) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        try:
            client.disconnect()
            client.loop(timeout=0.1)
        except Exception:  # a dead socket has nothing left to close cleanly
            pass
        if was or self._problem is None:
            self.store.set_state("mqtt", "disconnected")

    # -- messages -----------------------------------------------------------------------------------------
    def _send(self, client: paho.Client, pending: dict[int, int], last_id: int) -> int:
        room = MAX_INFLIGHT - len(pending)
        if room <= 0:
            return last_id
        for oid, topic, payload, retain, qos in rows.waiting(self.store, last_id, room):
            info = client.publish(topic, payload, qos=qos, retain=bool(retain))
            if info.rc != paho.MQTT_ERR_SUCCESS:
                self.connected.clear()
                break
            if qos == 0:
                rows.forget(self.store, [oid])
            else:
                pending[info.mid] = oid
            last_id = oid
        return last_id

    def _enqueue_discovery(self) -> None:
        """Discovery configs on every connection (Home Assistant may have restarted without persistence)."""
        if not self.cfg.homeassistant_discovery:
            return
        series = [discovery.SeriesInfo(d.spec, d.enabled) for d in registry.series(self.settings)]
        sources = [(name, cls.enabled(self.settings)) for name, cls in registry.REGISTRY.items()]
        # Older versions' per-entity configs are handed over and cleared once per database.
        migrate = self.store.state().get("ha_discovery", ("",))[0] != "device"
        msgs = discovery.messages(self.topics, self.cfg.discovery_prefix, self.settings.device.id, __version__,
                                  series, sources, migrate=migrate)
        now = self.clock()
        self.store.transaction(lambda cur: self.announcer.discovery(cur, msgs, now))
        if migrate:
            self.store.set_state("ha_discovery", "device")

    def _goodbye(self, client: paho.Client, pending: dict[int, int], acked: list[int]) -> None:
        """Clean stop: let in-flight messages be acknowledged (2 s at most), then say `offline`."""
        deadline = time.monotonic() + 2
        while pending and time.monotonic() < deadline:
            client.loop(timeout=0.05)
        self._forget_acked(acked)
        info = client.publish(self.topics.status, "offline", qos=1, retain=True)
        deadline = time.monotonic() + 2
        while not info.is_published() and time.monotonic() < deadline:
            client.loop(timeout=0.05)
