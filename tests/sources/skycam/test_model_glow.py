"""A white-clipped region is fed to the graph as cloud when unclipped pixels ring it (lit cloud); clipped clear sky
whose white runs on, uncounted, past the octa circle (a bright camera's horizon ring) is kept out
(lens.glow_white, model.FEED_CLEAR_TEST)."""

from __future__ import annotations

import numpy as np
import pytest

from cielo.sources.skycam import lens
from cielo.sources.skycam import model as model_mod
from cielo.sources.skycam.model import OctaModel
from tests.support.fisheye import fisheye_jpeg, sun_at

SUN = (0.1, -0.5)  # the disc's centre, lens radii from the lens centre


@pytest.fixture
def sun_at_disc(monkeypatch):
    sun_at(monkeypatch, SUN)


def _frame(blob: bool, horizon: bool) -> bytes:
    """A fisheye frame: black surround, a blue sky, a small clipped sun; `blob`: a clipped lit cloud ringed by grey
    cloud; `horizon`: a clipped band of bright horizon sky round the lower half of the rim, from 0.62 of the lens radius
    to the rim (past the octa circle, 0.85), blue sky inside it."""
    def paint(img, u, v, rho):
        img[np.hypot(u - SUN[0], v - SUN[1]) < 0.12] = 255.0  # the disc
        if blob:
            img[np.hypot(u + 0.3, v - 0.3) < 0.5] = 200.0  # grey cloud ...
            img[np.hypot(u + 0.3, v - 0.3) < 0.35] = 255.0  # ... round its clipped lit core
        if horizon:
            img[(rho > 0.62) & (v > 0.0)] = 255.0
    return fisheye_jpeg(paint)


def _read(m: OctaModel, data: bytes) -> int:
    (v,) = m.judge([m.decode(data)], [None], 0.0, 0.0)
    return v.octas


def test_a_clipped_horizon_ring_is_not_read_as_cloud(monkeypatch, sun_at_disc):
    """The ring's white runs on past the octa circle, where the maps do not count it: clear sky's glow, kept out of
    the feed; fed as cloud it read the clear frame cloudy."""
    m = OctaModel()
    frame = m.decode(_frame(False, True))
    out: list = []
    m.predict([frame], None, maps_out=out)
    geom, maps = out[0]
    assert maps.sun is not None and np.hypot((maps.sun[0] - geom.cx) / geom.rx - SUN[0],
                                             (maps.sun[1] - geom.cy) / geom.ry - SUN[1]) < 0.05
    yy = np.mgrid[0:geom.height, 0:geom.width][0]
    band = (geom.rho() > 0.7) & (geom.rho() < 0.82) & (yy > geom.cy + 2)
    assert (maps.valid[band] > 0).mean() > 0.9  # the maps count the band (lens.white_cloud): the feed must decide
    clear = _read(m, _frame(False, True))
    assert clear <= 1, clear
    monkeypatch.setattr(model_mod, "FEED_CLEAR_TEST", False)
    fed = _read(m, _frame(False, True))
    assert fed >= clear + 2, (fed, clear)


def test_a_clipped_cloud_ringed_by_grey_cloud_is_fed(monkeypatch, sun_at_disc):
    """The lit core's border is grey, unclipped cloud: it is fed and counts, as without the test."""
    m = OctaModel()
    kept = _read(m, _frame(True, False))
    monkeypatch.setattr(model_mod, "FEED_CLEAR_TEST", False)
    assert _read(m, _frame(True, False)) == kept
    monkeypatch.setattr(model_mod, "FEED_WHITE_CLOUD", False)
    assert _read(m, _frame(True, False)) < kept  # the core counted: dropped, the frame reads less cloud


def test_glow_white_parts_regions_by_their_border():
    fed = np.zeros((30, 40), dtype=bool)
    fed[5:9, 5:12] = True  # a region ringed by unclipped pixels: kept
    fed[20:24, 5:30] = True  # a band whose border is mostly uncounted white: kept out
    fed[24, 30] = True  # joined diagonally: part of the band
    white = np.zeros_like(fed)
    white[18:20, 3:33] = True
    white[24:26, 3:30] = True
    out = lens.glow_white(fed, white)
    assert not out[5:9, 5:12].any()
    assert out[20:24, 5:30].all() and out[24, 30]
    white[18:20, 3:33] = False  # a short stretch of its border: under GLOW_BORDER, fed
    white[24:26, 12:30] = False
    assert not lens.glow_white(fed, white).any()
    assert not lens.glow_white(np.zeros_like(fed), white).any()
