"""A darker camera's dark-night stars: its response learned from the calibration's dark skies (night.site_gain)
sets the star bars (lens.star_density's `camera`); the reference camera's own skies learn nothing."""

import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam import calibration, lens
from cielo.sources.skycam import night as nights
from cielo.sources.skycam.model import OctaModel
from tests.support.calibrated import calibrated
from tests.support.camserver import sky_jpeg

MADRID = (40.4, -3.7)
DARK_AT = datetime(2024, 1, 11, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def model() -> OctaModel:
    return OctaModel()


def _starry_sky(level: float, step: float) -> np.ndarray:
    """A flat night sky at `level` with a star every 9 pixels standing `step` over it (uint8 [288, 288])."""
    sky = np.full((288, 288), level, dtype=np.float32)
    sky[4::9, 4::9] += step
    return np.clip(sky + 0.5, 0, 255).astype(np.uint8)


def _star_share(density: np.ndarray | None) -> float:
    return 0.0 if density is None else float(density.mean())


def test_a_darker_cameras_stars_pass_on_its_own_steps():
    reference = _starry_sky(138, 24)  # the reference's median clear dark night: a faint star's step clears the bar
    darker = _starry_sky(138 * 0.6, 24 * 0.6)  # the same night through exposure x0.6
    assert _star_share(lens.star_density(reference)) > 0.01
    # per frame the bar follows the sky only down from STAR_SKY_REF: 0.72 of it, where the steps are 0.6
    assert _star_share(lens.star_density(darker)) == 0.0
    assert _star_share(lens.star_density(darker, 0.6)) > 0.01
    assert np.array_equal(lens.star_density(reference), lens.star_density(reference, 1.0))


def test_the_cameras_response_is_learned_from_its_dark_skies_only_when_darker():
    reference = [138.0, 160.0, 145.0, 121.0, 152.0, 159.0, 131.0]  # clear and overcast dark nights
    assert nights.site_gain(reference)[0] is None
    gain, note = nights.site_gain([v * 0.6 for v in reference])
    assert gain is not None and abs(gain - 0.6) < 0.03 and "star bars" in note
    assert nights.site_gain([v * 0.6 for v in reference[:nights.MIN_GAIN_FRAMES - 1]])[0] is None
    assert nights.site_gain([v * 0.2 for v in reference])[0] is None  # another camera altogether: not this rule's


def test_an_old_calibration_without_a_gain_loads_as_before():
    old = {"star_bars": None, "gate_mean": [-6.0, 0.4, 0.05], "starry": None}
    site = nights.NightSite.from_dict(old)
    assert site is not None and site.gain is None
    assert "gain" not in site.as_dict()
    learned = nights.NightSite.from_dict({**old, "gain": 0.6})
    assert learned is not None and learned.gain == 0.6 and learned.as_dict()["gain"] == 0.6


def _darker_night(seed: int, step: float = 14.0, level: float = 1.0) -> bytes:
    """A clear dark night as the reference camera's median (138 levels) through exposure x0.6: 83 levels, its
    stars (1.5 % of the disc's pixels) `step` over it; black outside the lens."""
    w, h = 640, 480
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    rho = np.hypot((xx - 320) / 225, (yy - 240) / 225)
    img = np.zeros((h, w, 3)) + np.array([76.0, 80.0, 83.0]) * level + rng.normal(0, 1.0, (h, w, 1))
    stars = (rng.random((h, w)) < 0.015) & (rho <= 1)
    img[stars] += step
    img[rho > 1] = 0
    buf = io.BytesIO()
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_a_darker_cameras_clear_night_reads_clear_after_calibrate(model: OctaModel):
    cal = calibration.fit([model.decode(sky_jpeg(c, seed=i)) for i, c in enumerate([0.0, 0.2, 0.5, 0.8, 1.0, 0.1])],
                          "test", 0.25)
    times = [DARK_AT + timedelta(minutes=10 * i) for i in range(8)]
    calibration.learn_nights(cal, [model.decode(_darker_night(i)) for i in range(8)], times, *MADRID)
    assert cal.night is not None and cal.night.gain is not None and 0.5 < cal.night.gain < 0.65, cal.found["night"]
    assert any(line.startswith("camera's response (dark-night sky): 8 dark-night skies") for line in
               calibration.describe(cal))
    frame = model.decode(_darker_night(99))
    before = model.judge([frame], [DARK_AT], *MADRID)[0]
    with calibrated(model, cal):
        after = model.judge([frame], [DARK_AT], *MADRID)[0]
    assert before.octas is None or before.octas > 2, before  # the faint steps under the bar: no stars
    assert after.octas is not None and after.octas <= 2, after


def test_a_darker_cameras_night_is_too_dark_to_judge_only_by_its_own_light(model: OctaModel):
    """A starless deck through exposure x0.6 averages under model.NIGHT_JUDGE_MEAN: flagged `night` uncalibrated;
    with the camera's response learned it is judged as the reference camera would judge its brighter self."""
    cal = calibration.fit([model.decode(sky_jpeg(c, seed=i)) for i, c in enumerate([0.0, 0.2, 0.5, 0.8, 1.0, 0.1])],
                          "test", 0.25)
    times = [DARK_AT + timedelta(minutes=10 * i) for i in range(8)]
    calibration.learn_nights(cal, [model.decode(_darker_night(i)) for i in range(8)], times, *MADRID)
    frame = model.decode(_darker_night(7, step=0.0, level=0.7))  # a starless deck, darker still
    assert 0.15 * cal.night.gain < frame.brightness < 0.15
    assert model.judge([frame], [DARK_AT], *MADRID)[0].flag == "night"
    with calibrated(model, cal):
        after = model.judge([frame], [DARK_AT], *MADRID)[0]
    assert after.octas is not None, after.flag
