"""A run in a checkout uses the checkout's own config, cielo.local.toml (git-ignored; `./install.sh --local` writes
it), never the template: config.toml stays pristine. On the seed's public camera, a catch-up reaches back one day
unless `[backfill] lookback_days` is set."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cielo.backfill.catch_up import catch_up
from cielo.sources import registry
from cielo.sources.skycam.source import SkycamSource
from cielo.store import Store
from tests.conftest import ROOT, cielo, clean_env, rows, write_config
from tests.support.camserver import CameraServer


def test_a_run_in_the_checkout_uses_cielo_local_toml_before_the_template(camera: CameraServer, tmp_path: Path):
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")  # the template: the public camera by default
    write_config(tmp_path / "cielo.local.toml", {
        "storage": {"database": "local.db"},
        "skycam": {"base_url": camera.base_url, "requests_per_minute": 0},
        "backfill": {"on_startup": False}})
    result = cielo("ingest", "--source", "skycam", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert rows(tmp_path / "local.db", "SELECT count(*) FROM readings") == [(1,)]
    assert camera.total_requests == 1 and not (tmp_path / "cielo.db").exists()
    assert "cielo.local.toml" in (ROOT / ".gitignore").read_text().split()


def test_install_local_writes_the_local_config_without_showing_the_login(tmp_path: Path):
    # install.sh's local branch in a copy of the checkout, with a stand-in virtualenv (making a real one is the
    # README's own command): what it writes is real.
    for name in ("install.sh", "config.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text("#!/bin/sh\nexit 0\n")
    (venv / "cielo").write_text("#!/bin/sh\necho cielo 0.1.0\n")
    for f in venv.iterdir():
        f.chmod(0o755)
    url = "http://viewer:s3cret-pass@127.0.0.1:9/image"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIELO_")}
    run = subprocess.run(["bash", "install.sh", "--local", "--venv", str(tmp_path / "venv"), "--camera", url],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert "s3cret-pass" not in run.stdout + run.stderr
    local = tmp_path / "cielo.local.toml"
    assert oct(local.stat().st_mode & 0o777) == "0o600"
    assert f'base_url = "{url}"' in local.read_text()
    assert (tmp_path / "config.toml").read_text() == (ROOT / "config.toml").read_text()  # the template untouched
    settings = registry.load_settings(str(local))
    cfg = settings.table(("skycam",), SkycamSource.config_model)
    assert cfg.base_url == "http://127.0.0.1:9/image" and cfg.password.get_secret_value() == "s3cret-pass"


def catch_up_days(tmp_path: Path, **backfill: int) -> float:
    """The range the daemon's catch-up queues for the camera on an empty database (planned only: no request)."""
    cfg = write_config(tmp_path / f"c{len(backfill)}.toml", {"storage": {"database": f"c{len(backfill)}.db"},
                                                            "backfill": backfill})
    settings = registry.load_settings(str(cfg))
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    source = SkycamSource(settings)
    with Store(settings.storage.database) as store:
        job = catch_up(store, {"skycam": source}, "on_boot", timedelta(days=settings.backfill.lookback_days),
                       now)
        (start,) = rows(settings.storage.database, "SELECT min(start) FROM backfill_tasks WHERE job_id = ?", (job,))[0]
    source.close()
    return (now - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds() / 86400


def test_the_public_default_camera_catches_up_one_day_unless_told(tmp_path: Path):
    assert catch_up_days(tmp_path) <= 1
    assert catch_up_days(tmp_path, lookback_days=30) > 29


def test_env_login_and_url_login_reach_the_camera_as_basic_auth(camera: CameraServer, config, tmp_path: Path):
    camera.login = ("viewer", "from-env-pass")
    cfg = config(skycam={"base_url": camera.base_url.replace("http://", "http://viewer:wrong@")})
    result = cielo("ingest", "--source", "skycam", config=cfg,
                   env=clean_env(CIELO_SKYCAM_PASSWORD="from-env-pass"))  # the environment wins over the file
    assert result.returncode == 0, result.stderr
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings") == [(1,)]
    (attrs,) = rows(tmp_path / "cielo.db", "SELECT attrs FROM readings")[0]
    assert json.loads(attrs)["url"].startswith(camera.base_url)
