"""`[skycam]`: the camera's table (the name predates sources/; config.toml keeps it)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from cielo.config import Section, Settings, check_tz, url_validator

# The seed system's camera: Estación Astronómica Río Grande, Tierra del Fuego (Argentina).
DEFAULT_CAMERA_URL = "http://201.251.63.225/meteorologia/cielo/image"
DEFAULT_CAMERA_TZ = "America/Argentina/Buenos_Aires"


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

    @field_validator("model", "calibration")
    @classmethod
    def _beside_config(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        """A relative path written in a config file is relative to that file, as its reader expects."""
        base = (info.context or {}).get("base")
        return base / v if v is not None and base is not None and not v.is_absolute() else v


def calibration_path(settings: Settings, cfg: SkycamConfig) -> Path:
    return cfg.calibration or settings.storage.database.parent / "calibration.json"
