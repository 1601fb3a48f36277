"""A calibration whose sample cannot pin the lens (calibration.PER_FRAME_LENS): frames made here, never datasets.

A dusty dome's veiling glare and its paler colour lift ARM TSI's mirror rim under the green bar: the calibration's
plain lens fits (no faint-rim retry) missed it in about half the frames and the site was fixed as all-sky, every
frame then read over its housing and ground ring (research/camera_shift.py "dusty dome": TSI calibrated MAE 2.86,
blind 0.77). The frames' own fits, with the retry, still find the rim: the site keeps no lens of its own."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam import lens
from cielo.sources.skycam.calibration import fit
from cielo.sources.skycam.model import OctaModel
from tests.sources.skycam.test_lens_faint import CX, CY, FAINT_RIM, RX, RY, SKY, _mirror


@pytest.fixture(scope="module")
def model() -> OctaModel:
    return OctaModel()


def _frames(model: OctaModel, n: int = 12) -> list:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0 : _mirror(FAINT_RIM).shape[1], 0 : _mirror(FAINT_RIM).shape[2]]
    inside = np.hypot((xx - CX) / RX, (yy - CY) / RY) <= 0.9
    out = []
    for i in range(n):
        px = _mirror(FAINT_RIM)
        cloud = inside & (rng.random(inside.shape) < i / n)  # a changing sky: nothing inside the lens stays put
        px[:, cloud] = np.array((200, 200, 205), dtype=np.uint8)[:, None]
        px[:, inside & ~cloud] = (np.array(SKY)[:, None] + rng.integers(-6, 7, (3, 1))).astype(np.uint8)
        out.append(model.frame(Image.fromarray(np.ascontiguousarray(px.transpose(1, 2, 0)))))
    return out


def test_a_rim_only_the_frames_own_fits_find_leaves_each_frame_its_own_lens(model: OctaModel):
    frames = _frames(model)
    if frames[0].pixels.shape[1:] != _mirror(FAINT_RIM).shape[1:]:
        pytest.skip("the model's input size is not the frames' own")
    # what the fit sees: its plain fits miss the rim, the frames' own (the faint retry) find it
    assert not any(lens.find_lens(f.pixels, f.stop, tinted_retry=False).found for f in frames)
    assert all(f.lens is not None and f.lens.found for f in frames)
    cal = fit(frames, "test", 0.14, [True] * len(frames))
    assert cal.lens is None, cal.lens  # before: the all-sky ellipse, read over the housing and ground ring
    assert cal.reference is None and cal.cast == 0.0
    assert "own fits find a lens" in cal.found["lens"] and "not pinned" in cal.found["cast"]
    model.calibrate(cal)
    try:
        assert model.geometry(frames[3]) is frames[3].lens
    finally:
        model.calibrate(None)


def test_a_camera_without_any_rim_is_still_all_sky(model: OctaModel):
    # no surround in the frames' own fits either (a crop): the whole frame stays the site's sky, as before
    frames = [model.frame(Image.fromarray(np.full((120, 160, 3), (75 + i, 140, 175), dtype=np.uint8)))
              for i in range(8)]
    assert not any(f.lens.found for f in frames)
    cal = fit(frames, "test", 0.14)
    assert cal.lens is not None and not cal.lens["found"]
