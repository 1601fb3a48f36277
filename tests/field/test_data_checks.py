"""Data checks through the real CLI: CSV rows dated in the future or out of range refused by line, the
CSV's DST hours, relative dates, integer octas on export, the prices view's rounding, the jobs header, the
coverage heatmap's months before the first reading, `-v` after the command, zoned log lines, prune-future
--force, status and doctor agreeing on the database size, classify going on after an odd EXIF."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import cielo, clean_env, rows
from tests.support.camserver import CameraServer, sky_jpeg

HEADER = "IdProvincia;IdEstacion;Fecha;Hora;TempMedia;HumedadMedia;VelViento;Precipitacion\n"


def _madrid_csv(config, tmp_path: Path) -> Path:
    cfg = config()
    cfg.write_text(cfg.read_text() + '\n[sources.csv]\ntimezone = "Europe/Madrid"\n')
    return cfg


def test_csv_rows_dated_in_the_future_or_out_of_range_are_refused_by_line(config, tmp_path: Path):
    cfg = _madrid_csv(config, tmp_path)
    f = tmp_path / "siar.csv"
    f.write_text(HEADER + "28;2;01/06/2024;10:00;20,5;50;1;0\n"
                 "28;2;01/06/2031;10:00;21,5;50;1;0\n"      # line 3: after now (the fake clock below)
                 "28;2;01/06/1969;10:00;19,5;50;1;0\n"      # line 4: before 1970
                 "28;2;01/06/2201;10:00;19,5;50;1;0\n"      # line 5: after 2200
                 "28;2;02/06/2024;10:00;22,0;50;1;0\n", encoding="utf-8")
    env = clean_env(CIELO_FAKE_NOW="2026-01-01T00:00:00Z")
    result = cielo("import-csv", "--source", "siar", str(f), config=cfg, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "csv-siar: total=5 new=2 duplicates=0 failed=3\n"
    errors = result.stderr.splitlines()
    assert errors[0].startswith("siar.csv:3: dated 2031-06-01T08:00:00Z, after now (2026-01-01T00:00:"), errors
    assert errors[1] == "siar.csv:4: dated 1969-06-01T09:00:00Z, outside 1970-2200"
    assert errors[2] == "siar.csv:5: dated 2201-06-01T08:00:00Z, outside 1970-2200"
    assert rows(tmp_path / "cielo.db", "SELECT max(ts) FROM readings") == [("2024-06-02T08:00:00Z",)]
    # nothing stamped in the future, so prune-future has nothing to blame on the clock
    assert "no readings stamped later" in cielo("prune-future", config=cfg, env=env).stdout


def test_csv_autumn_hour_is_stored_twice_and_the_spring_gap_is_refused(config, tmp_path: Path):
    cfg = _madrid_csv(config, tmp_path)
    autumn = tmp_path / "autumn.csv"  # 2024-10-27 in Madrid: 25 hours, 02:00 twice (CEST, then CET)
    hours = ["00", "01", "02", "02", *[f"{h:02d}" for h in range(3, 24)]]
    autumn.write_text(HEADER + "".join(f"28;2;27/10/2024;{h}:00;{10 + i},0;80;1;0\n" for i, h in enumerate(hours)),
                      encoding="utf-8")
    result = cielo("import-csv", "--source", "siar", str(autumn), config=cfg)
    assert result.stdout == "csv-siar: total=25 new=25 duplicates=0 failed=0\n", result.stderr
    temps = rows(tmp_path / "cielo.db", "SELECT ts, value FROM readings WHERE series = 'weather.temperature'"
                                        " AND ts LIKE '2024-10-2%' ORDER BY ts")
    assert len(temps) == 25
    assert temps[1:5] == [("2024-10-26T23:00:00Z", 11.0), ("2024-10-27T00:00:00Z", 12.0),
                          ("2024-10-27T01:00:00Z", 13.0), ("2024-10-27T02:00:00Z", 14.0)]
    again = cielo("import-csv", "--source", "siar", str(autumn), config=cfg)
    assert again.stdout == "csv-siar: total=25 new=0 duplicates=25 failed=0\n"

    spring = tmp_path / "spring.csv"  # 2024-03-31 in Madrid: 02:00 does not exist, 23 hours
    spring.write_text(HEADER + "".join(f"28;2;31/03/2024;{h:02d}:00;{h},0;80;1;0\n" for h in range(24)),
                      encoding="utf-8")
    result = cielo("import-csv", "--source", "siar", str(spring), config=cfg)
    assert result.stdout == "csv-siar: total=24 new=23 duplicates=0 failed=1\n", result.stderr
    assert result.stderr.startswith(
        "spring.csv:4: bad date/hour: 2024-03-31 02:00 does not exist in Europe/Madrid (clocks went forward; ")
    assert result.stderr.count("\n") == 1
    got = rows(tmp_path / "cielo.db", "SELECT ts, value FROM readings WHERE series = 'weather.temperature'"
                                      " AND ts >= '2024-03-30T23:00:00Z' AND ts < '2024-04-01' ORDER BY ts")
    assert len(got) == 23 and got[:3] == [("2024-03-30T23:00:00Z", 0.0), ("2024-03-31T00:00:00Z", 1.0),
                                          ("2024-03-31T01:00:00Z", 3.0)]


def test_relative_dates_and_verbose_after_the_command(camera: CameraServer, config, tmp_path: Path):
    cfg = config()
    camera.current_year = 2024  # the loopback camera files this year's images as the real one does
    env = clean_env(CIELO_FAKE_NOW="2024-06-02T12:00:00Z")
    two_hours = cielo("backfill", "--from", "-2h", "--to", "now", "--dry-run", "-v", config=cfg, env=env)
    assert two_hours.returncode == 0, two_hours.stderr
    assert two_hours.stdout.startswith("skycam: plan: 12 slots"), two_hours.stdout
    day = cielo("backfill", "--from", "yesterday", "--to", "today", "--dry-run", config=cfg, env=env)
    assert day.stdout.startswith("skycam: plan: 144 slots"), day.stdout  # Madrid's 1 June, to the minute
    bad = cielo("backfill", "--from", "-2x", "--to", "now", config=cfg, env=env)
    assert bad.returncode == 2 and "relative: -14d" in bad.stderr
    stored = cielo("backfill", "--from", "-1h", "--to", "now", config=cfg, env=env)
    assert stored.returncode == 0, stored.stderr
    export = cielo("export", "--series", "skycam.octas", "--from=-14d", "--to", "now", config=cfg, env=env)
    lines = export.stdout.splitlines()
    assert len(lines) == 7 and all(re.fullmatch(r"[0-8]", ln.split(",")[2]) for ln in lines[1:]), lines
    status = json.loads(cielo("status", "--json", "-v", config=cfg, env=env).stdout)
    assert isinstance(status["series"][0]["value"], int)
    jobs = cielo("jobs", "list", "-v", config=cfg).stdout.splitlines()
    assert jobs[0].split() == ["id", "status", "trigger", "sources", "from", "→", "to", "created"]
    assert jobs[1].split()[0] == "1"
    # log lines (a job's progress lines) carry the zone
    rerun = cielo("jobs", "run", "1", config=cfg, env=env)
    stamped = [ln for ln in rerun.stderr.splitlines() if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", ln)]
    assert stamped and all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4} INFO ", ln) for ln in stamped), stamped


def test_views_round_prices_and_give_whole_octas_and_status_agrees_with_doctor(config, tmp_path: Path):
    from cielo.store import Reading, Store

    cfg = config(skycam={"enabled": False})
    with Store(tmp_path / "cielo.db") as store:
        store.add_readings([Reading("ree.pvpc", datetime(2024, 6, 1, 10, tzinfo=UTC), 123.9, "EUR/MWh", "ree"),
                            Reading("skycam.octas", datetime(2024, 6, 1, 10, tzinfo=UTC), 6.0, "octas", "skycam")])
    doctor = cielo("doctor", config=cfg)
    status = cielo("status", config=cfg)
    # The same figure in both (file and write-ahead log), whatever state the WAL is in.
    size = re.search(r"\((\d+\.\d) MB, schema", doctor.stdout)
    assert size and f"{size[1]} MB" in status.stdout.splitlines()[-1], (doctor.stdout, status.stdout)
    assert rows(tmp_path / "cielo.db", "SELECT pvpc_eur_kwh, pvpc_eur_mwh FROM prices") == [(0.1239, 123.9)]
    assert rows(tmp_path / "cielo.db", "SELECT octas, typeof(octas) FROM octas") == [(6, "integer")]


def test_coverage_png_greys_months_before_the_first_reading(camera: CameraServer, config, tmp_path: Path):
    from PIL import Image

    from cielo.backfill.coverage import BEFORE_FIRST

    cfg = config()
    cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T03:59Z", config=cfg)
    data = json.loads(cielo("coverage", "--year", "2024", "--json", config=cfg).stdout)
    early = [c["month"] for c in data["cells"] if c["before_first_reading"]]
    assert early == [f"2024-0{m}" for m in range(1, 6)]
    png = tmp_path / "cov.png"
    text = cielo("coverage", "--year", "2024", "--png", str(png), config=cfg)
    assert "2024-01  before first" in text.stdout and "2024-07     0.0 %" in text.stdout, text.stdout
    im = Image.open(png).convert("RGB")
    left = 20 + len("skycam.octas") * 8  # the heatmap's layout (coverage.heatmap)
    assert im.getpixel((left + 20, 48 + 5)) == BEFORE_FIRST  # January
    assert im.getpixel((left + 44 * 6 + 20, 48 + 5)) != BEFORE_FIRST  # July: red, a real gap


def test_prune_future_says_which_time_and_takes_force(camera: CameraServer, config, tmp_path: Path):
    cfg = config()
    assert cielo("ingest", config=cfg, env=clean_env(CIELO_FAKE_NOW="2031-06-01T12:05:00Z")).returncode == 0
    unsynced = clean_env(CIELO_CLOCK_SYNCED="no")
    dry = cielo("prune-future", "--dry-run", config=cfg, env=unsynced)
    assert "1 written at a time after now (up to 2031-06-01T12:0" in dry.stdout, dry.stdout
    refused = cielo("prune-future", config=cfg, env=unsynced)
    assert refused.returncode == 1 and "cielo prune-future --force" in refused.stderr, refused.stderr
    moved = cielo("prune-future", "--force", config=cfg, env=unsynced)
    assert moved.returncode == 0 and "moved 1 readings" in moved.stdout, moved.stderr
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings_future") == [(1,)]


def test_classify_goes_on_after_an_exif_date_stored_as_bytes(config, tmp_path: Path):
    from PIL import Image

    im = Image.open(io.BytesIO(sky_jpeg(0.4, seed=1)))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = b"2024:06:01 12:00:00\x00\xff"  # DateTimeOriginal as UNDEFINED bytes
    exif.get_ifd(0x8769)[36881] = b"+02:00"
    odd, plain, broken = tmp_path / "odd.jpg", tmp_path / "plain.jpg", tmp_path / "broken.jpg"
    im.save(odd, "JPEG", exif=exif.tobytes())
    plain.write_bytes(sky_jpeg(0.6, seed=2))
    broken.write_bytes(b"\xff\xd8\xff not a jpeg")
    result = cielo("classify", str(odd), str(broken), str(plain), config=config())
    lines = result.stdout.splitlines()
    assert re.fullmatch(r".*odd\.jpg: [0-8] octas \(confidence .*\)", lines[0]), lines
    assert "broken.jpg: invalid" in lines[1] and re.fullmatch(r".*plain\.jpg: [0-8] octas .*", lines[2])
    assert result.returncode == 1  # one file could not be read
