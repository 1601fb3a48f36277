"""The faster paths of session 20 give the plain ones' answers (docs/design.md, "Faster judging, same verdicts")."""

from __future__ import annotations

import numpy as np
import pytest

from cielo.sources.skycam import calibration, lens
from cielo.sources.skycam.frame import Frame
from cielo.sources.skycam.model import MONOCHROME_CHROMA, monochrome


@pytest.mark.parametrize("shape", [(320, 240), (37, 51), (1, 1), (15, 3)])
@pytest.mark.parametrize("share", [0.0, 0.02, 0.5, 1.0])
def test_star_windows_count_as_a_plain_window_sum(shape, share):
    stars = np.random.default_rng(7).random(shape) < share
    k = lens.STAR_WINDOW
    padded = np.pad(stars, k // 2, mode="edge")
    plain = np.lib.stride_tricks.sliding_window_view(padded, (k, k)).sum(axis=(2, 3))
    assert np.array_equal(lens.window_share(padded, k), plain.astype(np.float32) / np.float32(k * k))


@pytest.mark.parametrize("share", [0.0, 0.0005, 0.001, 0.0012, 0.002, 0.01, 0.3])
def test_monochrome_decides_as_its_percentile(share):
    rng = np.random.default_rng(int(share * 1e4))
    grey = rng.integers(0, 250, (120, 160), dtype=np.uint8)
    px = np.stack([grey, grey, grey])
    tinted = rng.random(grey.shape) < share
    px[2][tinted] += np.uint8(MONOCHROME_CHROMA + 3)
    px = px.copy()
    sub = px[:, ::2, ::2].astype(np.int16)
    chroma = sub.max(axis=0) - sub.min(axis=0)
    expected = float(np.percentile(chroma, 99.9)) <= MONOCHROME_CHROMA
    assert monochrome(Frame(px, 0.5)) == expected
    assert expected == (share <= 0.001)  # both sides of the bar, and the count's undecided middle, are met


def test_a_second_threshold_on_the_counted_pixels_is_the_threshold_read_afresh():
    """lens.maps with a Counted (model.py's own split) gives what it gives without one."""
    rng = np.random.default_rng(3)
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    disc = ((xx - 80) / 55.0) ** 2 + ((yy - 60) / 55.0) ** 2 <= 1
    px = np.zeros((3, h, w), dtype=np.uint8)
    px[0][disc], px[1][disc], px[2][disc] = 90, 140, 210  # a blue sky ...
    cloud = disc & (rng.random((h, w)) < 0.3)
    px[:, cloud] = 200  # ... with grey cloud
    px[:, 55:59, 95:99] = 255  # and a sun
    geom = lens.find_lens(px)
    assert geom.found
    for ref in (lens.Reference(), lens.Reference(zenith=0.2)):
        for daylit in (False, True):
            seen = lens.counted(px, geom, daylit=daylit)
            fresh, kept = lens.maps(px, geom, ref, daylit=daylit), lens.maps(px, geom, ref, daylit=daylit, seen=seen)
            assert np.array_equal(fresh.valid, kept.valid) and np.array_equal(fresh.threshold, kept.threshold)
            assert fresh.sun == kept.sun is not None


def test_site_split_is_otsu_and_the_valley_of_its_values():
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.normal(0.05, 0.03, 3000), rng.normal(0.3, 0.05, 6000)]).astype(np.float32)
    split, contrast = calibration.site_split(values)
    t, _ = calibration.otsu_threshold(values)
    assert split == calibration.valley(values, t, hi_limit=t)
    assert contrast == float(values[values >= t].mean() - values[values < t].mean())


@pytest.mark.parametrize("share", [0.4, 0.6, 0.8, 1.0])
def test_the_glare_blob_is_the_one_grown_a_pixel_at_a_time(share):
    rng = np.random.default_rng(int(share * 10))
    for shape in ((1, 9), (9, 1), (60, 80)):
        white = rng.random(shape) < share
        seed = white & (rng.random(shape) < 0.02)
        grown = seed
        while not np.array_equal(step := lens._grown(grown) & white, grown):
            grown = step
        assert np.array_equal(lens._joined(white, seed), grown)
    comb = np.zeros((40, 60), dtype=bool)  # a comb: the path from the seed turns at every tooth
    comb[::4] = True
    comb[:, ::7] = True
    seed = np.zeros_like(comb)
    seed[0, 0] = True
    assert lens._joined(comb, seed).sum() == comb.sum()
