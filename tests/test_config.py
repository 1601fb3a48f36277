from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from cielo.config import Settings
from cielo.errors import ConfigError
from cielo.sources.registry import check, load_settings, tables
from cielo.sources.skycam.source import SkycamSource
from tests.conftest import ROOT, cielo, write_config


def test_defaults_are_the_seed_camera_and_a_local_database():
    s = check(Settings())
    cam = SkycamSource.config(s)
    assert cam.base_url == "http://201.251.63.225/meteorologia/cielo/image"
    assert cam.year_dir == "past"
    assert cam.minutes == [2, 12, 22, 32, 42, 52]
    assert cam.workers == 4
    assert s.storage.database == Path("cielo.db")
    assert s.mqtt.enabled is False
    assert str(s.device_tz) == cam.timezone


def test_example_config_is_all_defaults():
    loaded = load_settings(str(ROOT / "config.toml"))
    raw = {"sources", *(loaded.model_extra or {})}  # source tables: each compared with its model below
    assert loaded.model_dump(exclude=raw) == Settings().model_dump(exclude=raw)
    for where, model in tables().items():
        assert loaded.table(where, model) == model(), where
    assert loaded.storage.database == Path("cielo.db")  # a default path stays in the working directory


def _keys(model: type, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for name, field in model.model_fields.items():
        if (field.description or "").startswith("alias"):  # documented where it lives; read here too
            continue
        sub = field.annotation
        if isinstance(sub, type) and hasattr(sub, "model_fields"):
            out += [(name, k) for _, k in _keys(sub)]
        elif prefix or name not in ("sources", "skycam", "path"):
            out.append((prefix, name))
    return out


def test_example_config_documents_every_key():
    """config.toml cannot drift from the models: every key appears in its section, commented."""
    text = (ROOT / "config.toml").read_text()
    sections = dict(re.findall(r"^\[([\w.]+)\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S))
    keys = _keys(Settings) + [(".".join(where), key) for where, model in tables().items() for key in model.model_fields]
    for section, key in keys:
        assert re.search(rf"^# {key} = ", sections.get(section, ""), re.M), f"[{section}].{key} missing"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[skycam]\nminutes = [61]\n", "config.toml: [skycam].minutes: minutes must be between 0 and 59"),
        ("[skycam]\ncolour = 1\n", "config.toml: [skycam].colour: unknown key"),
        ("[skycam]\nyear_dir = 'sometimes'\n", "config.toml: [skycam].year_dir: Input should be"),
        ("[skycam]\nbase_url = 'ftp://x'\n", "config.toml: [skycam].base_url: 'ftp://x' is not an http"),
        ("[skycam]\ntimezone = 'Mars/Olympus'\n", "config.toml: [skycam].timezone: unknown time zone"),
        ("[device]\nlatitude = 91\n", "config.toml: [device].latitude: Input should be less than or equal to 90"),
        ("[nonsense]\n", "config.toml: [nonsense]: unknown key"),
        ("[skycam\n", "config.toml: not valid TOML"),
        ("[sources.ree]\ngeo_id = 1234\n", "config.toml: [sources.ree].geo_id: Input should be 8741, 8742"),
        ("[sources.ree]\ncolour = 1\n", "config.toml: [sources.ree].colour: unknown key"),
        ("[sources.openmeteo]\narchive_url = 'ftp://x'\n", "config.toml: [sources.openmeteo].archive_url: 'ftp://x'"),
        ("[sources.aemet]\nstation = 'x y'\n", "config.toml: [sources.aemet].station: String should match"),
        ("[sources.aemet]\nenabled = true\n", "config.toml: [sources.aemet]: enabled = true needs api_key"),
        ("[sources.weatherunderground]\n", "config.toml: [sources.weatherunderground]: unknown source (known:"),
        ("[sources]\nree = 3\n", "config.toml: [sources.ree]: Input should be a valid dictionary"),
        ("[alpaca]\nbind = 'localhost'\n", "config.toml: [alpaca].bind: 'localhost' is not an IP address"),
        ("[alpaca]\nport = 0\n", "config.toml: [alpaca].port: Input should be greater than or equal to 1"),
        ("[safety]\nsafe_octas = 5\n", "config.toml: [safety]: safe_octas (5) must be below unsafe_octas (4)"),
        ("[safety]\nsafe_after_min = -1\n", "config.toml: [safety].safe_after_min: Input should be greater"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path: Path, body: str, message: str):
    path = tmp_path / "config.toml"
    path.write_text(body)
    result = cielo("classify", str(ROOT / "README.md"), config=path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_missing_config_file_named_explicitly(tmp_path: Path):
    result = cielo("classify", "x.jpg", config=tmp_path / "nope.toml")
    assert result.returncode == 2
    assert "nope.toml: no such file" in result.stderr


def test_secret_comes_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = write_config(tmp_path / "c.toml", {"mqtt": {"password": "from-file"}})
    monkeypatch.setenv("CIELO_MQTT_PASSWORD", "from-env")
    assert load_settings(str(path)).mqtt.password == "from-env"


def test_config_found_through_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = write_config(tmp_path / "c.toml", {"skycam": {"workers": 7}})
    monkeypatch.setenv("CIELO_CONFIG", str(path))
    assert SkycamSource.config(load_settings()).workers == 7


def test_relative_paths_are_relative_to_the_config(tmp_path: Path):
    path = write_config(tmp_path / "c.toml", {"storage": {"database": "data/x.db"}})
    assert load_settings(str(path)).storage.database == tmp_path / "data" / "x.db"


def test_bad_config_raises_config_error_in_library(tmp_path: Path):
    path = write_config(tmp_path / "c.toml", {"skycam": {"workers": 0}})
    with pytest.raises(ConfigError, match=r"\[skycam\]\.workers"):
        load_settings(str(path))


def test_source_keys_from_environment_enable_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from cielo.sources.registry import REGISTRY

    path = write_config(tmp_path / "c.toml", {"device": {"id": "x"}})
    assert not REGISTRY["aemet"].enabled(load_settings(str(path)))
    monkeypatch.setenv("CIELO_AEMET_API_KEY", "k-from-env")
    settings = load_settings(str(path))
    assert REGISTRY["aemet"].enabled(settings) and REGISTRY["aemet"].key_present(settings)
    assert "k-from-env" not in repr(settings.source_config("aemet", REGISTRY["aemet"].config_model))


# a Pi Zero 2 W and a Pi 3 (512 MB and 1 GB boards, as their kernels report them) get one process
@pytest.mark.parametrize(("cores", "memory_mb", "expected"),
                         [(1, 4096, 0), (2, 4096, 2), (4, 427, 1), (4, 921, 1), (4, 1843, 2)])
def test_backfill_analysis_processes_default_from_the_board(monkeypatch, cores: int, memory_mb: int, expected: int):
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": memory_mb * 256}
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name])
    from cielo.sources.skycam.config import SkycamConfig, analysis_processes

    assert analysis_processes(SkycamConfig()) == expected
    assert analysis_processes(SkycamConfig(processes=0)) == 0  # the key always wins
