"""`cielo gaps`: holes found from the primary key, severities, known-missing slots, lag, one-line errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cielo.config import Settings
from cielo.sources.skycam.source import SkycamSource
from cielo.store import Missing, Reading, Store
from tests.conftest import cielo, clean_env

DAY0 = datetime(2025, 3, 1, tzinfo=UTC)
NOW = DAY0 + timedelta(days=2, minutes=15)  # 2025-03-03T00:15Z: with a 60 s upload delay, 00:12 is due


def fill(db: Path, holes: list[tuple[datetime, datetime]], missing: list[tuple[datetime, timedelta]]) -> None:
    # the camera's request budget lives in a database: the test's own, not one in the working directory
    source = SkycamSource(Settings.model_validate({"storage": {"database": str(db.with_name("budget.db"))},
                                                   "skycam": {"delay_s": 60}}))
    slots = source.slots(DAY0, DAY0 + timedelta(days=2))
    keep = [t for t in slots if not any(a <= t < b for a, b in holes)]
    with Store(db) as store:
        store.add_readings([Reading("skycam.octas", t, 3.0, "octas", "skycam") for t in keep])
        for ts, retry in missing:
            store.add_missing([Missing("skycam.octas", ts, "skycam", "404", retry)], now=NOW)


def gaps_json(config: Path) -> dict:
    result = cielo("gaps", "--days", "3", "--json", config=config, env=clean_env(CIELO_FAKE_NOW="2025-03-03T00:15:00Z"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_holes_severity_lag_and_known_missing(config, tmp_path: Path):
    cfg = config(skycam={"delay_s": 60})
    h = DAY0 + timedelta(hours=1)
    fill(tmp_path / "cielo.db",
         holes=[(h, h + timedelta(hours=1)),                                         # 6 slots: minor
                (DAY0 + timedelta(hours=6), DAY0 + timedelta(hours=11)),             # 30 slots: moderate
                (DAY0 + timedelta(days=1), DAY0 + timedelta(days=1, hours=13))],     # 78 slots: critical
         missing=[(h + timedelta(minutes=2), timedelta(days=1)),    # not due: not a gap
                  (h + timedelta(minutes=12), timedelta(days=-1))])  # due again: a gap
    (series,) = gaps_json(cfg)["series"]
    assert series["series"] == "skycam.octas" and series["newest"] == "2025-03-02T23:52:00Z"
    assert series["lag_s"] == (NOW - datetime(2025, 3, 2, 23, 52, tzinfo=UTC)).total_seconds()
    window_start = NOW - timedelta(days=3)
    assert window_start < DAY0  # so the days before the first reading are a gap too
    gaps = series["gaps"]
    first = gaps[0]  # from the window start to the first stored slot
    assert first["start"] == "2025-02-28T00:22:00Z" and first["end"] == "2025-02-28T23:52:00Z"
    assert [(g["start"], g["missing"], g["severity"]) for g in gaps[1:]] == [
        ("2025-03-01T01:12:00Z", 5, "minor"),
        ("2025-03-01T06:02:00Z", 30, "moderate"),
        ("2025-03-02T00:02:00Z", 78, "critical"),
        ("2025-03-03T00:02:00Z", 2, "minor"),  # 00:02 and 00:12, due and not stored yet: the lag
    ]
    assert series["missing"] == sum(g["missing"] for g in gaps) == series["requests"]


def test_text_output_and_errors(config, tmp_path: Path):
    cfg = config()
    assert cielo("gaps", config=cfg).returncode == 1  # no database yet
    fill(tmp_path / "cielo.db", holes=[], missing=[])
    text = cielo("gaps", "--days", "3", config=cfg, env=clean_env(CIELO_FAKE_NOW="2025-03-03T00:15:00Z"))
    assert text.returncode == 0 and text.stdout.startswith("skycam.octas (skycam): newest 2025-03-02T23:52:00Z")
    assert "critical" in text.stdout
    bad = cielo("gaps", "--series", "radar.rain", config=cfg)
    assert bad.returncode == 2 and "unknown series 'radar.rain'" in bad.stderr
    assert cielo("gaps", "--source", "nope", config=cfg).returncode == 2


def test_coverage_table_json_and_heatmap(camera, config, tmp_path: Path):
    from PIL import Image

    cfg = config()
    cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T23:59Z", config=cfg)
    data = json.loads(cielo("coverage", "--year", "2024", "--json", config=cfg).stdout)
    june = next(c for c in data["cells"] if c["month"] == "2024-06")
    assert (june["present"], june["expected"], june["percent"]) == (144, 4320, round(100 * 144 / 4320, 1))
    assert len(data["cells"]) == 12 and data["cells"][0]["percent"] == 0.0
    png = tmp_path / "out" / "coverage.png"
    result = cielo("coverage", "--year", "2024", "--png", str(png), config=cfg)
    assert result.returncode == 0 and "skycam.octas                 2024-06     3.3 %  144/4320" in result.stdout
    im = Image.open(png)
    assert im.format == "PNG" and im.width > 500
    assert cielo("coverage", "--year", "1800", config=cfg).returncode == 2


def test_bounds_with_a_fraction_of_a_second_find_no_false_gap(tmp_path: Path):
    """A window starting at `now - lookback` carries microseconds: a slot right on a bound must not be
    counted on one side in SQL and on the other in Python (that made one-slot gaps that were not there)."""
    from cielo.backfill import gaps

    source = SkycamSource(Settings.model_validate({"storage": {"database": str(tmp_path / "c.db")},
                                                   "skycam": {"delay_s": 60, "timezone": "UTC"}}))
    end = DAY0 + timedelta(days=40)
    hole = (DAY0 + timedelta(days=10, hours=5), DAY0 + timedelta(days=10, hours=6))
    with Store(tmp_path / "c.db") as store:
        store.add_readings([Reading("skycam.octas", t, 3.0, "octas", "skycam") for t in source.slots(DAY0, end)
                            if not hole[0] <= t < hole[1]])
        for fraction in (1, 250_000, 500_000, 999_999):
            start = DAY0 + timedelta(minutes=2, microseconds=fraction)  # just after a slot, like its halvings
            found = gaps.analyse(store, source, source.primary, start, end - timedelta(minutes=5, microseconds=7))
            assert [(g.start, g.missing) for g in found.gaps] == [(hole[0] + timedelta(minutes=2), 6)], fraction
    source.close()
