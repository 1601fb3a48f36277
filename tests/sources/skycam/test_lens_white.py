"""By daylight a white-clipped cloud away from the sun is counted (as cloud); the sun's clipped glare is not."""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import lens

H, W = 120, 160
GEOM = lens.Lens(79.5, 59.5, 55.0, 55.0, W, H, True)


def _frame(cloud: bool, bloom: bool = False) -> np.ndarray:
    """uint8 [3, H, W]: a blue sky (NRBR ~0.25) in a black surround, a clipped sun at the upper right; `cloud`: a
    white-clipped cloud at the lower left (a brighter camera clips a sunlit cloud's every channel); `bloom`: the
    sun's clipped glare running on in a streak well past SUN_GLARE (a bright camera's bloom)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    px = np.stack([np.full((H, W), 120.0), np.full((H, W), 160.0), np.full((H, W), 200.0)])
    px[:, np.hypot(xx - 110, yy - 40) < 9] = 255
    if cloud:
        px[:, np.hypot(xx - 55, yy - 80) < 6] = 255
    if bloom:
        px[:, (np.abs(yy - 40) < 2) & (xx > 60) & (xx < 112)] = 255
    px[:, GEOM.rho() > 1.0] = 0
    return px.astype(np.uint8)


def _cloud_share(px: np.ndarray, maps: lens.Maps) -> float:
    valid = maps.valid > 0
    return float((lens.nrbr(px)[valid] < maps.threshold[valid]).mean())


def test_a_white_clipped_cloud_away_from_the_sun_counts_as_cloud_by_day():
    """Left out as glare, the clipped cloud was not counted at all and the frame read clear; by day (the time
    known, or a bright frame with the sun in it) it is sky that reads cloud."""
    px = _frame(cloud=True)
    clear = lens.maps(_frame(cloud=False), GEOM, lens.Reference(), daylit=True)
    day = lens.maps(px, GEOM, lens.Reference(), daylit=True)
    yy, xx = np.mgrid[0:H, 0:W]
    blob = np.hypot(xx - 55, yy - 80) < 6
    assert (day.valid[blob] > 0).all()
    assert _cloud_share(px, day) > 0.01  # the blob: 113 pixels of ~6600
    assert _cloud_share(_frame(cloud=False), clear) < 0.01


def test_a_dim_frame_of_unknown_time_keeps_leaving_white_out():
    """A frame not known to be daylit and too dark to be sunlit (a moonlit night's moon and its clipped glow) keeps
    every white-clipped pixel out, as before."""
    px = (_frame(cloud=True).astype(np.float32) * 0.4).astype(np.uint8)
    px[:, (_frame(cloud=True).min(axis=0) == 255) & (GEOM.rho() <= 1.0)] = 255
    m = lens.maps(px, GEOM, lens.Reference())
    assert (m.valid[px.min(axis=0) == 255] == 0).all()


def test_the_suns_clipped_bloom_stays_glare_however_far_it_runs():
    """White joined to the sun's disc through white is its glare, not cloud, even past SUN_GLARE."""
    px = _frame(cloud=False, bloom=True)
    day = lens.maps(px, GEOM, lens.Reference(), daylit=True)
    streak = (px.min(axis=0) == 255) & (GEOM.rho() <= lens.OCTA_RADIUS)
    assert streak.sum() > 50
    assert (day.valid[streak] == 0).all()
