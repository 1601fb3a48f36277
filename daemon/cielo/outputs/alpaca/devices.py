"""SafetyMonitor 0 and ObservingConditions 0: the members of the ASCOM interfaces (Platform 7), answered from
the safety monitor's verdict in memory. Nothing a client sends changes cielo: `connected` only records what
the client asked, `action` and the `command*` members are not implemented, AveragePeriod takes only 0.

Members and semantics from the Alpaca Device API (ASCOMInitiative/ASCOMRemote Swagger) and ConformU's device
testers: ISafetyMonitorV3 and IObservingConditionsV2 (Platform 7: Connect/Disconnect/Connecting/DeviceState);
an ObservingConditions sensor is implemented with its value, description and time since last update all
together, or not at all; AveragePeriod 0 means instantaneous values, anything else is InvalidValue.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cielo import __version__
from cielo.outputs.alpaca.protocol import (
    ACTION_NOT_IMPLEMENTED,
    INVALID_VALUE,
    NOT_IMPLEMENTED,
    VALUE_NOT_SET,
    AlpacaError,
    BadRequest,
    Params,
    device_state,
)
from cielo.safety.machine import Frame, Verdict

DRIVER_VERSION = ".".join(__version__.split(".")[:2])  # ASCOM's "n.n"

# IObservingConditions sensor names (SensorDescription / TimeSinceLastUpdate take these).
SENSORS = ("CloudCover", "DewPoint", "Humidity", "Pressure", "RainRate", "SkyBrightness", "SkyQuality",
           "SkyTemperature", "StarFWHM", "Temperature", "WindDirection", "WindGust", "WindSpeed")


class Readings(Protocol):
    """What the devices read: the safety monitor (cielo.safety.watch.SafetyWatch)."""

    verdict: Verdict
    last_judged: Frame | None


Handler = Callable[[Params], Any]


@dataclass
class Member:
    get: Handler | None = None
    put: Handler | None = None


class Device:
    kind = ""  # the URL's lower-case device type
    type_name = ""  # as the management API spells it
    interface_version = 1

    def __init__(self, number: int, device_id: str, readings: Readings, clock: Callable[[], datetime]):
        self.number = number
        self.device_id = device_id
        self.readings = readings
        self.clock = clock
        self.connected = False
        # Never changes for this board: derived from its device id, not stored.
        self.unique_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"cielo:{device_id}:{self.kind}:{number}"))
        self.members: dict[str, Member] = {
            "action": Member(put=self._action),
            "commandblind": Member(put=self._command),
            "commandbool": Member(put=self._command),
            "commandstring": Member(put=self._command),
            "connect": Member(put=self._connect),
            "connected": Member(get=lambda p: self.connected, put=self._set_connected),
            "connecting": Member(get=lambda p: False),
            "description": Member(get=lambda p: self.description),
            "devicestate": Member(get=lambda p: device_state(self.state())),
            "disconnect": Member(put=self._disconnect),
            "driverinfo": Member(get=lambda p: f"cielo {__version__}: the sky judged by the all-sky camera "
                                                "(cloud octas), served over ASCOM Alpaca"),
            "driverversion": Member(get=lambda p: DRIVER_VERSION),
            "interfaceversion": Member(get=lambda p: self.interface_version),
            "name": Member(get=lambda p: self.name),
            "supportedactions": Member(get=lambda p: []),
        }

    @property
    def name(self) -> str:
        return f"cielo {self.device_id}"

    @property
    def description(self) -> str:
        return "cielo all-sky camera"

    def configured(self) -> dict[str, Any]:
        return {"DeviceName": self.name, "DeviceType": self.type_name, "DeviceNumber": self.number,
                "UniqueID": self.unique_id}

    def state(self) -> dict[str, Any]:
        return {}

    def timestamp(self) -> str:
        return self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def _action(self, params: Params) -> None:
        raise AlpacaError(ACTION_NOT_IMPLEMENTED, f"action {params.get('Action') or ''!r} is not implemented: "
                          "cielo supports no actions")

    def _command(self, params: Params) -> None:
        raise AlpacaError(NOT_IMPLEMENTED, "commands are not implemented")

    def _set_connected(self, params: Params) -> None:
        self.connected = params.boolean("Connected")

    def _connect(self, params: Params) -> None:
        self.connected = True

    def _disconnect(self, params: Params) -> None:
        self.connected = False


class SafetyMonitor(Device):
    kind = "safetymonitor"
    type_name = "SafetyMonitor"
    interface_version = 3

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.members["issafe"] = Member(get=lambda p: self.readings.verdict.safe)

    @property
    def name(self) -> str:
        return f"cielo safety {self.device_id}"

    @property
    def description(self) -> str:
        return "cielo: safe when the all-sky camera sees a clear sky (unsafe at once, safe after a delay)"

    def state(self) -> dict[str, Any]:
        return {"IsSafe": self.readings.verdict.safe, "TimeStamp": self.timestamp()}


class ObservingConditions(Device):
    kind = "observingconditions"
    type_name = "ObservingConditions"
    interface_version = 2

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.members.update({
            "averageperiod": Member(get=lambda p: 0.0, put=self._set_average),
            "cloudcover": Member(get=lambda p: self.cloud_cover()),
            "refresh": Member(put=lambda p: None),
            "sensordescription": Member(get=self._sensor_description),
            "timesincelastupdate": Member(get=self._since_update),
        })
        for sensor in SENSORS[1:]:
            self.members[sensor.lower()] = Member(get=self._not_implemented(sensor))

    @property
    def name(self) -> str:
        return f"cielo sky {self.device_id}"

    @property
    def description(self) -> str:
        return "cielo: cloud cover from the all-sky camera"

    def cloud_cover(self) -> float:
        frame = self.readings.last_judged
        if frame is None or frame.octas is None:
            raise AlpacaError(VALUE_NOT_SET, "no judged camera frame yet")
        return round(float(frame.octas) * 100 / 8, 1)

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        frame = self.readings.last_judged
        if frame is not None and frame.octas is not None:
            out["CloudCover"] = self.cloud_cover()
        return {**out, "TimeStamp": self.timestamp()}

    @staticmethod
    def _not_implemented(sensor: str) -> Handler:
        def answer(_params: Params) -> Any:
            raise AlpacaError(NOT_IMPLEMENTED, f"{sensor} is not implemented: cielo measures cloud cover only")

        return answer

    def _set_average(self, params: Params) -> None:
        period = params.number("AveragePeriod")
        if period != 0:
            raise AlpacaError(INVALID_VALUE, f"AveragePeriod {period:g}: only 0 (instantaneous values) is supported")

    @staticmethod
    def _sensor(params: Params, allow_all: bool) -> str:
        raw = params.required("SensorName").strip()
        if raw == "" and allow_all:
            return ""
        for name in SENSORS:
            if name.lower() == raw.lower():
                return name
        raise AlpacaError(INVALID_VALUE, f"unknown sensor {raw!r} (known: {', '.join(SENSORS)})")

    def _sensor_description(self, params: Params) -> str:
        name = self._sensor(params, allow_all=False)
        if name != "CloudCover":
            raise AlpacaError(NOT_IMPLEMENTED, f"{name} is not implemented: cielo measures cloud cover only")
        return "cloud cover from the all-sky camera's judged frames (octas x 12.5 %)"

    def _since_update(self, params: Params) -> float:
        name = self._sensor(params, allow_all=True)
        if name not in ("", "CloudCover"):
            raise AlpacaError(NOT_IMPLEMENTED, f"{name} is not implemented: cielo measures cloud cover only")
        frame = self.readings.last_judged
        if frame is None:
            raise AlpacaError(VALUE_NOT_SET, "no judged camera frame yet")
        return round((self.clock() - frame.ts).total_seconds(), 1)


def make_devices(device_id: str, readings: Readings, clock: Callable[[], datetime]) -> dict[str, dict[int, Device]]:
    """{url device type: {number: device}}."""
    return {cls.kind: {0: cls(0, device_id, readings, clock)} for cls in (SafetyMonitor, ObservingConditions)}


__all__ = ["BadRequest", "Device", "make_devices"]
