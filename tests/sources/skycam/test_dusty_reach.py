"""A paler camera (a dusty dome's veiling glare) pales its whole sky, not only the sun's side: the frame's own
clear-sky surface acts over the whole sky (lens.whole_sky_reach)."""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import lens


def _pale_horizon(cloud: bool) -> tuple[np.ndarray, lens.Lens]:
    """uint8 [3, 120, 160]: a lens disc in a black surround, a clear sky whose NRBR falls from 0.26 at the zenith to
    0.04 at the octa area's edge (a dusty dome's glare whitens the horizon), a saturated sun by the right rim; with
    `cloud`, a grey cloud (NRBR ~0.01) on the far side from the sun, by the horizon."""
    h, w = 120, 160
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    geom = lens.Lens(79.5, 59.5, 55.0, 55.0, w, h, True)
    rho = geom.rho()
    want = 0.26 - (0.26 - 0.04) * (rho / lens.OCTA_RADIUS) ** 2
    if cloud:
        want = np.where((xx < 50) & (np.abs(yy - 59.5) < 15), 0.01, want)
    r = np.full((h, w), 150.0)
    b = (r * (1 + want) + want * 0.255 * 255) / (1 - want) + rng.normal(0, 0.5, (h, w))  # NRBR as lens.nrbr reads it
    px = np.stack([r, (r + b) / 2, b]).clip(0, 255)
    px[:, np.hypot(xx - 125, yy - 59.5) < 3] = 255
    px[:, rho > 1.0] = 0
    return px.astype(np.uint8), geom


def _cloud(px: np.ndarray, maps: lens.Maps, where: np.ndarray | None = None) -> float:
    valid = (maps.valid > 0) & (True if where is None else where)
    return float((lens.nrbr(px)[valid] < maps.threshold[valid]).mean())


def test_a_paler_cameras_surface_reaches_its_pale_horizon():
    """At a site calibrated paler than the reference camera (clear_scale 0.8) the frame's surface lowers the site's
    threshold (0.09) by the far horizon too, whose clear sky the glare paled under it: read clear. At the reference's
    blue (clear_scale 1) the surface stops SURFACE_REACH from the sun and that horizon reads cloud. A grey cloud there
    stays cloud either way."""
    table = tuple(tuple(0.09 for _ in range(4)) for _ in range(4))
    own = tuple(tuple(True for _ in range(4)) for _ in range(4))
    blue = lens.Reference(zenith=0.09, table=table, own_sky=own)
    pale = lens.Reference(zenith=0.09, table=table, own_sky=own, clear_scale=0.8)
    assert not lens.whole_sky_reach(blue) and lens.whole_sky_reach(pale)
    px, geom = _pale_horizon(cloud=False)
    far = (geom.rho() > 0.78) & (np.mgrid[0:120, 0:160][1] < 40)  # the horizon far from the sun, under 0.09
    at_blue = lens.maps(px, geom, blue, daylit=True)
    assert at_blue.sun is not None
    assert _cloud(px, at_blue, far) > 0.8
    assert _cloud(px, lens.maps(px, geom, pale, daylit=True), far) < 0.02
    grey, _ = _pale_horizon(cloud=True)
    deck = (np.mgrid[0:120, 0:160][1] < 50) & (np.abs(np.mgrid[0:120, 0:160][0] - 59.5) < 15)
    for ref in (blue, pale):
        assert _cloud(grey, lens.maps(grey, geom, ref, daylit=True), deck & (geom.rho() <= lens.OCTA_RADIUS)) > 0.95
