"""A paler camera (a dusty dome's veiling glare) pales its whole sky, not only the sun's side: the frame's own
clear-sky surface acts over the whole sky, and the site's threshold is split from all its pooled pixels."""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import calibration, lens


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


def _glared(n: int = calibration.SPLIT_MANY) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n NRBR planes of 32 x 32 (enough frames that every split found is used): grey cloud (0.0) over 80 % or 20 %
    of each, the clear sky 0.24 within SURFACE_REACH of the sun and 0.12 beyond (the glare's pale far side), the sky
    0.25-0.6 lens radii from the sun pale (0.14). (nrbr, valid, rho, sun distance)."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:32, 0:32]
    rho = (np.hypot(xx - 15.5, yy - 15.5) / 16).astype(np.float32)
    sun = (np.hypot(xx - 6, yy - 6) / 16).astype(np.float32)
    near = (sun >= 0.25) & (sun < 0.6)
    planes = []
    for _ in range(n):
        cloud = rng.random((32, 32)) < (0.8 if rng.random() < 0.5 else 0.2)
        p = np.where(cloud, 0.0, np.where(sun >= lens.SURFACE_REACH, 0.12, 0.24)) + 0.02 * rng.standard_normal((32, 32))
        p[near & ~cloud] = 0.14 + 0.01 * rng.standard_normal(int((near & ~cloud).sum()))
        planes.append(p)
    nrbr = np.stack(planes).astype(np.float32)
    valid = np.broadcast_to(rho <= 0.85, nrbr.shape).copy()
    return nrbr, valid, rho, np.broadcast_to(sun, nrbr.shape).copy()


def test_a_paler_cameras_threshold_is_split_from_all_its_pixels():
    """The surface on: a camera at the reference's blue learns its threshold beyond the surface's reach; a paler one
    (scale 0.8), whose surface reaches the whole sky, from all its pooled pixels."""
    nrbr, valid, rho, sun = _glared()
    far = valid & (sun >= lens.SURFACE_REACH)
    whole, beyond = calibration.site_split(nrbr[valid], 0.8), calibration.site_split(nrbr[far])
    assert whole is not None and beyond is not None and abs(whole[0] - beyond[0]) > 0.01
    threshold, _, own, note = calibration._site_split(nrbr, valid, rho, sun, 0.14)
    assert own is not None and all(map(all, own)) and threshold == beyond[0], note
    threshold, table, own, note = calibration._site_split(nrbr, valid, rho, sun, 0.14 * 0.8, 0.8)
    assert own is not None and all(map(all, own)) and threshold == whole[0] and "whole sky" in note, note
    assert table is not None and {v for row in table for v in row} == {round(whole[0], 4)}
