"""`[skycam]`: the camera's table (the name predates sources/; config.toml keeps it).

Where frames come from is one of four ways (locators): the seed's naming under `base_url` (the default),
`url_template`, `latest_url`, or `folder` with a `layout` or `pattern`. More than one is a config error."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from cielo.config import Section, Settings, check_tz, url_validator

# The seed system's camera: Estación Astronómica Río Grande, Tierra del Fuego (Argentina).
DEFAULT_CAMERA_URL = "http://201.251.63.225/meteorologia/cielo/image"
DEFAULT_CAMERA_TZ = "America/Argentina/Buenos_Aires"

log = logging.getLogger("cielo")

# Keys that used to live in generic tables: still read there when [skycam] does not set them. No warning: the
# published contract names [storage] for images_dir and image retention, and a config written to it is right.
MOVED = {"keep_images": "storage", "images_dir": "storage", "images_max_mb": "storage",
         "images_max_days": "storage", "min_free_mb": "storage", "processes": "backfill"}


class SkycamConfig(Section):
    enabled: bool = True
    base_url: str = DEFAULT_CAMERA_URL
    # A camera's login: sent as HTTP basic auth, never part of a URL that is stored, published or logged.
    # `http://user:pass@cam/...` in base_url lands here; CIELO_SKYCAM_USERNAME/PASSWORD in the environment win.
    username: str | None = None
    password: SecretStr | None = None
    minutes: list[int] = Field(default_factory=lambda: [2, 12, 22, 32, 42, 52])
    year_dir: Literal["past", "always", "never"] = "past"
    timezone: str = DEFAULT_CAMERA_TZ
    timeout_s: float = Field(10.0, gt=0, le=300)
    model: Path | None = Field(None, description="an ONNX file with the octa model I/O; default: bundled")
    calibration: Path | None = Field(
        None, description="the site calibration `cielo calibrate` writes and the classifier reads; "
        "default: calibration.json beside the database")
    auto_calibrate: bool = Field(True, description="the daemon refits the calibration by itself from the "
                                 "stored judged frames (`cielo calibrate --auto`, daily)")
    auto_calibrate_frames: int = Field(60, ge=5, le=2000, description="refit only with at least this many "
                                       "stored judged frames")
    auto_calibrate_days: int = Field(7, ge=0, le=365, description="refit when the calibration is older than this")
    auto_calibrate_at: str = Field("03:17", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                                   description="when the daily check runs (UTC, HH:MM)")
    workers: int = Field(4, ge=1, le=64)
    delay_s: int = Field(60, ge=0, le=540, description="wait after each slot for the camera's upload")
    max_bytes: int = Field(8_000_000, ge=1024, description="larger answers are refused")
    retries: int = Field(3, ge=0, le=10)
    requests_per_minute: float = Field(
        120, ge=0, description="the most image requests in any minute, across every cielo process (live, "
        "catch-up, backfill, calibrate); 0: no limit (your own camera on your own network)")
    keep_images: bool = Field(False, description="keep every downloaded image under images_dir")
    images_dir: Path | None = Field(None, description="default: images in the working directory")
    images_max_mb: float = Field(1000, ge=0, description="0: no size limit")
    images_max_days: float = Field(30, ge=0, description="0: no age limit")
    min_free_mb: float = Field(200, ge=0, description="below this, images are not saved (readings go on)")
    processes: int | None = Field(None, ge=0, le=16, description="processes that judge images in a `cielo "
                                  "backfill` run by hand (0: in its own); default: 2, 1 on a board with 1 GB of "
                                  "memory or less, 0 on a single core")
    analysis_stall_s: float = Field(120, ge=1, le=3600, description="seconds without a verdict from those "
                                    "processes, while images wait, before they are ended")

    url_template: str | None = Field(
        None, description="a Python format string with `t`, the frame's time in the camera's time zone: "
        "\"http://cam/images/{t:%Y%m%d}/image-{t:%Y%m%d%H%M}.jpg\"")
    latest_url: str | None = Field(None, description="one URL that always serves the newest frame")
    folder: Path | None = Field(None, description="the folder a camera program on this board writes")
    layout: Literal["allsky", "indi-allsky"] | None = Field(
        None, description="the folder's layout, as AllskyTeam/allsky or indi-allsky write it")
    pattern: str | None = Field(
        None, description="strptime pattern of the frames' paths under `folder`, folders included "
        "(\"%Y%m%d/image-%Y%m%d%H%M%S.jpg\"); a bare file name is looked for at any depth")

    _tz = field_validator("timezone")(check_tz)
    _url = field_validator("base_url")(url_validator)

    @model_validator(mode="after")
    def _login_out_of_url(self) -> SkycamConfig:
        parts = urlsplit(self.base_url)
        if "@" in parts.netloc:
            userinfo, _, host = parts.netloc.rpartition("@")
            user, colon, password = userinfo.partition(":")
            self.base_url = parts._replace(netloc=host).geturl()
            if self.username is None:
                self.username = unquote(user)
            if self.password is None and colon:
                self.password = SecretStr(unquote(password))
        return self

    def auth_headers(self) -> dict[str, str]:
        from cielo.http import basic_auth

        if self.username is None and self.password is None:
            return {}
        return basic_auth(self.username or "", self.password.get_secret_value() if self.password else "")

    @field_validator("latest_url")
    @classmethod
    def _latest(cls, v: str | None) -> str | None:
        return None if v is None else url_validator(v)

    @field_validator("url_template")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if "{t" not in v:
            raise ValueError("needs {t:...}, the frame's time, e.g. {t:%Y%m%d%H%M}")
        try:
            sample = v.format(t=datetime(2025, 6, 15, 12, 2, tzinfo=UTC))
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a format string with only {{t}}: {exc}") from None
        url_validator(sample)
        return v

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        if v is None:
            return None
        from cielo.sources.skycam.locate_folder import check_pattern

        check_pattern(v)
        return v

    @model_validator(mode="after")
    def _one_way(self) -> SkycamConfig:
        ways = [k for k in ("url_template", "latest_url", "folder") if getattr(self, k) is not None]
        if len(ways) > 1:
            raise ValueError(f"set only one of url_template, latest_url and folder (has {', '.join(ways)})")
        if self.folder is not None and (self.layout is None) == (self.pattern is None):
            raise ValueError("folder needs exactly one of layout (\"allsky\" or \"indi-allsky\") and pattern")
        if self.folder is None and (self.layout is not None or self.pattern is not None):
            raise ValueError("layout and pattern describe a folder: set folder too")
        return self

    @property
    def way(self) -> str:
        """How frames are found: "folder", "latest_url", "url_template" or "base_url" (the seed's naming)."""
        return next((k for k in ("folder", "latest_url", "url_template") if getattr(self, k) is not None),
                    "base_url")

    def _spacings(self) -> list[int]:
        """Minutes from each camera minute to the next, wrapping the hour."""
        return [(b - a) % 60 or 60 for a, b in zip(self.minutes, [*self.minutes[1:], self.minutes[0]], strict=True)]

    @property
    def cadence(self) -> timedelta:
        """The shortest spacing of the camera minutes: a slot's share of the time line."""
        return timedelta(minutes=min(self._spacings()))

    @property
    def longest_wait(self) -> timedelta:
        """The longest spacing of the camera minutes: how long a working camera may leave between frames."""
        return timedelta(minutes=max(self._spacings()))

    @field_validator("minutes")
    @classmethod
    def _minutes(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("needs at least one minute")
        if any(not 0 <= m <= 59 for m in v):
            raise ValueError("minutes must be between 0 and 59")
        if len(set(v)) != len(v):
            raise ValueError("minutes must not repeat")
        return sorted(v)

    @field_validator("model", "calibration", "images_dir")
    @classmethod
    def _beside_config(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        """A relative path written in a config file is relative to that file, as its reader expects."""
        base = (info.context or {}).get("base")
        return base / v if v is not None and base is not None and not v.is_absolute() else v

    @field_validator("folder")
    @classmethod
    def _folder_beside_config(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        if v is None:
            return None
        v, base = v.expanduser(), (info.context or {}).get("base")
        return base / v if base is not None and not v.is_absolute() else v


def calibration_path(settings: Settings, cfg: SkycamConfig) -> Path:
    return cfg.calibration or settings.storage.database.parent / "calibration.json"


def with_moved_keys(cfg: SkycamConfig, settings: Settings) -> SkycamConfig:
    """`cfg` with what a config file sets in [storage] or [backfill] instead, and its defaults filled in."""
    moved = {key: getattr(getattr(settings, table), key) for key, table in MOVED.items()
             if key in getattr(settings, table).model_fields_set and key not in cfg.model_fields_set}
    if cfg.images_dir is None and "images_dir" not in moved:
        moved["images_dir"] = Path("images")  # a default stays relative to the working directory
    return cfg.model_copy(update=moved) if moved else cfg


def analysis_processes(cfg: SkycamConfig) -> int:
    """Processes a manual backfill judges images in: [skycam].processes, else from the board."""
    if cfg.processes is not None:
        return cfg.processes
    if (os.cpu_count() or 1) < 2:
        return 0
    # Two even on two cores (the backfill's own process mostly waits on the network and the database): a
    # 14-day loopback backfill here took 4.4 s with two, 5.4 s with one, 6.0 s in-process. Each holds
    # ~67 MB: a Pi Zero 2 W or a Pi 3 (512 MB / 1 GB, which the kernel reports as less) gets one.
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = 0
    return 2 if memory > 5 << 28 or memory <= 0 else 1  # over 1.25 GiB
