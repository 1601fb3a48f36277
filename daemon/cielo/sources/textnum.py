"""Numbers as Spanish sources write them."""

from __future__ import annotations

from typing import Any


def decimal_comma(text: Any) -> float | None:
    """'12,4' -> 12.4; 'Ip' (inapreciable, under 0.1 mm) -> 0.0; 'Acum', 'Varias', '' -> None."""
    if isinstance(text, bool):
        return None  # JSON true/false is no measurement
    if isinstance(text, (int, float)):
        return float(text)
    if not isinstance(text, str):
        return None
    text = text.strip()
    if text == "Ip":
        return 0.0
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None
