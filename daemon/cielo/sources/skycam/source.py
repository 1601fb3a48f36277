"""The all-sky camera: one frame per slot, classified into octas by the ONNX model.

Slots are the configured minutes of every hour in the camera's time zone; `minutes` sets the cadence
everywhere (a camera every minute has 1,440 slots a day). Frames are found one of four ways (locate_*.py):
the seed's naming `<base_url>[/<YYYY>]/<YYYY>-<MMDDHH><mm>.jpg` (the year folder per `year_dir`: "past" for
years before the current one, "always" or "never"), an archive's `url_template`, a `latest_url` that serves the
newest frame, or the `folder` a camera program writes on this board (docs/design.md, Sky camera).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from cielo.config import Settings
from cielo.errors import CieloError, ConfigError
from cielo.http import FetchError, HttpPolicy, LazyPool, get_bytes, make_session, without_credentials
from cielo.sources.base import Entity, SeriesSpec, Source, SourceExtras, Window, buckets
from cielo.sources.skycam import images
from cielo.sources.skycam.config import (
    DEFAULT_CAMERA_URL,
    SkycamConfig,
    analysis_processes,
    calibration_path,
    with_moved_keys,
)
from cielo.sources.skycam.located import Found, Locator
from cielo.store import Reading, Store
from cielo.timeutil import iso

if TYPE_CHECKING:  # numpy, Pillow and onnxruntime load only in processes that classify
    from cielo.sources.skycam import motion, orientation
    from cielo.sources.skycam.analysts import Analysts, Judged
    from cielo.sources.skycam.frame import Frame
    from cielo.sources.skycam.model import OctaModel, Verdict

JPEG_MAGIC = b"\xff\xd8\xff"
MOTION_FILE = "skycam-motion.json"  # beside the database: the previous frame's cloud mask (motion.Tracker)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SkyImage:
    slot: datetime
    url: str
    sha256: str
    size: int
    frame: Frame | None  # decoded here, to be judged in this process's batch ...
    body: bytes | None  # kept only when images are saved
    pending: Future[Judged] | None = None  # ... or being judged in an analysis process (analysts.py) ...
    judged: Judged | None = None  # ... and judged (`settle`)
    taken: datetime | None = None  # when the frame was taken, where its locator knows (a folder, a latest URL)


def _unreadable(url: str, exc: Exception) -> FetchError:
    # A broken JPEG is an unreadable image; another format stays a plain fetch error.
    kind = "unreadable image" if str(exc).startswith("not a readable image") else None
    return FetchError(f"{url}: {exc}", transient=False, kind=kind)


def _from_attrs(key: str) -> str:
    """A sensor template reading one of the octas payload's attrs (None, unknown to Home Assistant, when absent)."""
    return f"{{{{ value_json.{key} | default(none) }}}}"


SUN_STATES = ("visible", "thin", "covered")  # sunstate.SunView.state, when known

# What the sun does, read off the same frame (sunstate.py, motion.py) and carried in the octas reading's attrs,
# so one frame stays one reading; the entities keep the keys the sun had as series of its own.
SUN_ENTITIES = (
    # the state itself, for automations that tell thin cloud from a covered sun ('None': unknown, at night)
    Entity("skycam_sun", "Sun", _from_attrs("sun"), icon="mdi:white-balance-sunny", options=SUN_STATES),
    Entity("skycam_sun_covered", "Sun covered",
           "{{ 'ON' if value_json.sun_covered == 1 else ('OFF' if value_json.sun_covered == 0 else 'None') }}",
           icon="mdi:weather-sunny-off", platform="binary_sensor"),
    Entity("skycam_sun_cloud_15", "Cloud within 15° of the sun", _from_attrs("sun_cloud_15"), "%",
           "mdi:weather-partly-cloudy"),
    Entity("skycam_sun_cloud_30", "Cloud within 30° of the sun", _from_attrs("sun_cloud_30"), "%",
           "mdi:weather-partly-cloudy"),
    Entity("skycam_sun_eta_min", "Sun change in", _from_attrs("sun_eta_min"), "min", "mdi:timer-sand",
           device_class="duration"),
    # cloud by compass quarter and in the sector the sun crosses in the next hour (sectors.py): null until
    # `cielo calibrate` has learned the camera's orientation
    *(Entity(f"skycam_{key}", name, _from_attrs(key), "%", "mdi:compass-outline") for key, name in (
        ("cover_n", "Cloud north"), ("cover_e", "Cloud east"), ("cover_s", "Cloud south"),
        ("cover_w", "Cloud west"), ("cover_sun_path", "Cloud in the sun's sector"))),
)


