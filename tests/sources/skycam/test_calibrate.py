"""`cielo calibrate`: fitting the site's camera from unlabelled images, and the classifier using the result.

The images are the loopback camera's synthetic fisheye frames with a mast and a wall in view (every frame
shows them the same), never real datasets: models/octas.json has the figures measured on those."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam.calibration import Calibration, CalibrationError, fit
from cielo.sources.skycam.model import OctaModel
from tests.conftest import cielo, rows, write_config
from tests.support.camserver import CameraServer, sky_jpeg

COVERS = [0.0, 0.1, 0.35, 0.6, 0.85, 1.0]


@pytest.fixture(scope="module")
def model() -> OctaModel:
    return OctaModel()


def _folder(path: Path, n: int = 12) -> Path:
    path.mkdir()
    for i in range(n):
        (path / f"{i:02d}.jpg").write_bytes(sky_jpeg(COVERS[i % 6], seed=i, mast=True))
    return path


def test_fit_masks_the_lens_surround_and_fixed_obstructions(model: OctaModel):
    frames = [model.decode(sky_jpeg(COVERS[i % 6], seed=i, mast=True)) for i in range(12)]
    cal = fit(frames, "test", 0.25)
    h, w = cal.mask.shape
    assert not cal.mask[:, :8].any() and not cal.mask[:, -8:].any()  # black surround of the lens
    assert cal.mask[h // 2 - 10 : h // 2, w // 2 - 20 : w // 2].all()  # open sky at the centre
    assert not cal.mask[h - 12 : h - 8, w // 2 - 10 : w // 2 + 10].any()  # the wall at the lens edge
    assert 0.0 < cal.sky_threshold < 0.3  # between the grey clouds (~0) and this camera's pale horizon (~0.3)


def test_fit_finds_the_lens_ellipse_and_the_sites_clear_sky(model: OctaModel):
    frames = [model.decode(sky_jpeg(COVERS[i % 6], seed=i, mast=True)) for i in range(12)]
    cal = fit(frames, "test", 0.14)
    assert cal.lens is not None and cal.lens["found"]
    assert abs(cal.lens["cx"] - 0.5) < 0.03 and abs(cal.lens["cy"] - 0.5) < 0.03
    assert abs(cal.lens["ry"] - 236 / 480) < 0.03  # the synthetic lens: radius 236 px of a 640x480 frame
    assert cal.reference is not None and cal.reference.table is not None
    # this camera's clear sky is NRBR 0.3..0.5: the site's threshold sits at about half of it
    assert 0.12 < cal.sky_threshold < 0.26


def _paler(model: OctaModel, jpeg: bytes):
    """The frame with its blue pulled toward red: a camera whose clear sky is pale (NRBR about 0.2)."""
    rgb = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.float32)
    rgb[..., 2] = rgb[..., 0] + 0.45 * (rgb[..., 2] - rgb[..., 0])
    im = Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).resize((model.width, model.height))
    return model.frame(im)


def test_the_site_keeps_its_own_threshold_and_only_a_pale_site_keeps_each_frames_own_sky(model: OctaModel,
                                                                                        tmp_path: Path):
    """The site's threshold per band is kept as fitted, above or below the model's (never floored to it); a
    blue site (clear sky NRBR 0.3..0.5) gets no per-frame clear-sky surface, a pale one keeps it in the bands
    where its threshold is under the model's."""
    jpegs = [sky_jpeg(COVERS[i % 6], seed=i, mast=True) for i in range(12)]
    blue = fit([model.decode(j) for j in jpegs], "test", 0.6)  # a model reference far over this site's
    assert blue.reference is not None and blue.reference.own_sky is not None and blue.reference.table is not None
    assert not any(map(any, blue.reference.own_sky))
    assert max(map(max, blue.reference.table)) < 0.5  # the site's own, not floored to the model's 0.6
    pale = fit([_paler(model, j) for j in jpegs], "test", 0.6)
    assert pale.reference is not None and pale.reference.own_sky is not None
    assert all(map(all, pale.reference.own_sky))
    assert "a pale site" in pale.found["threshold"] and "a blue site" in blue.found["threshold"]
    pale.save(tmp_path / "cal.json")
    back = Calibration.load(tmp_path / "cal.json")
    assert back.reference is not None and back.reference.own_sky == pale.reference.own_sky
    assert back.ident == pale.ident != blue.ident


