"""A calibration whose plain lens fits cannot pin the lens (calibration.OWN_LENS_AGREE, PER_FRAME_LENS): frames made
here, never datasets.

A dusty dome's veiling glare and its paler colour lift ARM TSI's mirror rim under the green bar: the calibration's
plain lens fits (no faint-rim retry) missed it in about half the frames and the site was fixed as all-sky, every
frame then read over its housing and ground ring (research/camera_shift.py "dusty dome": TSI calibrated MAE 2.86,
blind 0.77). The frames' own fits, with the retry, still find the rim: where they agree, their median is the site's
lens and the site is learned on it (MAE 0.85 -> 0.51); where they do not, each frame keeps its own."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam import lens
from cielo.sources.skycam.calibration import fit
from cielo.sources.skycam.model import OctaModel
from tests.sources.skycam.test_lens_faint import CX, CY, FAINT_RIM, RX, RY, SKY, _mirror
from tests.support.calibrated import calibrated


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


def test_a_rim_only_the_frames_own_fits_find_is_the_sites_lens_from_those_fits(model: OctaModel):
    frames = _frames(model)
    if frames[0].pixels.shape[1:] != _mirror(FAINT_RIM).shape[1:]:
        pytest.skip("the model's input size is not the frames' own")
    # what the fit sees: its plain fits miss the rim, the frames' own (the faint retry) find it
    assert not any(lens.find_lens(f.pixels, f.stop, tinted_retry=False).found for f in frames)
    assert all(f.lens is not None and f.lens.found for f in frames)
    cal = fit(frames, "test", 0.14, [True] * len(frames))
    # before: no site lens (each frame its own), hence no reference and no cast either
    assert cal.lens is not None and cal.lens["found"], cal.lens
    h, w = frames[0].pixels.shape[1:]
    med = np.median([[f.lens.cx / w, f.lens.cy / h, f.lens.rx / w, f.lens.ry / h] for f in frames], axis=0)
    assert [cal.lens[k] for k in ("cx", "cy", "rx", "ry")] == pytest.approx(med, abs=1e-3)
    assert "own fits find a lens" in cal.found["lens"] and "within 10% of their median" in cal.found["lens"]
    assert "not pinned" not in cal.found["cast"]
    with calibrated(model, cal):
        site = model.geometry(frames[3])
        assert site is not frames[3].lens and (site.cx / w, site.rx / w) == pytest.approx((med[0], med[2]), abs=1e-3)


def test_own_fits_that_do_not_agree_leave_each_frame_its_own_lens(model: OctaModel):
    frames = _frames(model)
    if frames[0].pixels.shape[1:] != _mirror(FAINT_RIM).shape[1:]:
        pytest.skip("the model's input size is not the frames' own")
    # the own fits scattered: every frame's centre a fifth of the semi-axis off the next one's
    moved = [dataclasses.replace(f, lens=dataclasses.replace(f.lens, cx=f.lens.cx + 0.2 * f.lens.rx * (i - 6)))
             for i, f in enumerate(frames)]
    assert not any(lens.find_lens(f.pixels, f.stop, tinted_retry=False).found for f in moved)
    cal = fit(moved, "test", 0.14, [True] * len(moved))
    assert cal.lens is None, cal.lens
    assert cal.reference is None and cal.cast == 0.0
    assert "only 2 within" in cal.found["lens"] and "not pinned" in cal.found["cast"]
    with calibrated(model, cal):
        assert model.geometry(moved[3]) is moved[3].lens


def test_a_camera_without_any_rim_is_still_all_sky(model: OctaModel):
    # no surround in the frames' own fits either (a crop): the whole frame stays the site's sky, as before
    frames = [model.frame(Image.fromarray(np.full((120, 160, 3), (75 + i, 140, 175), dtype=np.uint8)))
              for i in range(8)]
    assert not any(f.lens.found for f in frames)
    cal = fit(frames, "test", 0.14)
    assert cal.lens is not None and not cal.lens["found"]