class SkycamSource(Source):
    name = "skycam"
    series = (SeriesSpec(
        "skycam.octas", "octas", timedelta(minutes=10), "Cloud cover (octas)", icon="mdi:weather-cloudy",
        limits=(0, 8), integer=True, nullable=True,  # None: a frame flagged night/dark/invalid
        extra=(Entity("skycam_confidence", "Cloud cover confidence",
                      "{{ (value_json.confidence * 100) | round(1) if value_json.confidence is not none else none }}",
                      "%", "mdi:gauge"), *SUN_ENTITIES)),)
    chunk = timedelta(minutes=1)  # one image per request
    history = None
    config_model = SkycamConfig
    table = ("skycam",)
    secrets = (("password", "CIELO_SKYCAM_PASSWORD"), ("username", "CIELO_SKYCAM_USERNAME"))
    shared_client = False  # its own urllib3 pool (`client`): one image per request at hundreds a second

    @classmethod
    def history_for(cls, settings: Settings) -> timedelta | None:
        return timedelta(0) if cls.config(settings).latest_url is not None else cls.history

    @classmethod
    def request_budget(cls, settings: Settings) -> tuple[float | None, float | None] | None:
        cfg = with_moved_keys(cls.config(settings), settings)
        return None if cfg.folder is not None else (cfg.requests_per_minute or None, None)

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.cfg: SkycamConfig = with_moved_keys(self.cfg, settings)
        self.series = self.declared_series(settings)  # the cadence its minutes give
        if self.cfg.folder is not None:
            self.requests_per_minute = None  # files on this board: no server to be polite to
        self.tz = ZoneInfo(self.cfg.timezone)
        login = self.cfg.auth_headers()
        self.pool = LazyPool(HttpPolicy(timeout_s=self.cfg.timeout_s, retries=self.cfg.retries,
                                        max_bytes=self.cfg.max_bytes, pool_size=max(self.cfg.workers, 1)),
                             lambda policy: make_session(policy, login))
        self.client = self.pool
        self.analysis = self  # judging images: in worker processes during a manual backfill (analysts.py)
        self._disk_low: bool | None = None  # what this run saw of the images disk
        self._saved = 0
        # One decode at a time: decoding and the lens search are many small numpy calls that hold the GIL,
        # so fetch threads decoding side by side only fight over it (a 14-day loopback backfill spent ~10 %
        # more CPU) and each holds its own temporaries; downloads still overlap.
        self._decoding = threading.Lock()
        self._analysts: Analysts | None = None
        self._motion: motion.Tracker | None = None  # the previous judged frame's cloud mask (created on use)
        self._orientation: orientation.Orientation | None = None
        seed_camera = self.cfg.way == "base_url" and self.cfg.base_url == DEFAULT_CAMERA_URL
        if seed_camera and "lookback_days" not in settings.backfill.model_fields_set:
            # The seed's public camera is someone else's server: a board that starts on it by default fills one
            # day of gaps, not a month (4,320 images); [backfill] lookback_days set in the config says otherwise.
            self.catch_up_limit = timedelta(days=1)
        # The breaker and the request budget, shared with every process through the database. The default
        # budget is polite to a public camera (someone else's server): 120 a minute, under 2 a second.
        from cielo.guard import Guard

        self.guard = Guard(settings.storage.database, self.name, buckets(self.requests_per_minute or None, None))
        self.locator: Locator = self._locator()
        if not self.locator.archive:
            self.history = timedelta(0)  # only the newest frame exists: live capture only
        self._stopped: str | None = None  # what this run saw of a latest-frame camera: "" fresh, else why stopped

    def _locator(self) -> Locator:
        cfg = self.cfg
        if cfg.folder is not None:
            from cielo.sources.skycam.locate_folder import FolderLocator

            return FolderLocator(cfg.folder, self.tz, cfg.cadence / 2, layout=cfg.layout, pattern=cfg.pattern,
                                 max_bytes=cfg.max_bytes)
        if cfg.latest_url is not None:
            from cielo.sources.skycam.locate_latest import LatestLocator

            return LatestLocator(cfg.latest_url, self._get, self.tz, self.slot_of, cfg.longest_wait * 2)
        from cielo.sources.skycam.locate_template import TemplateLocator, seed_naming, template_naming

        naming = (template_naming(cfg.url_template, self.tz) if cfg.url_template is not None
                  else seed_naming(cfg.base_url, cfg.year_dir, self.tz))
        return TemplateLocator(naming, self._get)

    def _get(self, url: str) -> tuple[bytes, dict[str, str]]:
        if self.guard.buckets:
            self.guard.acquire()  # waits for a token of [skycam].requests_per_minute
        headers: dict[str, str] = {}
        body, content_type = get_bytes(self.pool.session, url, self.pool.policy, self.guard, headers)
        if not body.startswith(JPEG_MAGIC):
            kind = content_type.split(";")[0].strip() or "unknown type"
            raise FetchError(f"{url}: not a JPEG ({kind}, {len(body)} bytes)", transient=False, kind="not a JPEG")
        return body, headers

    @classmethod
    def declared_series(cls, settings: Settings) -> tuple[SeriesSpec, ...]:
        cadence = cls.config(settings).cadence
        return tuple(replace(spec, cadence=cadence) for spec in cls.series)

    def use_processes(self, processes: int) -> None:
        """Judge images in `processes` worker processes from now on (0: in this process)."""
        if self._analysts is not None and self._analysts.processes != processes:
            self._analysts.close()
            self._analysts = None
        if processes > 0 and self._analysts is None:
            from cielo.sources.skycam.analysts import Analysts

            device = self.settings.device
            analysts = Analysts(processes, self.cfg.model, calibration_path(self.settings, self.cfg),
                                device.latitude, device.longitude, self.cfg.analysis_stall_s)
            try:
                self._analysts = analysts.start()
            except OSError as exc:  # no writable /dev/shm for their queues' semaphores (a chroot), no fork
                analysts.close()
                log.warning("%s: cannot start %d analysis process(es) (%s); judging images in this process",
                            self.name, processes, exc)

    def secret_values(self) -> tuple[str, ...]:
        # The password only: a user name ("admin") is no secret, and scrubbing it would mangle messages.
        password = self.cfg.password
        return (password.get_secret_value(),) if password is not None and password.get_secret_value() else ()

    def default_processes(self, settings: Settings) -> int:
        return analysis_processes(self.cfg)

    @classmethod
    def timezone(cls, settings: Settings) -> str:
        return cls.config(settings).timezone

    @classmethod
    def maintenance(cls, settings: Settings) -> tuple[dict[str, Any], tuple[str, ...]] | None:
        """Daily: refit the site calibration from the stored judged frames (`cielo calibrate --auto` decides
        whether it is due, has enough frames and a sane fit; it writes an event either way)."""
        cfg = cls.config(settings)
        if not cfg.auto_calibrate:
            return None
        hour, minute = cfg.auto_calibrate_at.split(":")
        return {"hour": int(hour), "minute": int(minute)}, ("calibrate", "--auto")

    @classmethod
    def preflight(cls, settings: Settings) -> None:
        cfg = cls.config(settings)
        if cfg.enabled and cfg.model is not None and not cfg.model.is_file():
            raise ConfigError(f"[skycam].model: {cfg.model}: no such file")

    @classmethod
    def doctor(cls, settings: Settings) -> list[tuple[bool, str]]:
        from cielo.sources.skycam.doctor import camera_checks
        from cielo.sources.skycam.model import OctaModel

        try:
            model = OctaModel(cls.config(settings).model)
            lines = [(True, f"model: {model.path} ({model.version}, input {model.width}x{model.height})")]
        except CieloError as exc:
            lines = [(False, f"model: {exc}: set [skycam].model to an ONNX file with the octa I/O")]
        return lines + camera_checks(cls(settings))

    @classmethod
    def schedule(cls, settings: Settings) -> dict[str, Any]:
        """Fire `delay_s` after each camera minute, in the camera's time zone."""
        cfg = cls.config(settings)
        minutes = sorted({(m * 60 + cfg.delay_s) // 60 % 60 for m in cfg.minutes})
        return {"minute": ",".join(map(str, minutes)), "second": cfg.delay_s % 60, "timezone": cfg.timezone}

    @cached_property
    def model(self) -> OctaModel:
        from cielo.service.memory import lean_malloc
        from cielo.sources.skycam.calibration import load_site
        from cielo.sources.skycam.model import OctaModel

        lean_malloc()  # before the model's first allocations (cielo.service.memory says why)
        return OctaModel(self.cfg.model, calibration=load_site(calibration_path(self.settings, self.cfg)))

    def slots(self, start: datetime, end: datetime) -> list[datetime]:
        out: list[datetime] = []
        hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        while hour < end:
            offset_min = int(hour.astimezone(self.tz).utcoffset().total_seconds() // 60)
            for utc_minute in sorted((m - offset_min) % 60 for m in self.cfg.minutes):
                ts = hour + timedelta(minutes=utc_minute)
                # In a DST fall-back hour the same file name names two instants: keep only the first.
                if start <= ts < end and ts.astimezone(self.tz).fold == 0:
                    out.append(ts)
            hour += timedelta(hours=1)
        return out

    def slot_of(self, taken: datetime, now: datetime) -> datetime:
        """The slot a frame taken at `taken` fills: the one whose minute is nearest (a tie goes to the later),
        never one still to come at `now`."""
        wait = self.cfg.longest_wait
        near = self.slots(taken - wait * 2, min(taken + wait, now) + timedelta(seconds=1))
        return min(near, key=lambda s: (abs((taken - s).total_seconds()), -s.timestamp()))

    def slots_answered(self, window: Window, fetched: SkyImage) -> tuple[datetime, ...]:
        return (fetched.slot,)

    def url_for(self, slot: datetime, now: datetime) -> str:
        return getattr(self.locator, "url_for", lambda s, n: str(self.cfg.folder or self.cfg.latest_url))(slot, now)

    def live_range(self, now: datetime) -> tuple[datetime, datetime]:
        """Just the newest slot the camera should have uploaded by `now`, given its upload delay (a latest-frame
        URL is stamped by the frame's own time: its newest slot is now's)."""
        cutoff = now - timedelta(seconds=self.cfg.delay_s if self.locator.archive else 0)
        slot = self.slots(cutoff - timedelta(hours=2), cutoff + timedelta(seconds=1))[-1]
        return slot, slot + timedelta(seconds=1)

    def fetch(self, window: Window, now: datetime) -> SkyImage:
        if not self.locator.archive and now - window.slots[0] > self.cfg.longest_wait * 2:
            # One URL serves only the newest frame: asking it for an old slot would file today's frame there.
            raise FetchError(f"{self.url_for(window.slots[0], now)}: serves only the newest frame, not "
                             f"{iso(window.slots[0])}", transient=False, kind="no archive")
        try:
            found: Found = self.locator.find(window.slots[0], now)
        except FetchError as exc:
            if exc.kind == "camera stopped":
                self._stopped = str(exc)
            raise
        if not self.locator.archive:
            self._stopped = ""
        body, url, slot = found.body, found.where, found.slot
        # A frame on this board stays where it is: keep_images keeps no second copy of it.
        keep = body if self.cfg.keep_images and not found.local else None
        digest = hashlib.sha256(body).hexdigest()
        taken = found.taken
        if self._analysts is not None:  # this thread goes on to its next request meanwhile
            return SkyImage(slot, url, digest, len(body), None, keep, self._analysts.submit(body, taken or slot),
                            taken=taken)
        from cielo.sources.skycam.model import ImageError

        try:
            with self._decoding:
                frame = self.model.decode(body)
        except ImageError as exc:
            raise _unreadable(url, exc) from None
        return SkyImage(slot, url, digest, len(body), frame, keep, taken=taken)

    def settle(self, fetched: SkyImage) -> SkyImage:
        """An image judged in an analysis process, once its verdict is back (FetchError if it had none)."""
        if fetched.pending is None:
            return fetched
        from cielo.sources.skycam.model import ImageError

        assert self._analysts is not None  # kept once made (close), so a pending image always has its pool
        try:
            judged = self._analysts.result(fetched.pending)
        except ImageError as exc:
            raise _unreadable(fetched.url, exc) from None
        return replace(fetched, pending=None, judged=judged)

    def parse(self, fetched: Sequence[SkyImage]) -> list[Reading]:
        s = self.settings
        here = [f for f in fetched if f.judged is None]
        if here:
            # judged at the frame's own time where its locator knows it: a frame up to half a cadence off its
            # slot sees another sun and moon (a moonset, dusk's -6 deg), and `cielo classify` reads it at that time
            verdicts = iter(self.model.judge([f.frame for f in here], [f.taken or f.slot for f in here],
                                             s.device.latitude, s.device.longitude))
            cal = self.model.calibration
            ours = (self.model.version, None if cal is None else cal.ident)
        judged = []
        for img in fetched:
            if img.judged is not None:
                judged.append((img, img.judged.verdict, img.judged.model, img.judged.calibration))
            else:
                judged.append((img, next(verdicts), *ours))
        readings = []
        for img, v, model, calibration in sorted(judged, key=lambda j: j[0].slot):
            if img.body is not None:
                self._save(img)
            # The one place a reading's URL is recorded: never with a login in it, whatever built the URL.
            attrs = v.attrs() | {"url": without_credentials(img.url), "sha256": img.sha256, "bytes": img.size,
                                 "model": model}
            if img.taken is not None and abs((img.taken - img.slot).total_seconds()) >= 1:
                attrs["observed_at"] = iso(img.taken)
            if calibration is not None:
                attrs["calibration"] = calibration
            attrs.update(self._sun(img.slot, v))
            readings.append(Reading("skycam.octas", img.slot, v.octas, "octas", self.name, attrs))
        return readings

    def _sun(self, slot: datetime, v: Verdict) -> dict[str, Any]:
        """The sun's attrs of one judged frame (null where unknown: at night, the sun out of view) and its
        cloud motion since the previous one."""
        from cielo.sources.skycam import motion, orientation, sectors

        if self._motion is None:
            self._motion = motion.Tracker(self.settings.storage.database.parent / MOTION_FILE)
            # the camera's orientation, when calibrated, turns the motion's direction into a compass bearing
            self._orientation = orientation.load(orientation.beside(calibration_path(self.settings, self.cfg)))
        o = self._orientation
        moved, eta = self._motion.step(slot, v.sky, *((o.north, o.sign) if o is not None else ()))
        sky = v.sky if v.sky is not None and v.sky.state is not None else None
        out: dict[str, Any] = {
            "sun_covered": None if sky is None else sky.covered,
            "sun_cloud_15": None if sky is None or sky.cloud_15 is None else round(sky.cloud_15 * 100, 1),
            "sun_cloud_30": None if sky is None or sky.cloud_30 is None else round(sky.cloud_30 * 100, 1),
            "sun_eta_min": eta,
            **sectors.attrs(None if v.sky is None else v.sky.cover),
        }
        if moved is not None:
            out["motion"] = moved.attrs()
        return out

    def _save(self, img: SkyImage) -> None:
        storage = self.cfg
        self._disk_low = images.free_mb(storage.images_dir) < storage.min_free_mb
        if self._disk_low:
            return
        local = img.slot.astimezone(self.tz)
        images.save(storage.images_dir / f"{local:%Y/%m/%d}", f"{local:%Y}-{local:%m%d%H%M}.jpg", img.body)
        self._saved += 1

    def retry_after(self, slot: datetime, now: datetime, attempts: int) -> timedelta:
        # A fresh slot may just not be uploaded yet; an old one is most likely gone for good.
        if now - slot < timedelta(hours=2):
            return timedelta(minutes=10)
        return super().retry_after(slot, now, attempts)

    def finish(self, store: Store) -> None:
        """After a run: say when saving images stopped or resumed for lack of disk (once per change, across
        processes: the state lives in the database), and apply the quota."""
        problem = f"{self.name}.problem"
        if self.locator.archive and store.state().get(problem, ("",))[0]:
            self._stopped = ""  # no longer a latest-frame camera: what was said of it no longer holds
        if self._stopped is not None:  # shared with `cielo status` through the database, like the disk below
            store.set_state(problem, self._stopped)
            if self._stopped:
                log.warning("%s: %s", self.name, self._stopped)
            self._stopped = None
        storage = self.cfg
        if self._disk_low is not None:
            before = store.state().get("images_disk_low", ("no", ""))[0] == "yes"
            if self._disk_low != before:
                store.set_state("images_disk_low", "yes" if self._disk_low else "no")
                if self._disk_low:
                    store.add_event("disk_low", {"path": str(storage.images_dir), "min_free_mb": storage.min_free_mb,
                                                 "free_mb": round(images.free_mb(storage.images_dir), 1)},
                                    level="warning", source=self.name)
                else:
                    store.add_event("disk_ok", {"path": str(storage.images_dir)}, source=self.name)
            self._disk_low = None
        if self._saved:
            images.prune(storage.images_dir, storage.images_max_mb, storage.images_max_days)
            self._saved = 0

    def close(self) -> None:
        if self._analysts is not None:  # kept: a fetch thread still at it after Ctrl-C hears "stopping"
            self._analysts.close()
        self.guard.close()
        super().close()


SkycamSource.extras = SourceExtras(commands="cielo.sources.skycam.commands", timezone=SkycamSource.timezone,
                                   maintenance=SkycamSource.maintenance, preflight=SkycamSource.preflight,
                                   doctor=SkycamSource.doctor)
