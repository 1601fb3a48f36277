"""One line per event on stderr; under systemd (JOURNAL_STREAM set) with `<N>` priorities, no timestamps."""

from __future__ import annotations

import logging
import os
import sys

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class _JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"<{_PRIORITY.get(record.levelno, 6)}>{super().format(record)}"


def setup(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(_JournalFormatter("%(message)s"))
    else:
        # The zone on every line: a log read beside UTC readings (or from another board) must not need a guess.
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S%z"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # urllib3 logs each of its own retries as a warning ("Retrying (CappedRetry(total=2, ...)) after
    # connection broken by ..."): dozens of lines for one unreachable camera. cielo says what failed, once,
    # in its own words (the run's examples and breakdown); -v shows urllib3's detail.
    logging.getLogger("urllib3").setLevel(logging.WARNING if verbose else logging.ERROR)
