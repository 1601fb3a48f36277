"""Fixtures of the source tests: a config pointing the chosen APIs at the loopback server (tests/support)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import source_sections, write_config
from tests.support.apiserver import ApiServer


@pytest.fixture
def cfg(tmp_path: Path, api: ApiServer):
    def make(*enabled: str, **extra: dict[str, Any]) -> Path:
        sections = {"storage": {"database": str(tmp_path / "cielo.db")}, "skycam": {"enabled": False},
                    "backfill": {"max_attempts": 1, "on_startup": False},  # jobs: tests/backfill/test_jobs.py
                    **source_sections(api, *enabled, **extra)}
        return write_config(tmp_path / "config.toml", sections)

    return make
