"""`cielo import-csv`: the CLI command of the CSV importer (cielo.sources.csv), added through the registry."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the importer and its config model load when the command runs, not for `cielo --help`
    from cielo.config import Settings


def register(sub: argparse._SubParsersAction) -> dict[str, Callable[[argparse.Namespace, Settings], int]]:
    """`cielo import-csv`, added to the CLI through the registry."""
    m = sub.add_parser("import-csv", help="historical station CSV exports (SIAR, datosclima.es, custom)")
    m.add_argument("--source", required=True, metavar="LAYOUT",
                   help="siar, datosclima or custom ([sources.csv] columns)")
    m.add_argument("files", nargs="+", metavar="FILE")
    return {"import-csv": command}


def command(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.service.runtime import open_store
    from cielo.sources.csv import SOURCE, CsvConfig, import_file
    from cielo.sources.registry import priorities

    cfg = settings.source_config(SOURCE, CsvConfig)
    code = 0
    with open_store(settings) as store:  # with the outbox: imported readings reach MQTT like any other
        for name in args.files:
            summary = import_file(store, Path(name), args.source, cfg, priorities(settings))
            for line in summary.errors:
                print(line, file=sys.stderr)
            if summary.failed > len(summary.errors):
                print(f"{name}: and {summary.failed - len(summary.errors)} more bad rows", file=sys.stderr)
            print(summary.line(), flush=True)
            if summary.total and summary.failed == summary.total:
                code = 1
    return code
