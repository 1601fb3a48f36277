"""Topic names (docs/contract.md, MQTT): everything under `<topic_prefix>/<device id>/`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    prefix: str
    device: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.device}"

    def live(self, series: str) -> str:
        """`cielo/pi-01/skycam/octas`: the series' current value, retained."""
        return f"{self.base}/{series.replace('.', '/')}"

    def backfill(self, series: str) -> str:
        """Replayed history, not retained, so a live view never shows old data as current."""
        return f"{self.live(series)}/backfill"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def safety(self) -> str:
        """The sky-safety verdict, retained (Home Assistant's safety binary_sensor)."""
        return f"{self.base}/safety"

    @property
    def events(self) -> str:
        return f"{self.base}/events"
