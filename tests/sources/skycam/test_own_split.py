"""A frame judged without a calibration reads at its own split where its classes sit far enough apart to say the
camera is bluer than the reference (ownsplit.py): a bluer camera's thin cloud, between the model's threshold and
the frame's split, counts as cloud."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam import calibration, lens, ownsplit
from cielo.sources.skycam.model import OctaModel


def _sky(sky: float, thin: float, grey: float, thin_share: float, grey_share: float) -> bytes:
    """A PNG at the model's size (160 x 120): a lens disc in a black surround, a clear sky of NRBR `sky`, a band of
    thin cloud (NRBR `thin`) over `thin_share` of the width of the lens and grey cloud (`grey`) over `grey_share`
    beside it, no sun (the frame's own surface stays off)."""
    h, w = 120, 160
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    rho = np.hypot(xx - 79.5, yy - 59.5) / 55.0
    left = (xx - (79.5 - 55.0)) / 110.0  # 0..1 across the lens
    want = np.where(left < grey_share, grey, np.where(left < grey_share + thin_share, thin, sky))
    want = want + rng.normal(0, 0.004, (h, w))
    r = np.full((h, w), 90.0)
    b = (r * (1 + want) + want * 0.255) / (1 - want)  # NRBR as lens.nrbr reads it
    px = np.stack([r, (r + b) / 2, b], axis=-1).clip(0, 255)
    px[rho > 1.0] = 0
    buf = io.BytesIO()
    Image.fromarray(px.astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _read(model: OctaModel, png: bytes) -> tuple[float, float]:
    """The threshold at the lens centre, and the share of counted pixels read as cloud."""
    frame = model.decode(png)
    maps = model.maps(frame)
    valid = maps.valid > 0
    cloud = float((lens.nrbr(frame.pixels)[valid] < maps.threshold[valid]).mean())
    return float(maps.threshold[60, 80]), cloud


@pytest.fixture(scope="module")
def model() -> OctaModel:
    return OctaModel()


def test_a_bluer_frame_reads_its_thin_cloud_at_its_own_split(model, monkeypatch):
    """Sky 0.45, thin cloud 0.17 over 30 % of the lens' width, grey cloud 0.0 over 20 %: the classes sit ~0.31
    apart (CONTRAST_REF 0.19), the frame splits at ~0.19, under 0.14 x contrast / 0.19: the threshold follows it and
    the thin cloud counts (half the counted pixels cloud, 4 octas). With the rule off the model's 0.14 reads the thin
    cloud as sky (1 octa)."""
    png = _sky(0.45, 0.17, 0.0, 0.30, 0.20)
    threshold, cloud = _read(model, png)
    assert 0.17 < threshold < 0.22, threshold
    assert cloud > 0.4, cloud
    frame = model.decode(png)
    assert model.judge([frame], [None], 0.0, 0.0)[0].octas >= 3
    monkeypatch.setattr(ownsplit, "OWN_SPLIT", False)
    threshold, cloud = _read(model, png)
    assert threshold == pytest.approx(0.14) and cloud < 0.15, (threshold, cloud)
    assert model.judge([frame], [None], 0.0, 0.0)[0].octas <= 2


def test_a_reference_like_frame_or_a_calibrated_site_keeps_the_models_threshold(model, monkeypatch):
    """Classes no farther apart than a reference camera's (sky 0.25, cloud 0.08 / 0.04: contrast ~0.18, under
    0.19 x 1.15) keep the model's 0.14; so does a calibrated site (its own threshold decides,
    calibration.BLUER_SPLIT)."""
    threshold, _ = _read(model, _sky(0.25, 0.08, 0.04, 0.30, 0.20))
    assert threshold == pytest.approx(0.14), threshold
    frame = model.decode(_sky(0.45, 0.17, 0.0, 0.30, 0.20))
    seen = lens.counted(frame.pixels, model.geometry(frame))
    assert model._own_split(frame, model.geometry(frame), None, seen) is not None
    monkeypatch.setattr(model, "calibration", object())  # only whether there is one is read
    assert model._own_split(frame, model.geometry(frame), None, seen) is None


def test_a_clear_frames_pale_edge_is_no_cloud_class():
    """A bluer clear frame whose pale part (the sky by the sun and the horizon) holds under one octa of the counted
    pixels: its classes sit far apart, but the model's threshold stands (MIN_CLOUD); the same pale part over a fifth
    of the pixels is a cloud class and moves it."""
    rng = np.random.default_rng(0)
    valid = np.ones(8000, dtype=bool)

    def values(pale: float) -> np.ndarray:
        n = int(pale * valid.size)
        return np.concatenate([rng.uniform(0.0, 0.3, n), rng.normal(0.42, 0.03, valid.size - n)])

    pale = values(0.06)
    assert calibration.site_split(pale) is not None and ownsplit.frame_threshold(pale, valid, 0.14) is None
    moved = ownsplit.frame_threshold(values(0.20), valid, 0.14)
    assert moved is not None and moved > 0.14 * (1 + calibration.CLEAR_BAND), moved
