"""Blind (no time, no calibration), a brighter camera clips a lit cloud into a saturated patch larger and denser
than the sun's disc: lens.find_sun must still take the disc, the spot whose light stays bright all round it."""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import lens

H, W = 120, 160
GEOM = lens.Lens(79.5, 59.5, 55.0, 55.0, W, H, True)
SUN = (110.0, 75.0)


def _frame() -> np.ndarray:
    """uint8 [3, H, W]: a blue sky in a black surround; a white-clipped cloud of radius 7.5 px (the disc: 4) at
    the upper left meeting blue sky at its edge; a clipped disc of radius 4 px at the lower right with a bloom
    falling 6 levels a pixel in every direction."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    px = np.stack([np.full((H, W), 120.0), np.full((H, W), 160.0), np.full((H, W), 200.0)])
    px[:, np.hypot(xx - 60, yy - 35) < 7.5] = 255
    bloom = 255.0 - 6.0 * np.maximum(np.hypot(xx - SUN[0], yy - SUN[1]) - 4.0, 0.0)
    px = np.maximum(px, bloom[None])
    px[:, GEOM.rho() > 1.0] = 0
    return np.clip(px, 0, 255).astype(np.uint8)


def test_blind_find_sun_takes_the_blooming_disc_not_a_larger_clipped_cloud():
    px = _frame()
    darkest = px.min(axis=0)
    assert int((darkest >= int(lens.SUN_LEVEL * 255)).sum()) > lens.SPREAD_CLIPPED  # the case the rule is for
    sun = lens.find_sun(darkest, GEOM.rho() <= 1.0, lens.CLIPPED_SUN, bloom=True)
    assert sun is not None
    assert np.hypot(sun[0] - SUN[0], sun[1] - SUN[1]) < 3.0, sun


def test_blind_maps_use_the_disc_and_leave_the_clipped_cloud_counted():
    """Blind (the model passes bloom when it has no time), the disc is the sun the glare ring is drawn about."""
    px = _frame()
    seen = lens.counted(px, GEOM, bloom=True)
    assert seen.sun is not None
    assert np.hypot(seen.sun[0] - SUN[0], seen.sun[1] - SUN[1]) < 3.0, seen.sun