def test_too_few_frames_is_an_error(model: OctaModel):
    with pytest.raises(CalibrationError, match="at least"):
        fit([model.decode(sky_jpeg(0.2, seed=1))] * 3, "test", 0.25)


def test_file_round_trip_and_other_model_sizes(model: OctaModel, tmp_path: Path):
    frames = [model.decode(sky_jpeg(COVERS[i % 6], seed=i, mast=True)) for i in range(8)]
    cal = fit(frames, "test", 0.25)
    cal.save(tmp_path / "cal.json")
    back = Calibration.load(tmp_path / "cal.json")
    assert (back.mask == cal.mask).all() and back.ident == cal.ident and back.frames == 8
    assert back.mask_at(60, 80).shape == (60, 80)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(CalibrationError, match="not a usable calibration"):
        Calibration.load(tmp_path / "bad.json")


def test_calibration_removes_the_mast_from_the_count(model: OctaModel):
    frames = [model.decode(sky_jpeg(COVERS[i % 6], seed=i, mast=True)) for i in range(12)]
    clear = model.decode(sky_jpeg(0.0, seed=50, mast=True))
    before = model.judge([clear], [None], 0.0, 0.0)[0].octas
    model.calibrate(fit(frames, "test", 0.25))
    try:
        after = model.judge([clear], [None], 0.0, 0.0)[0].octas
    finally:
        model.calibrate(None)
    assert before >= 1 and after == 0  # the grey mast and wall read as cloud until they are masked


def test_calibrate_images_then_classify_says_so(tmp_path: Path):
    folder = _folder(tmp_path / "imgs")
    cfg = write_config(tmp_path / "c.toml", {"skycam": {"calibration": "site/cal.json"}})
    result = cielo("calibrate", "--images", str(folder), config=cfg)
    assert result.returncode == 0, result.stderr
    assert "frames used: 12" in result.stdout and "obstructions:" in result.stdout
    assert "sky/cloud threshold (NRBR): " in result.stdout
    assert "lens: ellipse centre (0.4" in result.stdout and "clear-sky reference" in result.stdout
    saved = json.loads((tmp_path / "site" / "cal.json").read_text())  # relative to the config file
    assert saved["format"] == "cielo-calibration/1" and saved["frames"] == 12
    img = tmp_path / "clear.jpg"
    img.write_bytes(sky_jpeg(0.0, seed=50, mast=True))
    plain = cielo("classify", str(img), config=cfg)
    assert plain.stdout.splitlines()[0].startswith(f"{img}: 0 octas")
    assert plain.stdout.splitlines()[-1].startswith(f"calibration: {tmp_path / 'site' / 'cal.json'} (")
    as_json = json.loads(cielo("classify", "--json", str(img), config=cfg).stdout)
    assert as_json["calibration"] and as_json["octas"] == 0


def test_calibrate_usage_errors(tmp_path: Path):
    assert cielo("calibrate").returncode == 2
    assert cielo("calibrate", "--from", "2024-06-01").returncode == 2
    assert cielo("calibrate", "--from", "2024-06-02", "--to", "2024-06-01").returncode == 2
    few = tmp_path / "few"
    few.mkdir()
    (few / "a.jpg").write_bytes(sky_jpeg(0.3, seed=1))
    result = cielo("calibrate", "--images", str(few), "--out", str(tmp_path / "c.json"))
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "at least" in result.stderr


