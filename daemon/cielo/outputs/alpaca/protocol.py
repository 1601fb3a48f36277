"""The Alpaca envelope: parameters in, JSON or a plain-text 400 out.

Facts from the ASCOM Alpaca API (ASCOMInitiative/ASCOMRemote Swagger/AlpacaDeviceAPI_v1.yaml) and what
ConformU's protocol checks expect (ConformU/AlpacaProtocolTestManager.cs):
- URLs are lower case: `/api/v1/<device type>/<device number>/<member>`; anything else is HTTP 400 with a
  plain-text reason (a bad device type, number or member, a bad parameter value).
- GET parameters come in the query string, their names in any case (`clienttransactionid` works); PUT
  parameters come form-encoded in the body with their names cased as the API spells them: ConformU sends a
  badly cased PUT parameter and expects 400 for a member's own parameter, and a ClientTransactionID that is
  not echoed (0) when only its name is badly cased.
- ClientID and ClientTransactionID are unsigned 32-bit integers; an empty, blank, negative or non-numeric
  one is a 400 (ConformU's strict mode); an absent one is 0.
- Every answer carries ClientTransactionID (echoed), ServerTransactionID (1, 2, 3, ... per server),
  ErrorNumber and ErrorMessage (0 and "" on success), and Value for properties.
- ASCOM errors are HTTP 200 with ErrorNumber: NotImplemented 0x400 (1024), InvalidValue 0x401 (1025),
  ValueNotSet 0x402 (1026), NotConnected 0x407 (1031), InvalidOperation 0x40B (1035), ActionNotImplemented
  0x40C (1036), driver errors 0x500 (1280) and up.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

NOT_IMPLEMENTED = 0x400
INVALID_VALUE = 0x401
VALUE_NOT_SET = 0x402
NOT_CONNECTED = 0x407
INVALID_OPERATION = 0x40B
ACTION_NOT_IMPLEMENTED = 0x40C
DRIVER_ERROR = 0x500

UINT32_MAX = 4_294_967_295


class AlpacaError(Exception):
    """An ASCOM error: HTTP 200 with ErrorNumber/ErrorMessage."""

    def __init__(self, number: int, message: str):
        super().__init__(message)
        self.number = number
        self.message = message


class BadRequest(Exception):
    """HTTP 400 with a plain-text reason."""


class Params:
    """A request's parameters: GET names in any case, PUT names exactly as the API spells them."""

    def __init__(self, pairs: list[tuple[str, str]], exact: bool):
        self.exact = exact
        self._values: dict[str, str] = {}
        for k, v in pairs:
            self._values.setdefault(k if exact else k.lower(), v)

    @classmethod
    def of_query(cls, query: str) -> Params:
        return cls(_pairs(query), exact=False)

    @classmethod
    def of_form(cls, body: bytes) -> Params:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the form body is not UTF-8") from None
        return cls(_pairs(text), exact=True)

    def get(self, name: str) -> str | None:
        return self._values.get(name if self.exact else name.lower())

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise BadRequest(f"missing parameter {name}")
        return value

    def uint32(self, name: str) -> int:
        value = self.get(name)
        if value is None:
            return 0
        text = value.strip()
        if not text.isdigit() or not text.isascii() or int(text) > UINT32_MAX:
            raise BadRequest(f"{name} {value!r} is not an unsigned 32-bit integer")
        return int(text)

    def boolean(self, name: str) -> bool:
        value = self.required(name).strip().lower()
        if value not in ("true", "false"):
            raise BadRequest(f"{name} {self.get(name)!r} is not true or false")
        return value == "true"

    def number(self, name: str) -> float:
        text = self.required(name).strip()
        try:
            value = float(text)
        except ValueError:
            raise BadRequest(f"{name} {text!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise BadRequest(f"{name} {text!r} is not a finite number")
        return value


def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=50)
    except ValueError as exc:
        raise BadRequest(f"bad parameters: {exc}") from None


class Transactions:
    """ServerTransactionID: 1, 2, 3, ... (never 0, which ConformU reads as 'none'), wrapping at 2**32."""

    def __init__(self) -> None:
        self._count = itertools.count(1)
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            n = next(self._count)
        return (n - 1) % UINT32_MAX + 1


def envelope(client_tx: int, server_tx: int, value: Any = None, has_value: bool = False,
             error: AlpacaError | None = None) -> bytes:
    body: dict[str, Any] = {}
    if has_value and error is None:
        body["Value"] = value
    body.update(ClientTransactionID=client_tx, ServerTransactionID=server_tx,
                ErrorNumber=error.number if error else 0, ErrorMessage=error.message if error else "")
    return json.dumps(body, separators=(",", ":")).encode()


def ids(params: Params) -> tuple[int, int]:
    """(ClientID, ClientTransactionID); a bad one is a BadRequest."""
    return params.uint32("ClientID"), params.uint32("ClientTransactionID")


def device_state(items: Mapping[str, Any]) -> list[dict[str, Any]]:
    """DeviceState's Value: a list of {"Name": ..., "Value": ...}."""
    return [{"Name": k, "Value": v} for k, v in items.items()]
