"""A daylit frame without any clear sky (a deck) is read against the clear sky's bar, not the paler reference."""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import lens


def _fisheye(blue: tuple[float, float], sun: bool, seed: int = 0) -> tuple[np.ndarray, lens.Lens]:
    """uint8 [3, 120, 160]: a lens disc in a black surround, red 150 and blue rising from blue[0] on the left to
    blue[1] on the right (NRBR (B - R) / (B + R)), a saturated sun at the upper right when `sun`."""
    h, w = 120, 160
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    geom = lens.Lens(79.5, 59.5, 55.0, 55.0, w, h, True)
    b = blue[0] + (blue[1] - blue[0]) * xx / (w - 1) + rng.normal(0, 1.0, (h, w))
    r = np.full((h, w), 150.0)
    px = np.stack([r, (r + b) / 2, b]).clip(0, 255)
    if sun:
        near = np.hypot(xx - 110, yy - 40) < 3
        px[:, near] = 255
    px[:, geom.rho() > 1.0] = 0
    return px.astype(np.uint8), geom


def _cloud(px: np.ndarray, maps: lens.Maps) -> float:
    valid = maps.valid > 0
    return float((lens.nrbr(px)[valid] < maps.threshold[valid]).mean())


def test_a_daylit_deck_bluer_than_the_reference_reads_overcast():
    """LenghuSky's grey stratus spreads over NRBR 0.01-0.19: the 0.14 reference called its blue side clear
    (4-5 octas). With the time known to be day and no clear sky in the frame, it reads overcast; blind, or
    out of daylight, the reference stands."""
    ref = lens.Reference()
    for sun in (True, False):
        px, geom = _fisheye((185.0, 212.0), sun)  # NRBR ~0.10 .. 0.17: under the clear sky's bar everywhere
        blind = lens.maps(px, geom, ref)
        day = lens.maps(px, geom, ref, daylit=True)
        assert 0.2 < _cloud(px, blind) < 0.8, sun
        assert _cloud(px, day) > 0.95, sun
        assert (day.threshold[day.valid > 0] >= lens.SURFACE_CLEAR - 1e-6).all()


def test_a_daylit_clear_sky_keeps_its_own_surface():
    """A clear sky (its bluest tenth over SURFACE_CLEAR) is never raised: the frame's surface lowers the
    reference on the sun's side as before."""
    ref = lens.Reference()
    px, geom = _fisheye((230.0, 250.0), sun=True)  # NRBR ~0.2 .. 0.25
    day = lens.maps(px, geom, ref, daylit=True)
    assert _cloud(px, day) < 0.05
    assert day.threshold.max() <= ref.zenith + 1e-6


def test_a_site_calibrated_paler_keeps_its_pale_clear_sky_clear():
    """A camera whose clear sky is paler than the model's default (its calibrated zenith threshold 0.06) shows
    no clear sky by the absolute bar on its clear days: the deck's bar follows the site's threshold down, so its
    clear frames stay clear; at the model's defaults the same frame is a deck."""
    px, geom = _fisheye((185.0, 212.0), sun=True)  # NRBR ~0.10 .. 0.17
    pale_site = lens.Reference(zenith=0.06, table=((0.06, 0.06), (0.06, 0.06)))
    assert lens.deck_bar(pale_site) < 0.11 and lens.deck_bar(lens.Reference()) == lens.SURFACE_CLEAR
    assert _cloud(px, lens.maps(px, geom, pale_site, daylit=True)) < 0.05
    assert _cloud(px, lens.maps(px, geom, lens.Reference(), daylit=True)) > 0.95


def test_a_site_whose_clear_sky_is_paler_keeps_its_clear_days_clear():
    """A camera with weaker colour (less saturation, a dusty dome) draws its clear sky toward grey: at the reference
    camera's bars its pale clear day (bluest tenth NRBR ~0.15, under SURFACE_CLEAR) is taken for a deck and read
    overcast. Calibrated with its clear sky's blue at 0.7 of the reference's (calibration.clear_scale) the bars
    scale with it: the frame shows a clear sky again. A real deck of that camera (NRBR ~0.03 .. 0.08) stays one."""
    px, geom = _fisheye((195.0, 218.0), sun=True)  # NRBR ~0.13 .. 0.18: a clear sky 0.7 as blue as the reference's
    site = lens.Reference(zenith=0.14, table=((0.14, 0.14), (0.14, 0.14)))
    assert _cloud(px, lens.maps(px, geom, site, daylit=True)) > 0.95
    paler = lens.Reference(zenith=0.14, table=((0.14, 0.14), (0.14, 0.14)), clear_scale=0.7)
    assert lens.deck_bar(paler) < lens.deck_bar(site)
    assert _cloud(px, lens.maps(px, geom, paler, daylit=True)) < 0.05
    deck, _ = _fisheye((160.0, 176.0), sun=False)  # NRBR ~0.03 .. 0.08
    assert _cloud(deck, lens.maps(deck, geom, paler, daylit=True)) > 0.95