def test_calibrate_from_the_camera_end_to_end(tmp_path: Path):
    """--from/--to against the loopback camera: first with no database (the daytime slots are downloaded),
    then from stored readings (their URLs downloaded again); the next backfill records the calibration."""
    with CameraServer(mast=True) as camera:
        cfg = write_config(tmp_path / "c.toml", {
            "storage": {"database": str(tmp_path / "cielo.db")},
            "skycam": {"base_url": camera.base_url, "timeout_s": 2, "retries": 0, "requests_per_minute": 0},
            "sources.ree": {"enabled": False}, "sources.openmeteo": {"enabled": False},
        })
        # 2024-06-01 at Río Grande (the default site): the sun is up from about 12:40Z to 19:40Z.
        fresh = cielo("calibrate", "--from", "2024-06-01T10:00Z", "--to", "2024-06-01T15:59Z", config=cfg)
        assert fresh.returncode == 0, fresh.stderr
        assert "camera slots with the sun above -6°" in fresh.stdout
        first = camera.total_requests
        assert 12 <= first < 36  # 10:00..11:59Z is night there: not downloaded

        assert cielo("backfill", "--from", "2024-06-01T16:00Z", "--to", "2024-06-01T17:59Z",
                     config=cfg).returncode == 0
        stored = cielo("calibrate", "--from", "2024-06-01T16:00Z", "--to", "2024-06-01T17:59Z", config=cfg)
        assert stored.returncode == 0, stored.stderr
        assert "12 of 12 images from stored daytime readings" in stored.stdout
        cal = json.loads((tmp_path / "calibration.json").read_text())  # default: beside the database
        assert cal["frames"] == 12 and 0.0 < cal["sky_threshold"] < 0.3

        assert cielo("backfill", "--from", "2024-06-01T18:00Z", "--to", "2024-06-01T18:59Z",
                     config=cfg).returncode == 0
    (attrs,) = rows(tmp_path / "cielo.db", "SELECT attrs FROM readings WHERE ts = '2024-06-01T18:02:00Z'")[0]
    assert json.loads(attrs)["calibration"] == Calibration.load(tmp_path / "calibration.json").ident
    assert np.isfinite(cal["sky_threshold"])


def test_daemon_refreshes_the_calibration_by_itself(tmp_path: Path, monkeypatch, caplog):
    """The camera declares a daily upkeep command (Source.maintenance); the daemon runs it in a child like a
    live job. It writes the calibration only once enough judged frames are stored, refits when the file is
    older than auto_calibrate_days, and records an event each time it writes."""
    import logging

    from cielo.service.scheduler import Daemon
    from cielo.sources import registry

    with CameraServer(mast=True) as camera:
        cfg = write_config(tmp_path / "c.toml", {
            "storage": {"database": str(tmp_path / "cielo.db")},
            "skycam": {"base_url": camera.base_url, "timeout_s": 2, "retries": 0, "requests_per_minute": 0,
                       "auto_calibrate_frames": 12, "auto_calibrate_at": "04:05"},
            "backfill": {"on_startup": False},
            "sources.ree": {"enabled": False}, "sources.openmeteo": {"enabled": False},
        })
        monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[3]))
        daemon = Daemon(registry.load_settings(str(cfg)))
        caplog.set_level(logging.INFO, logger="cielo")
        try:
            job = daemon.scheduler.get_job("skycam-maintenance")
            assert job is not None and job.args == ("skycam", ("calibrate", "--auto")), job
            assert "hour='4'" in str(job.trigger) and "minute='5'" in str(job.trigger)
            cal_path = tmp_path / "calibration.json"
            daemon.run_maintenance("skycam", job.args[1])  # no database yet: nothing to learn from
            assert not cal_path.exists()
            assert cielo("backfill", "--from", "2024-06-01T16:00Z", "--to", "2024-06-01T16:59Z",
                         config=cfg).returncode == 0
            daemon.run_maintenance("skycam", job.args[1])  # 6 judged frames stored: too few
            assert not cal_path.exists()
            assert "6 judged frames stored, 12 needed" in caplog.text
            assert cielo("backfill", "--from", "2024-06-01T17:00Z", "--to", "2024-06-01T17:59Z",
                         config=cfg).returncode == 0
            daemon.run_maintenance("skycam", job.args[1])
            assert cal_path.exists(), caplog.text[-2000:]
            first = Calibration.load(cal_path)
            assert first.frames == 12 and first.source.startswith("auto: 12 of 12 images from stored")
            events = rows(tmp_path / "cielo.db", "SELECT kind, source, data FROM events WHERE kind LIKE 'calib%'")
            assert [(k, s) for k, s, _ in events] == [("calibration_refreshed", "skycam")]
            assert json.loads(events[0][2])["ident"] == first.ident
            daemon.run_maintenance("skycam", job.args[1])  # fresh: not refitted
            assert "days old; next refit after 7 days" in caplog.text
            assert len(rows(tmp_path / "cielo.db", "SELECT id FROM events WHERE kind LIKE 'calib%'")) == 1
        finally:
            daemon.stopping.set()
            daemon.store.close()
    # turned off: no upkeep job
    off = write_config(tmp_path / "off.toml", {"storage": {"database": str(tmp_path / "off.db")},
                                               "skycam": {"auto_calibrate": False}})
    settings = registry.load_settings(str(off))
    assert registry.maintenance(registry.REGISTRY["skycam"], settings) is None
