"""A brighter camera's pale horizon sky with its blue (and green) clipped reads NRBR low, as cloud; where such a region
runs on into white the maps do not count and sits pale (within lens.PART_PALE of the threshold), it is left out of
the graph; grey lit cloud with the same channels clipped still counts (lens.part_glow, model.PART_GLOW_TEST)."""

from __future__ import annotations

import numpy as np
import pytest

from cielo.sources.skycam import lens
from cielo.sources.skycam import model as model_mod
from cielo.sources.skycam.model import OctaModel
from tests.support.fisheye import fisheye_jpeg, sun_at

SUN = (0.1, -0.5)  # the disc's centre, lens radii from the lens centre
PALE = (215.0, 255.0, 255.0)  # NRBR 0.085: under the model's 0.14 by 0.055, within PART_PALE
GREY = (232.0, 255.0, 250.0)  # NRBR 0.037: grey lit cloud, 0.10 under


@pytest.fixture
def sun_at_disc(monkeypatch):
    sun_at(monkeypatch, SUN)


def _frame(band: tuple[float, float, float]) -> bytes:
    """A fisheye frame: black surround, a blue sky, a small clipped sun, and round the lower half of the rim a band of
    `band` from 0.62 of the lens radius to the octa circle (0.85), clipped white from there to the rim (uncounted)."""
    def paint(img, u, v, rho):
        img[np.hypot(u - SUN[0], v - SUN[1]) < 0.12] = 255.0  # the disc
        img[(rho > 0.62) & (v > 0.0)] = band
        img[(rho > 0.86) & (v > 0.0)] = 255.0
    return fisheye_jpeg(paint)


def _read(m: OctaModel, data: bytes) -> int:
    (v,) = m.judge([m.decode(data)], [None], 0.0, 0.0)
    return v.octas


def test_a_pale_part_clipped_horizon_glow_is_not_read_as_cloud(monkeypatch, sun_at_disc):
    m = OctaModel()
    frame = m.decode(_frame(PALE))
    out: list = []
    m.predict([frame], None, maps_out=out)
    geom, maps = out[0]
    yy = np.mgrid[0:geom.height, 0:geom.width][0]
    band = (geom.rho() > 0.66) & (geom.rho() < 0.8) & (yy > geom.cy + 2)
    assert (maps.valid[band] > 0).mean() > 0.9  # the maps count the band: the test must decide
    clear = _read(m, _frame(PALE))
    assert clear <= 1, clear
    monkeypatch.setattr(model_mod, "PART_GLOW_TEST", False)
    counted = _read(m, _frame(PALE))
    assert counted >= clear + 1, (counted, clear)


def test_grey_part_clipped_cloud_by_the_same_white_still_counts(monkeypatch, sun_at_disc):
    m = OctaModel()
    kept = _read(m, _frame(GREY))
    assert kept >= 1, kept
    monkeypatch.setattr(model_mod, "PART_GLOW_TEST", False)
    assert _read(m, _frame(GREY)) == kept


def _part(px: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return valid & (px.max(axis=0) >= lens.PART_WHITE) & (px.min(axis=0) < model_mod.GRAPH_WHITE)


def test_part_glow_parts_regions_by_their_paleness_and_border():
    h, w = 30, 40
    px = np.full((3, h, w), 0.5, dtype=np.float32)
    px[:, :, :] = np.array([0.55, 0.72, 0.94], dtype=np.float32)[:, None, None]  # blue sky
    valid = np.ones((h, w), dtype=bool)
    white = np.zeros((h, w), dtype=bool)
    threshold = np.full((h, w), 0.14, dtype=np.float32)
    px[:, 20:24, 5:30] = np.array([0.84, 1.0, 1.0], dtype=np.float32)[:, None, None]  # pale, B and G clipped
    valid[24:27, 3:32] = False
    white[24:27, 3:32] = True  # uncounted white all along its lower side and ...
    valid[18:20, 3:32] = False
    white[18:20, 3:32] = True  # ... its upper side
    px[:, 5:9, 5:12] = np.array([0.84, 1.0, 1.0], dtype=np.float32)[:, None, None]  # pale, ringed by sky: kept
    out = lens.part_glow(px, _part(px, valid), threshold, white)
    assert out[20:24, 5:30].all()
    assert not out[5:9, 5:12].any()
    px[:, 20:24, 5:30] = np.array([0.91, 1.0, 0.99], dtype=np.float32)[:, None, None]  # grey: counted
    assert not lens.part_glow(px, _part(px, valid), threshold, white).any()
