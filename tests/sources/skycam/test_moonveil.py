"""A moonlit sky the gate passes, read by its faint stars, is a veil when a dim moon leaves it fewer faint stars
than a clear sky shows (cielo.sources.skycam.moonveil); a bright moon, or an unknown one, leaves the star read."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam import lens, moonveil, night
from tests.sources.skycam.test_night import _sky

GEOM = lens.Lens(79.5, 59.5, 55.0, 55.0, 160, 120, True)


def test_the_moons_light_is_its_lit_share_times_its_height():
    assert moonveil.moon_light(1.0, 90.0) == pytest.approx(1.0)
    assert moonveil.moon_light(0.5, 30.0) == pytest.approx(0.25)
    assert moonveil.moon_light(1.0, -5.0) == 0.0


def test_few_faint_stars_under_a_dim_moon_are_a_veil_and_only_inside_the_octa_area_count():
    bright = np.full((120, 160), 90, dtype=np.uint8)
    rho = GEOM.rho()
    rng = np.random.default_rng(1)
    inside = rho <= lens.OCTA_RADIUS
    few = inside & (rng.random(bright.shape) < 0.006)
    many = inside & (rng.random(bright.shape) < 0.03)
    assert moonveil.veiled(few, bright, GEOM, 0.15)
    assert not moonveil.veiled(many, bright, GEOM, 0.15)
    assert not moonveil.veiled(few, bright, GEOM, moonveil.MOON_LIGHT)  # a bright moon: clear skies show few too
    assert not moonveil.veiled(few, bright, GEOM, None)
    outside = few | ((rho > lens.OCTA_RADIUS) & (rng.random(bright.shape) < 0.5))  # the rim's specks do not count
    assert moonveil.veiled(outside, bright, GEOM, 0.15)
    glare = bright.copy()
    glare[:, 80:] = 255  # the moon's glare over half the sky is no sky: the stars on the other half are counted
    assert not moonveil.veiled(few | (many & (glare == 255)), bright, GEOM, 0.15)  # glare's stars counted
    assert moonveil.veiled(few | (many & (glare == 255)), glare, GEOM, 0.15)


def test_a_veiled_moonlit_sky_keeps_its_colour_reading_a_clear_one_its_stars():
    """Two synthetic moonlit skies the gate passes, read 0-1 octas by their stars: the one with few faint stars is
    a veil under a dim moon (its colour reading stands) and is read by its stars under a bright one."""
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    got = {}
    for name, stars in (("clear", 4500), ("veil", 2200)):
        rgb = _sky((85, 92, 100), stars, 25)
        frame = model.frame(Image.fromarray(rgb).resize((model.width, model.height)), rgb.max(axis=2))
        geom = model.geometry(frame)
        valid = model.maps(frame, geom).valid
        got[name] = [night.moonlit_read(frame, geom, valid, None, light)[0] for light in (None, 0.1, 0.5)]
    assert all(o is not None and o <= 2 for o in got["clear"]), got
    unknown, dim, bright = got["veil"]
    assert unknown is not None and unknown <= 2 and bright == unknown and dim is None, got
