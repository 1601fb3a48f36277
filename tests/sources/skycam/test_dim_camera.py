"""A darker camera's dark-night stars: its response learned from the calibration's dark skies (night.site_gain)
sets the star bars (lens.star_density's `camera`); the reference camera's own skies learn nothing."""

import numpy as np

from cielo.sources.skycam import lens
from cielo.sources.skycam import night as nights


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


def test_an_old_calibration_without_a_gain_loads_as_before():
    old = {"star_bars": None, "gate_mean": [-6.0, 0.4, 0.05], "starry": None}
    site = nights.NightSite.from_dict(old)
    assert site is not None and site.gain is None
    assert "gain" not in site.as_dict()
    learned = nights.NightSite.from_dict({**old, "gain": 0.6})
    assert learned is not None and learned.gain == 0.6 and learned.as_dict()["gain"] == 0.6
