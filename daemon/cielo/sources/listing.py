"""`cielo sources`: one line per source: enabled, key, series, history window, request budget, breaker."""

from __future__ import annotations

from datetime import timedelta

from cielo.config import Settings
from cielo.sources.registry import REGISTRY
from cielo.store.budget import breaker_states


def span_text(td: timedelta | None) -> str:
    if td is None:
        return "unlimited"
    hours = td.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 48 else f"{hours:g} h"


def lines(settings: Settings) -> list[str]:
    db = settings.storage.database
    breakers = breaker_states(db) if db.is_file() else {}
    out = []
    for name, cls in REGISTRY.items():
        key = cls.key_present(settings)
        key_text = "keyless" if key is None else ("key present" if key else "no key")
        cfg = cls.config(settings)
        limits = cls.request_budget(settings)
        if limits is None:
            budget = "none (reads files on this board)"
        else:
            rpm, rpd = limits
            budget = (f"{rpm:g}/min" if rpm else "unlimited") + (f", {rpd:g}/day" if rpd else "")
        if hasattr(cfg, "priority"):
            budget += f", priority {cfg.priority}"
        state, failures, _ = breakers.get(cls.config_name or name, ("closed", 0, None))
        breaker = f"breaker {state}" + (f" ({failures} failures)" if failures else "")
        reach = cls.history_for(settings)
        history = "live only" if reach == timedelta(0) else f"history {span_text(reach)}"
        series = ",".join(sp.name for sp in cls.series)
        out.append(f"{name}: {'enabled' if cls.enabled(settings) else 'disabled'}, {key_text}, series {series}, "
                   f"{history}, budget {budget}, {breaker}")
    return out
