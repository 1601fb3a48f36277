"""What one ingest run did: slots new, duplicate or failed, with the causes (the contract's summary line)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from cielo.ingest.plan import Plan
from cielo.sources.base import summary_line


@dataclass
class Summary:
    source: str
    total: int = 0
    new: int = 0
    duplicates: int = 0
    failed: int = 0
    requested: int = 0  # slots asked for from the source in this run
    answered: int = 0  # of those, slots the answers held a valid value for (new, or held already)
    interrupted: bool = False
    reasons: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None
    first_answered: datetime | None = None  # the earliest slot an answer filled (a latest frame may lag its slot)
    retryable: bool = False  # some failure may go away if asked again later (network, 408/429/5xx)
    breaker_open: bool = False  # the source's breaker opened: it, not a quick retry, decides when to ask again

    @classmethod
    def of(cls, p: Plan) -> Summary:
        """What a plan already knows: slots held, and slots known missing whose retry is not due."""
        s = cls(p.source, total=p.total, duplicates=p.present, failed=p.known_missing)
        if p.known_missing:
            s.reasons["not found earlier, retry not due"] += p.known_missing
        s.requested = sum(len(w.slots) for w in p.windows)
        return s

    def line(self) -> str:
        return summary_line(self.source, self.total, self.new, self.duplicates, self.failed)

    @property
    def done(self) -> int:
        return self.new + self.duplicates + self.failed

    @property
    def success_rate(self) -> float:
        """Share of the slots this run asked for that it restored (1.0 when it asked for none): slots held
        already or known not to exist are not held against it, so running a range twice never gets worse."""
        # A slot asked for because only its secondary series were missing (Open-Meteo's cloud cover under
        # AEMET's temperature) is restored when answered, though its counted series is a duplicate.
        return 1.0 if self.requested <= 0 else min(max(self.new, self.answered) / self.requested, 1.0)
