"""A mount across the lens (a TSI's camera arm and shadow band) must not cost the frame its lens."""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import lens


def _ends(short: int) -> np.ndarray:
    """72 ray ends from (80, 60): on the ring (80, 60, 62 x 50), but for `short` consecutive rays stopped 4-20 px
    out by a mount and a band along them."""
    t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    ends = np.stack([80 + 62 * np.cos(t), 60 + 50 * np.sin(t)], axis=1)
    idx = np.arange(short)
    r = 4 + 16 * (idx % 5) / 4
    ends[idx] = np.stack([80 + r * np.cos(t[idx]), 60 + r * np.sin(t[idx])], axis=1)
    return ends


def test_a_run_of_short_rays_still_gives_the_ring():
    """With 30 of 72 rays stopped near the start, a fit through every end lands off the ring and its trimming never
    recovers (8 of 325 ARM TSI frames had no lens: the ground ring read as sky, 2-4 octas off); the farther ends'
    fit, which more ends agree with, is the ring."""
    ends = _ends(30)
    off = lens.robust_fit(ends)
    assert off is not None and abs(off[1] - 60) > 10  # the old way: the centre pulled 17 px off
    fit, support, farther = lens._best_fit(ends, 80, 60, 160, 120)
    assert fit is not None and farther and support == lens._on_ellipse(ends, *fit)
    assert np.allclose(fit, (80, 60, 62, 50), atol=0.5)


def test_a_clean_ring_is_fitted_as_before():
    ends = _ends(0)
    fit, _, farther = lens._best_fit(ends, 80, 60, 160, 120)
    assert not farther and np.allclose(fit, lens.robust_fit(ends), atol=1e-6)
    plain = lens.robust_fit(_ends(30))
    assert lens._best_fit(_ends(30), 80, 60, 160, 120, far_start=False) == (plain, lens._on_ellipse(_ends(30), *plain),
                                                                        False)
