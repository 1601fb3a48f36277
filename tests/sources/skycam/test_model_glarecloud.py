"""A brighter camera clips lit cloud by the sun whole, and the white joined to the disc is the sun's glare blob, left
out; where that blob, past the glare circle, goes on as grey cloud (its border's counted pixels read well under the
threshold) in a frame with grey cloud, it is counted as cloud; a clear sky's clipped aureole, ringed by blue sky,
stays glare (lens.glare_cloud, model.GLARE_CLOUD_TEST)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from cielo.sources.skycam import lens
from cielo.sources.skycam import model as model_mod
from cielo.sources.skycam.model import OctaModel
from tests.support.fisheye import BLUE, fisheye_jpeg, sun_at

GREY = (200.0, 200.0, 205.0)  # NRBR 0.012: 0.13 under the model's 0.14
SUN = (0.1, -0.45)  # the disc's centre, lens radii from the lens centre


@pytest.fixture
def sun_at_disc(monkeypatch):
    sun_at(monkeypatch, SUN)


def _frame(ring: tuple[float, float, float]) -> bytes:
    """A fisheye frame: black surround, a blue sky, a clipped white blob of 0.4 lens radii round the sun, ringed out to
    0.55 by `ring`, and a grey band by the lower rim (0.55-0.85 lens radii): the frame's grey cloud elsewhere."""
    def paint(img, u, v, rho):
        gam = np.hypot(u - SUN[0], v - SUN[1])
        img[(rho > 0.55) & (v > 0.2)] = GREY
        img[gam < 0.55] = ring
        img[gam < 0.4] = 255.0
    return fisheye_jpeg(paint, size=(480, 480), centre=(240, 240))


NOON = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)  # the sun high over (0, 0): the rule needs the time


def _read(m: OctaModel, data: bytes, when: datetime | None = NOON) -> int:
    (v,) = m.judge([m.decode(data)], [when], 0.0, 0.0)
    return v.octas


def test_clipped_cloud_joined_to_the_sun_going_on_as_grey_cloud_is_counted(monkeypatch, sun_at_disc):
    m = OctaModel()
    counted = _read(m, _frame(GREY))
    monkeypatch.setattr(model_mod, "GLARE_CLOUD_TEST", False)
    left_out = _read(m, _frame(GREY))
    assert counted >= left_out + 1, (counted, left_out)


def test_blind_the_blob_stays_glare(monkeypatch, sun_at_disc):
    m = OctaModel()
    kept = _read(m, _frame(GREY), None)
    monkeypatch.setattr(model_mod, "GLARE_CLOUD_TEST", False)
    assert _read(m, _frame(GREY), None) == kept


def test_a_clear_skys_clipped_aureole_stays_glare(monkeypatch, sun_at_disc):
    m = OctaModel()
    kept = _read(m, _frame(BLUE))
    monkeypatch.setattr(model_mod, "GLARE_CLOUD_TEST", False)
    assert _read(m, _frame(BLUE)) == kept


def test_glare_cloud_parts_regions_by_their_border_and_the_frame():
    h, w = 40, 40
    px = np.empty((3, h, w), dtype=np.float32)
    px[:] = np.array([0.55, 0.72, 0.94], dtype=np.float32)[:, None, None]  # blue sky
    threshold = np.full((h, w), 0.14, dtype=np.float32)
    blob = np.zeros((h, w), dtype=bool)
    px[:, 20:, :] = np.array([0.78, 0.78, 0.8], dtype=np.float32)[:, None, None]  # grey cloud, the lower half
    blob[25:30, 10:20] = True  # white ringed by grey: counted as cloud
    blob[5:10, 10:20] = True  # white ringed by blue: glare
    px[:, blob] = 1.0
    counted = ~blob
    out = lens.glare_cloud(px, blob, threshold, counted)
    assert out[25:30, 10:20].all()
    assert not out[5:10, 10:20].any()
    px[:, 20:, :] = np.array([0.55, 0.72, 0.94], dtype=np.float32)[:, None, None]
    px[:, 23:32, 8:22] = np.array([0.78, 0.78, 0.8], dtype=np.float32)[:, None, None]  # grey only round the blob
    px[:, blob] = 1.0
    assert not lens.glare_cloud(px, blob, threshold, counted).any()  # under GREY_FRAME of the frame grey
