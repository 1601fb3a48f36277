"""`cielo calibrate`: fitting the site's camera from unlabelled images, and the classifier using the result.

The images are the loopback camera's synthetic fisheye frames with a mast and a wall in view (every frame
shows them the same), never real datasets: models/octas.json has the figures measured on those."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam import narrow
from cielo.sources.skycam.calibration import CLEAR_BLUE_REF, Calibration, CalibrationError, clear_scale, fit
from cielo.sources.skycam.lens import Reference
from cielo.sources.skycam.model import OctaModel
from tests.conftest import cielo, rows, write_config
from tests.support.calibrated import calibrated
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


def _site(model: OctaModel, seed: int, cover: float, far: tuple[int, int], near: tuple[int, int]):
    """A fisheye frame (lens radius 230 px of 640 x 480) with the sun in view: the clear sky's (red, blue) is
    `near` within 0.5 lens radii of the sun and `far` beyond 1 (blended between), `cover` of it under grey
    cloud blobs."""
    rng = np.random.default_rng(seed)
    h, w, r = 480, 640, 230
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy, sx, sy = w / 2, h / 2, w / 2 + 110, h / 2 - 70
    d = np.hypot(xx - sx, yy - sy) / r
    t = np.clip((d - 0.5) / 0.5, 0, 1)[..., None]
    red_blue = (1 - t) * np.array(near, np.float32) + t * np.array(far, np.float32)
    rgb = np.stack([red_blue[..., 0], (red_blue[..., 0] + red_blue[..., 1]) / 2, red_blue[..., 1]], axis=-1)
    cloud = np.full((h, w), cover >= 1.0)
    while cloud.mean() < cover * 0.55:
        bx, by, br = rng.uniform(cx - r, cx + r), rng.uniform(cy - r, cy + r), rng.uniform(25, 70)
        cloud |= np.hypot(xx - bx, yy - by) < br
    grey = rng.uniform(190, 225)
    rgb[cloud] = (grey, grey, grey + 4)
    rgb[d < 0.06] = 255  # the sun's disc
    rgb[np.hypot(xx - cx, yy - cy) > r] = 0
    rgb += rng.normal(0, 3, rgb.shape)
    im = Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).resize((model.width, model.height))
    return model.frame(im)


SITE_COVERS = [0.0, 0.15, 0.3, 0.5, 0.7, 0.9]


def _fit_site(model: OctaModel, far: tuple[int, int], near: tuple[int, int], default: float) -> Calibration:
    return fit([_site(model, i, SITE_COVERS[i % 6], far, near) for i in range(12)], "test", default)


def test_the_site_keeps_its_own_pooled_threshold_whatever_the_models(model: OctaModel, monkeypatch):
    """The threshold is where the site's own pooled pixels split into cloud (grey, NRBR ~0) and its clear sky
    (NRBR 0.28), the same from a model reference far over it or far under it, and kept as the site's (as from
    calibration.SPLIT_MANY day frames: how far 12 may move it from the model's is test_narrow_sample's)."""
    monkeypatch.setattr(narrow, "SPLIT_MOVE", 1.0)
    high = _fit_site(model, (105, 187), (105, 187), 0.6)
    low = _fit_site(model, (105, 187), (105, 187), -0.05)
    assert high.reference is not None and high.reference.table is not None
    assert 0.04 < high.sky_threshold < 0.24
    assert high.sky_threshold == low.sky_threshold and high.reference.table == low.reference.table
    assert max(map(max, high.reference.table)) < 0.3 and min(map(min, high.reference.table)) > 0.0


def test_only_a_site_whose_sky_pales_near_the_sun_gets_each_frames_own_surface(model: OctaModel,
                                                                                tmp_path: Path):
    """Each frame's own clear-sky surface is on only where the site's sky near the sun sits within the
    surface's margin of the site's threshold: not for a blue site, nor for one whose clear sky is pale
    (NRBR 0.28, under the old 'blue site' 0.35) but as pale near the sun as elsewhere."""
    blue = _fit_site(model, (70, 210), (90, 210), 0.14)
    even = _fit_site(model, (105, 187), (105, 187), 0.14)
    paling = _fit_site(model, (105, 187), (165, 200), 0.14)
    for cal in (blue, even, paling):
        assert cal.reference is not None and cal.reference.own_sky is not None
    assert not any(map(any, blue.reference.own_sky)) and not any(map(any, even.reference.own_sky))
    assert all(map(all, paling.reference.own_sky))
    # with the surface on, the sun's side is the surface's: one threshold, learned beyond its reach
    assert paling.reference.table is not None and len({v for row in paling.reference.table for v in row}) == 1
    assert "surface is on" in paling.found["threshold"] and "no per-frame" in even.found["threshold"]
    paling.save(tmp_path / "cal.json")
    back = Calibration.load(tmp_path / "cal.json")
    assert back.reference is not None and back.reference.own_sky == paling.reference.own_sky
    assert back.ident == paling.ident != even.ident


def test_frames_that_do_not_split_keep_the_models_reference_and_say_so(model: OctaModel):
    """Overcast frames only: no clear sky to learn from; the model's reference stays, with the reason."""
    cal = fit([_site(model, i, 1.0, (105, 187), (105, 187)) for i in range(8)], "test", 0.14)
    assert cal.reference is None and cal.sky_threshold == 0.14
    assert "do not split" in cal.found["threshold"]


def test_frames_known_to_be_out_of_daylight_do_not_teach_the_threshold(model: OctaModel):
    """With times known, only frames with the sun up count: a dusk's blue-cast overcast changes nothing."""
    day = [_site(model, i, SITE_COVERS[i % 6], (105, 187), (105, 187)) for i in range(12)]
    dusk = [_site(model, 50 + i, 1.0, (105, 187), (105, 187)) for i in range(12)]
    dusk = [model.frame(Image.fromarray(np.stack([f.pixels[0] // 2, f.pixels[1] // 2, f.pixels[2]], -1)))
            for f in dusk]  # grey cloud turned deep blue
    alone = fit(day, "test", 0.14)
    told = fit(day + dusk, "test", 0.14, [True] * 12 + [False] * 12)
    assert told.sky_threshold == alone.sky_threshold
    assert fit(day + dusk, "test", 0.14).sky_threshold != alone.sky_threshold


def test_a_calibration_that_would_leave_nothing_to_judge_is_refused(model: OctaModel):
    """Blown-out frames (the whole lens saturated): the fit would keep the lens and judge no pixel of any
    frame; it refuses, so the camera keeps its per-frame lens instead of reading nothing."""
    frames = [_site(model, i, 1.0, (105, 187), (105, 187)) for i in range(8)]
    blown = [model.frame(Image.fromarray(np.where(f.pixels > 20, 250, f.pixels).astype(np.uint8).transpose(1, 2, 0)))
             for f in frames]
    with pytest.raises(CalibrationError, match="leave under 1% of the frame to judge"):
        fit(blown, "test", 0.14)


def test_a_part_of_one_hour_is_still_split_in_two_halves():
    """The bench fits a calibration on one half of a part's time blocks and scores the other: a part whose
    frames all fall in one hour (ARM TSI's held-out day) had an empty half, and none of its frames was
    scored (each counted flagged, MAE 8)."""
    from models.skydata import Sample, time_halves

    samples = [Sample(f"201804190{i}30", "20180419", b"", 0.0, 0, {"hour": "20180419T00"}) for i in range(10)]
    a, b = time_halves(samples, "hour")
    assert len(a) == len(b) == 5 and not {id(s) for s in a} & {id(s) for s in b}


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


def _round_trip(model: OctaModel, tmp_path: Path, field: str, key: str, value: float
                ) -> tuple[Calibration, Calibration]:
    """A calibration with `field` set to `value`, saved and loaded back, and the same file written before `key`
    existed (the key deleted), loaded; each checked to keep its id: the new one's moves, the old one's does not."""
    frames = [model.decode(sky_jpeg(COVERS[i % 6], seed=i, mast=True)) for i in range(8)]
    cal = fit(frames, "test", 0.25)
    plain = cal.ident
    setattr(cal, field, value)
    cal.save(tmp_path / "cal.json")
    back = Calibration.load(tmp_path / "cal.json")
    assert getattr(back, field) == pytest.approx(value) and back.ident == cal.ident != plain
    raw = json.loads((tmp_path / "cal.json").read_text())
    del raw[key]
    (tmp_path / "old.json").write_text(json.dumps(raw))
    old = Calibration.load(tmp_path / "old.json")
    assert old.ident == plain
    return back, old


def test_a_sites_glow_bar_round_trips_and_older_files_have_none(model: OctaModel, tmp_path: Path):
    """The veil rule's bar (veil.learn) is stored with the calibration; a file written before it (no `veil_glow`)
    loads without one, keeps its id, and so leaves the veil rule off as it was."""
    _, old = _round_trip(model, tmp_path, "glow", "veil_glow", 1.31)
    assert old.glow is None


def test_a_veil_only_glow_bar_round_trips_and_older_files_read_their_tone(model: OctaModel, tmp_path: Path):
    """A glow bar from too few frames to read the camera's tone curve (veil.site_bar) is stored as for the veil
    alone; a file written before that (no `veil_glow_tone`) reads its tone from its bar, as it did."""
    frames = [model.decode(sky_jpeg(COVERS[i % 6], seed=i, mast=True)) for i in range(8)]
    cal = fit(frames, "test", 0.25)
    cal.glow = 1.37
    toned = cal.ident
    cal.glow_tone = False
    cal.save(tmp_path / "cal.json")
    back = Calibration.load(tmp_path / "cal.json")
    assert back.glow == pytest.approx(1.37) and back.glow_tone is False and back.ident == cal.ident != toned
    raw = json.loads((tmp_path / "cal.json").read_text())
    del raw["veil_glow_tone"]
    (tmp_path / "old.json").write_text(json.dumps(raw))
    old = Calibration.load(tmp_path / "old.json")
    assert old.glow_tone is True and old.ident == toned


def test_the_sites_clear_sky_blue_round_trips_and_older_files_have_the_reference_bars(model: OctaModel,
                                                                                        tmp_path: Path):
    """The scale of the day bars (calibration.clear_scale) is stored with the calibration and reaches the model's
    reference; a file written before it (no `clear_sky_scale`) loads with the reference camera's bars and keeps its
    id."""
    frames = [model.decode(sky_jpeg(COVERS[i % 6], seed=i, mast=True)) for i in range(8)]
    assert fit(frames, "test", 0.25).clear_scale == 1.0  # too few frames to tell
    back, old = _round_trip(model, tmp_path, "clear_scale", "clear_sky_scale", 0.7)
    assert old.clear_scale == 1.0
    back.reference = Reference(zenith=0.2, table=((0.2,) * 4,) * 4)  # a site threshold: the scale applies there
    m = OctaModel(calibration=back)
    assert m.reference.clear_scale == pytest.approx(0.7)
    m.calibrate(None)
    assert m.reference.clear_scale == 1.0


def test_clear_scale_reads_a_paler_camera_and_leaves_the_reference_alone():
    """Daylit frames' surface levels split into decks and clear skies: clear ones at the reference's blue keep the
    bars; 0.7 as blue (the same sky through less colour) scales them by 0.7; bluer ones, levels that do not split,
    or too few keep them."""
    rng = np.random.default_rng(0)
    decks = list(rng.uniform(0.0, 0.12, 40))
    clear = list(rng.normal(CLEAR_BLUE_REF, 0.03, 40))
    assert clear_scale(decks + clear)[0] == 1.0
    scale, note = clear_scale([0.7 * v for v in decks + clear])
    assert scale == pytest.approx(0.7, abs=0.04) and "scaled" in note
    assert clear_scale(decks + [1.3 * v for v in clear])[0] == 1.0  # a bluer camera keeps the reference's bars
    assert clear_scale(clear)[0] == 1.0  # no decks: no split, and clear skies at the reference's blue
    assert clear_scale([0.7 * v for v in decks[:4] + clear[:4]])[0] == 1.0  # too few


def test_levels_that_do_not_split_are_read_by_their_bluest_tenth_not_their_median():
    """18 daylit frames of 50 spread over a year: decks and clear skies whose levels do not split. Their median
    says nothing of the camera (read as one clear population, it scaled a LenghuSky-8 year's bars by 0.74-0.79
    and cost 5 frames through the CLI): their bluest tenth at the reference's blue keeps the bars. A dusty dome's
    sample without decks (its clear skies all pale, one deck) does not split either, and even its bluest tenth sits
    far under the reference's: its bars scale by it (dome22)."""
    rng = np.random.default_rng(1)
    mixed = list(rng.uniform(0.10, 0.33, 18))  # the reference camera's year: median ~0.2, bluest ~0.31
    scale, note = clear_scale(mixed)
    assert scale == 1.0 and "do not split" in note
    assert 0.7 < float(np.median(mixed)) / CLEAR_BLUE_REF < 0.85  # the median alone would have scaled them
    pale = [*rng.normal(0.6 * CLEAR_BLUE_REF, 0.02, 16), 0.05]
    scale, note = clear_scale(pale)
    assert "do not split" in note and "scaled" in note
    assert scale == pytest.approx(float(np.percentile(pale, 90)) / CLEAR_BLUE_REF) and 0.6 < scale < 0.8


def test_how_much_paler_is_read_at_each_levels_sun():
    """A low sun's clear sky is bluer than a high one's on the reference camera (calibration.clear_blue_at). A paler
    camera's sample whose clear days have the sun low reads less pale against CLEAR_BLUE_REF alone than it is; with
    the sun's altitude each clear level is held against the reference's at its sun. Whether it is paler is still
    read against CLEAR_BLUE_REF: the reference's own levels at their altitudes keep the bars."""
    from cielo.sources.skycam import calibration

    rng = np.random.default_rng(3)
    alts = [*rng.uniform(0, 12, 12), *rng.uniform(20, 60, 12)]
    decks = [0.03] * 12
    clear = [calibration.clear_blue_at(a) * rng.normal(1.0, 0.03) for a in alts[:12]]  # clear days: a low sun
    ref_scale, _ = clear_scale(clear + decks, alts)
    assert ref_scale == 1.0
    pale = [0.6 * v for v in clear + decks]
    plain, _ = clear_scale(pale)
    timed, note = clear_scale(pale, alts)
    assert plain < 0.85 and timed == pytest.approx(0.6, abs=0.04) and timed < plain - 0.05, note
    assert "at their sun's altitude" in note


def test_a_dusty_domes_clear_heavy_sample_scales_its_bars(model: OctaModel):
    """Frames of a camera whose clear sky is pale grey-blue (NRBR ~0.1, a dusty dome), most of them clear or broken
    and one a deck: their levels do not split and their pixels pool under the reference's contrast. The bluest tenth
    of the levels says the camera is paler: the bars scale and the pooled pixels then split at its contrast. The same
    skies at the reference's blue keep the reference's bars."""
    covers = [0.0, 0.15, 0.3, 0.0, 0.15, 0.0, 0.3, 0.0, 0.15, 0.0, 0.0, 0.15, 0.0, 0.3, 0.0, 1.0]
    pale = fit([_site(model, i, c, (140, 172), (150, 180)) for i, c in enumerate(covers)], "test", 0.14,
               [True] * len(covers))
    assert "do not split" in pale.found["clear_sky_blue"] and pale.clear_scale < 0.8, pale.found
    assert pale.reference is not None
    blue = fit([_site(model, i, c, (100, 200), (120, 190)) for i, c in enumerate(covers)], "test", 0.14,
               [True] * len(covers))
    assert blue.clear_scale == 1.0, blue.found


def test_a_paler_cameras_frames_split_at_its_own_contrast(model: OctaModel):
    """A dusty dome greys the clear sky (NRBR 0.26 -> ~0.1), not the grey cloud: clear and cloud pixels pool
    under MIN_CONTRAST apart. The site's clear sky, paler by its clear_scale, brings the classes' bar down
    with it: the pooled pixels split and the day bars scale; read at the reference camera's contrast they did not."""
    from cielo.sources.skycam import calibration

    frames = [_site(model, i, 1.0 if i % 2 else 0.0, (140, 172), (150, 180)) for i in range(24)]
    cal = fit(frames, "test", 0.14, [True] * 24)
    assert cal.clear_scale < 1.0 and cal.reference is not None, cal.found
    assert "do not split" not in cal.found["threshold"]
    assert "reaches the whole sky" in cal.found["clear_sky_blue"]  # what the judge does with the scale: said
    nrbr = np.stack([((f.pixels[2].astype(np.float32) - f.pixels[0]) / np.maximum(
        f.pixels[2].astype(np.float32) + f.pixels[0], 1)) for f in frames])
    pooled = nrbr[:, cal.mask].ravel()
    assert calibration.site_split(pooled) is None  # the reference's contrast: no split


def test_a_paler_camera_falls_back_on_the_models_threshold_scaled(model: OctaModel, monkeypatch: pytest.MonkeyPatch):
    """Where the site's split is not pinned (few frames), the model's threshold it keeps sits between clear sky and
    cloud as the reference's did: scaled by the site's clear_scale, as the day bars are."""
    from cielo.sources.skycam import calibration

    seen: list[float] = []
    real = calibration._site_split

    def spy(nrbr, valid, rho, sun_dist, default, *rest):
        seen.append(default)
        return real(nrbr, valid, rho, sun_dist, default, *rest)

    monkeypatch.setattr(calibration, "_site_split", spy)
    frames = [_site(model, i, 1.0 if i % 2 else 0.0, (140, 172), (150, 180)) for i in range(24)]
    cal = fit(frames, "test", 0.14, [True] * 24)
    assert cal.clear_scale < 1.0 and seen == [pytest.approx(0.14 * cal.clear_scale)]


def test_calibration_removes_the_mast_from_the_count(model: OctaModel):
    frames = [model.decode(sky_jpeg(COVERS[i % 6], seed=i, mast=True)) for i in range(12)]
    clear = model.decode(sky_jpeg(0.0, seed=50, mast=True))
    before = model.judge([clear], [None], 0.0, 0.0)[0].octas
    with calibrated(model, fit(frames, "test", 0.25)):
        after = model.judge([clear], [None], 0.0, 0.0)[0].octas
    assert before >= 1 and after == 0  # the grey mast and wall read as cloud until they are masked


def test_calibrate_images_then_classify_says_so(tmp_path: Path):
    folder = _folder(tmp_path / "imgs")
    cfg = write_config(tmp_path / "c.toml", {"skycam": {"calibration": "site/cal.json"}})
    result = cielo("calibrate", "--images", str(folder), config=cfg)
    assert result.returncode == 0, result.stderr
    assert "frames used: 12" in result.stdout and "obstructions:" in result.stdout
    assert "sky/cloud threshold (NRBR): " in result.stdout
    assert "veiled days: frame times unknown: no veil rule" in result.stdout  # no times in these file names
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


@pytest.mark.slow  # about a minute of subprocesses; .ci/run's slow step runs it
def test_calibrate_from_the_camera_end_to_end(tmp_path: Path):
    """--from/--to against the loopback camera: first with no database (the daytime slots and some night ones
    are downloaded), then from stored readings (their URLs downloaded again); the next backfill records the
    calibration."""
    with CameraServer(mast=True) as camera:
        cfg = write_config(tmp_path / "c.toml", {
            "storage": {"database": str(tmp_path / "cielo.db")},
            "skycam": {"base_url": camera.base_url, "timeout_s": 2, "retries": 0, "requests_per_minute": 0},
            "sources.ree": {"enabled": False}, "sources.openmeteo": {"enabled": False},
        })
        # 2024-06-01 at Río Grande (the default site): the sun is up from about 12:40Z to 19:40Z.
        fresh = cielo("calibrate", "--from", "2024-06-01T10:00Z", "--to", "2024-06-01T15:59Z", config=cfg)
        assert fresh.returncode == 0, fresh.stderr
        assert "camera slots with the sun above -6° and 7 with it below -12° for the night side" in fresh.stdout
        # 24 slots with the sun above -6° and 7 below -12° (the night side); the 5 of nautical twilight
        # between them are not downloaded
        assert camera.total_requests == 31
        assert "moonlit nights: 7 moonlit frames" in fresh.stdout  # the night slots reached the night side

        assert cielo("backfill", "--from", "2024-06-01T16:00Z", "--to", "2024-06-01T17:59Z",
                     config=cfg).returncode == 0
        stored = cielo("calibrate", "--from", "2024-06-01T16:00Z", "--to", "2024-06-01T17:59Z", config=cfg)
        assert stored.returncode == 0, stored.stderr
        assert "12 of 12 images from stored judged readings" in stored.stdout
        cal = json.loads((tmp_path / "calibration.json").read_text())  # default: beside the database
        assert cal["frames"] == 12 and 0.0 < cal["sky_threshold"] < 0.3

        assert cielo("backfill", "--from", "2024-06-01T18:00Z", "--to", "2024-06-01T18:59Z",
                     config=cfg).returncode == 0
    (attrs,) = rows(tmp_path / "cielo.db", "SELECT attrs FROM readings WHERE ts = '2024-06-01T18:02:00Z'")[0]
    assert json.loads(attrs)["calibration"] == Calibration.load(tmp_path / "calibration.json").ident
    assert np.isfinite(cal["sky_threshold"])


@pytest.mark.slow  # long: run by `pytest -m slow` (CI runs it)
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


def _cast(model: OctaModel, frame, red: float, blue: float):
    """The frame as a camera whose white balance is off would show it: red and blue scaled."""
    px = frame.pixels.astype(np.float32) * np.array([red, 1.0, blue], np.float32)[:, None, None]
    return model.frame(Image.fromarray(px.clip(0, 255).round().astype(np.uint8).transpose(1, 2, 0)))


NOON = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)  # the sun high over (0, 0): the frames are known to be daylit


@pytest.mark.parametrize(("red", "blue"), [(1.1, 0.9), (0.9, 1.1)])
def test_a_calibration_takes_a_cameras_colour_cast_off(model: OctaModel, tmp_path: Path, red: float,
                                                        blue: float, monkeypatch):
    """A pale camera (clear sky NRBR 0.2, paler by the sun, as LenghuSky-8's) whose white balance is off by a
    tenth either way: the calibration reads the cast off its greyest day pixels and the model takes it off every
    frame, so the absolute rules (the own-sky surface's clear test, the night and yellow-cast tests) see the
    reference camera's colours and a clear and an overcast sky read right (without it the warm camera's clear
    sky read 5 octas). A file without a cast (older cielo) loads as none."""
    monkeypatch.setattr(narrow, "SPLIT_MOVE", 1.0)  # this pale camera's own threshold, as from 100 day frames
    pale = ((110, 175), (160, 195))
    frames = [_cast(model, _site(model, i, SITE_COVERS[i % 6], *pale), red, blue) for i in range(12)]
    cal = fit(frames, "test", 0.14, [True] * len(frames))
    assert (cal.cast < -0.05) if red > 1 else (cal.cast > 0.05), cal.found["cast"]
    clear = _cast(model, _site(model, 90, 0.0, *pale), red, blue)
    overcast = _cast(model, _site(model, 91, 1.0, *pale), red, blue)
    with calibrated(model, cal):
        got = [v.octas for v in model.judge([clear, overcast], [NOON, NOON], 0.0, 0.0)]
    assert got[0] is not None and got[0] <= 2 and got[1] is not None and got[1] >= 6, got
    cal.save(tmp_path / "cal.json")
    raw = json.loads((tmp_path / "cal.json").read_text())
    assert Calibration.load(tmp_path / "cal.json").cast == pytest.approx(cal.cast, abs=1e-4)
    del raw["cast"]
    (tmp_path / "old.json").write_text(json.dumps(raw))
    assert Calibration.load(tmp_path / "old.json").cast == 0.0


def test_a_camera_without_a_cast_is_left_as_it_is(model: OctaModel):
    """The reference camera's own colours (grey cloud, clear sky NRBR 0.23): no cast read, nothing changed; nor
    from cloudless days (no white in them: their palest sky is no cast), nor with the frames' times unknown."""
    frames = [_site(model, i, SITE_COVERS[i % 6], (110, 175), (160, 195)) for i in range(12)]
    cal = fit(frames, "test", 0.14, [True] * len(frames))
    assert cal.cast == 0.0 and "no cast" in cal.found["cast"]
    blue = [_site(model, i, 0.0, (90, 200), (120, 200)) for i in range(12)]
    assert fit(blue, "test", 0.14, [True] * len(blue)).cast == 0.0
    warm = [_cast(model, f, 1.1, 0.9) for f in frames]
    assert fit(warm, "test", 0.14).cast == 0.0


def _wandering(n: int, spread: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n frames' NRBR planes (32 x 32, a lens of radius 16), each mostly cloud (NRBR ~0) or mostly clear sky (~0.3),
    both levels wandering by `spread` from frame to frame (a shallow valley: few frames place it by chance); the
    valid mask, rho, and a sun out of view."""
    rng = np.random.default_rng(1)
    planes = []
    for _ in range(n):
        share = 0.8 if rng.random() < 0.5 else 0.2
        lo, hi = spread * rng.standard_normal(), 0.30 + spread * rng.standard_normal()
        cloud = rng.random((32, 32)) < share
        low, high = lo + 0.03 * rng.standard_normal((32, 32)), hi + 0.03 * rng.standard_normal((32, 32))
        planes.append(np.where(cloud, low, high))
    nrbr = np.stack(planes).astype(np.float32)
    yy, xx = np.mgrid[0:32, 0:32]
    rho = (np.hypot(xx - 15.5, yy - 15.5) / 16).astype(np.float32)
    valid = np.broadcast_to(rho <= 0.85, nrbr.shape).copy()
    return nrbr, valid, rho, np.full_like(nrbr, 9.0)


def test_a_split_that_halves_of_few_frames_move_is_not_the_sites():
    """20 frames whose levels wander 0.08: halves of them split over SPLIT_WOBBLE off the whole, so the model's
    threshold stays (the site's surface decision kept); levels that hold still pin the site's own; from SPLIT_MANY
    day frames on, the split found is the site's, as before."""
    from cielo.sources.skycam import calibration

    nrbr, valid, rho, sun = _wandering(20, 0.08)
    whole = calibration.site_split(nrbr[valid])
    assert whole is not None and abs(whole[0] - 0.14) > 0.005
    threshold, table, _, note = calibration._site_split(nrbr, valid, rho, sun, 0.14)
    assert threshold == 0.14 and "not pinned" in note
    assert table is not None and {v for row in table for v in row} == {0.14}  # a reference: own_sky still the site's
    nrbr, valid, rho, sun = _wandering(20, 0.0)
    threshold, _, _, note = calibration._site_split(nrbr, valid, rho, sun, 0.14)
    assert abs(threshold - 0.14) > 0.005 and "not pinned" not in note
    nrbr, valid, rho, sun = _wandering(calibration.SPLIT_MANY, 0.08)
    threshold, _, _, note = calibration._site_split(nrbr, valid, rho, sun, 0.14)
    assert threshold == pytest.approx(calibration.site_split(nrbr[valid])[0]) and "not pinned" not in note


def _pale_near_the_sun(wander: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """20 NRBR planes of 32 x 32, cloud (-0.1) over 80 % or 20 % of each, clear sky 0.2, the sky 0.1-0.5 lens radii
    from the sun pale (0.2); each frame's levels wander by `wander`. (nrbr, valid, rho, sun distance)."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:32, 0:32]
    rho = (np.hypot(xx - 15.5, yy - 15.5) / 16).astype(np.float32)
    sun = (np.hypot(xx - 8, yy - 8) / 16).astype(np.float32)
    near = (sun >= 0.1) & (sun < 0.5)
    planes = []
    for _ in range(20):
        share = 0.8 if rng.random() < 0.5 else 0.2
        lo, hi = -0.1, 0.2
        if wander:  # drawn only then: the frames of wander 0 keep their own draws
            lo, hi = lo + wander * rng.standard_normal(), hi + wander * rng.standard_normal()
        cloud = rng.random((32, 32)) < share
        p = np.where(cloud, lo + 0.03 * rng.standard_normal((32, 32)), hi + 0.03 * rng.standard_normal((32, 32)))
        p[near] = 0.2 + 0.01 * rng.standard_normal(int(near.sum()))
        planes.append(p)
    nrbr = np.stack(planes).astype(np.float32)
    valid = np.broadcast_to(rho <= 0.85, nrbr.shape).copy()
    return nrbr, valid, rho, np.broadcast_to(sun, nrbr.shape).copy()


def test_the_surface_is_decided_against_the_threshold_the_site_will_use():
    """An unpinned split of few frames (0.05) sits more than the surface's margin under the pale sky near the sun
    (0.2), the model's threshold (0.14) within it: the site uses the model's, so the surface stays on."""
    from cielo.sources.skycam import calibration, lens

    nrbr, valid, rho, sun = _pale_near_the_sun(wander=0.08)
    split = calibration.site_split(nrbr[valid])
    assert split is not None and split[0] + lens.SURFACE_MARGIN < 0.19  # against it, the surface would be off
    threshold, _, own, note = calibration._site_split(nrbr, valid, rho, sun, 0.14)
    assert threshold == 0.14 and "not pinned" in note
    assert own is not None and all(map(all, own)) and "surface is on" in note


def test_a_narrow_samples_surface_is_decided_against_the_models_threshold_it_falls_back_on():
    """A pinned split of few frames (about 0.05) moved over narrow.SPLIT_MOVE off the model's (0.14) is their
    weather's: the model's threshold is used, and the surface decided against it: the pale sky near the sun (0.2)
    is within the margin of 0.14, so the surface is on (before: decided against the dropped 0.05, off; ARM TSI
    through the dusty dome, a 50-frame half splitting at 0.07: MAE 0.81 -> 0.60)."""
    from cielo.sources.skycam import calibration, lens, narrow

    nrbr, valid, rho, sun = _pale_near_the_sun(wander=0.0)
    split = calibration.site_split(nrbr[valid])
    assert split is not None and split[0] + lens.SURFACE_MARGIN < 0.19 and 0.14 - split[0] > narrow.SPLIT_MOVE
    threshold, _, own, note = calibration._site_split(nrbr, valid, rho, sun, 0.14)
    assert threshold == 0.14 and "their weather's" in note
    assert own is not None and all(map(all, own)) and "surface is on" in note


def test_a_split_pinned_under_the_models_scales_the_day_bars_where_the_levels_could_not(
        model: OctaModel, monkeypatch: pytest.MonkeyPatch):
    """A paler camera whose daylit levels gave no scale (here: said not to split, as 17 daylit frames of a 50-frame
    half did through saturation 0.7) but whose pooled split the site pins well under the model's threshold: that
    split's ratio scales the day bars (calibration.fit). A split near the model's leaves the reference's bars."""
    from cielo.sources.skycam import calibration

    monkeypatch.setattr(narrow, "SPLIT_MOVE", 1.0)
    monkeypatch.setattr(calibration, "clear_scale", lambda levels, altitudes=None: (1.0, "do not split"))
    pale = _fit_site(model, (130, 178), (130, 178), 0.14)
    assert pale.reference is not None and pale.sky_threshold < 0.14 * (1 - calibration.CLEAR_BAND), pale.found
    assert pale.clear_scale == pytest.approx(max(pale.sky_threshold / 0.14, calibration.CLEAR_FLOOR))
    assert pale.clear_scale < 1.0 and "scaled by" in pale.found["clear_sky_blue"]
    blue = _fit_site(model, (105, 187), (105, 187), 0.14)
    assert blue.sky_threshold >= 0.14 * (1 - calibration.CLEAR_BAND) and blue.clear_scale == 1.0, blue.found


def test_a_cool_cast_too_few_covers_confirm_leaves_each_frame_its_own(model: OctaModel, tmp_path: Path, monkeypatch):
    """A cool camera (blue x1.1, red x0.9) calibrated on mostly clear days: its greyest day pixels sit blue of the
    reference's, but too few frames show a cloud cover (narrow.COVERED) to take the site's cast off, so each deck
    judged keeps its own cast (frame_cast, as without a calibration) and reads overcast; with the calibration
    switching the frame's cast off (as before session 19) the cool deck reads under 6. A warm camera's red cast
    on the same few covers is the site's (no clear sky's palest is red by day: RED_UNCOVERED), and a file without
    the field loads without it."""
    from cielo.sources.skycam import calibration
    from tests.sources.skycam.test_frame_cast import COOL, _deck, _through

    monkeypatch.setattr(narrow, "SPLIT_MOVE", 1.0)
    sky = ((80, 200), (165, 195))  # a clear sky pale by the sun, deep beyond: its median far from its palest
    covers = [0.0, 0.0, 0.0, 0.0, 0.15, 1.0]
    frames = [_cast(model, _site(model, i, covers[i % 6], *sky), *COOL) for i in range(12)]
    cal = fit(frames, "test", 0.14, [True] * len(frames))
    assert cal.cast == 0.0 and cal.frame_cast, cal.found["cast"]
    deck = model.decode(_through(_deck(), COOL))
    with calibrated(model, cal):
        (kept,) = model.judge([deck], [None], 0.0, 0.0)  # blind: with the time, other rules read this deck 8 too
        cal.frame_cast = False
        (off,) = model.judge([deck], [None], 0.0, 0.0)
    assert kept.octas is not None and kept.octas >= 6 and off.octas is not None and off.octas < 6, (kept, off)
    warm = [_cast(model, _site(model, i, covers[i % 6], *sky), 1.1, 0.9) for i in range(12)]
    red = fit(warm, "test", 0.14, [True] * len(warm))
    assert red.cast < -0.05 and not red.frame_cast, red.found["cast"]
    with monkeypatch.context() as mp:
        mp.setattr(calibration, "RED_UNCOVERED", False)  # as before session 19: a red cast needed covers too
        assert fit(warm, "test", 0.14, [True] * len(warm)).cast == 0.0
    # one evening's frames (one daylight period) are lit by its low sun: their red needs covers as a blue cast does
    evening = [datetime(2024, 1, 5, 16, 0, tzinfo=UTC) + timedelta(minutes=10 * i) for i in range(len(warm))]
    assert fit(warm, "test", 0.14, [True] * len(warm), evening).cast == 0.0
    days = [datetime(2024, 1, 5 + i, 12, 0, tzinfo=UTC) for i in range(len(warm))]
    assert fit(warm, "test", 0.14, [True] * len(warm), days).cast < -0.05
    cal.frame_cast = True
    cal.save(tmp_path / "cal.json")
    assert Calibration.load(tmp_path / "cal.json").frame_cast
    raw = json.loads((tmp_path / "cal.json").read_text())
    del raw["frame_cast"]
    (tmp_path / "old.json").write_text(json.dumps(raw))
    assert not Calibration.load(tmp_path / "old.json").frame_cast


def _bluer_camera(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """20 day frames of a bluer camera (NRBR planes): grey cloud about 0, a clear sky about 0.42 (classes some 0.4
    apart, twice the reference camera's), half the frames mostly cloud; no sun in view."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:32, 0:32]
    rho = (np.hypot(xx - 16, yy - 16) / 16).astype(np.float32)
    planes = []
    for i in range(20):
        cloud = rng.random((32, 32)) < (0.7 if i % 2 else 0.2)
        planes.append(np.where(cloud, 0.0 + 0.06 * rng.standard_normal((32, 32)),
                               0.42 + 0.06 * rng.standard_normal((32, 32))))
    nrbr = np.stack(planes).astype(np.float32)
    valid = np.broadcast_to(rho <= 0.85, nrbr.shape).copy()
    return nrbr, valid, rho, np.full(nrbr.shape, 9.0, dtype=np.float32)


def test_a_bluer_cameras_split_is_the_sites_where_its_contrast_carries_it(monkeypatch: pytest.MonkeyPatch):
    """A bluer camera (more saturation, auto levels) draws its classes apart and its split up: from few frames that
    split sits over narrow.SPLIT_MOVE above the model's and was taken for their weather (the model's 0.14: TSI
    through saturation 1.3 read every cloudy octa about 1 low). Where the classes' contrast is over the reference
    camera's by CLEAR_BAND and the split moved no farther than that factor, it is the site's, one threshold for
    every band; a split farther up than the contrast carries (here against a model threshold of 0.05) stays the
    weather's, and with BLUER_SPLIT off the model's is kept as before."""
    from cielo.sources.skycam import calibration

    nrbr, valid, rho, sun = _bluer_camera()
    split, contrast = calibration.site_split(nrbr[valid])
    assert contrast >= calibration.CONTRAST_REF * (1 + calibration.CLEAR_BAND)
    assert split - 0.14 > narrow.SPLIT_MOVE and split <= 0.14 * contrast / calibration.CONTRAST_REF
    threshold, table, _, note = calibration._site_split(nrbr, valid, rho, sun, 0.14)
    assert threshold == split and "a bluer camera" in note, note
    assert table is not None and {v for row in table for v in row} == {round(split, 4)}
    far, _, _, note = calibration._site_split(nrbr, valid, rho, sun, 0.05)
    assert far == 0.05 and "their weather's" in note
    monkeypatch.setattr(calibration, "BLUER_SPLIT", False)
    kept, _, _, note = calibration._site_split(nrbr, valid, rho, sun, 0.14)
    assert kept == 0.14 and "their weather's" in note
