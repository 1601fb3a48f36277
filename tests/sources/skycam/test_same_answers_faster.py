"""The faster paths of sessions 20 and 22 give the plain ones' answers, numpy's and Pillow's own (docs/design.md,
"Faster judging, same verdicts"): each is held against the call it replaced, on values built to meet its edge cases."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam import calibration, lens, sunstate
from cielo.sources.skycam.frame import Frame
from cielo.sources.skycam.model import MONOCHROME_CHROMA, _halved, monochrome


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



def _samples(rng: np.random.Generator, dtype: type) -> list[np.ndarray]:
    out = []
    for n in (1, 2, 3, 5, 22, 71, 72, 400, 2001):
        out.append(rng.normal(40, 10, n).astype(dtype))
        out.append(np.round(rng.normal(40, 3, n)).astype(dtype))  # ties across the order statistics
        out.append((np.float32(10) + np.arange(n, dtype=np.float32) * np.float32(1e-6)).astype(dtype))  # 1-ulp steps
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_quantile_is_numpys(dtype):
    rng = np.random.default_rng(22)
    for values in _samples(rng, dtype):
        for q in (0.0, 0.1, 0.37, lens.FAR_ENDS, 0.5, 0.9, 1.0):
            want = np.quantile(values, q)
            got = lens.quantile(values, q)
            assert got == float(want), (values.size, q)
            assert np.array_equal(values >= want, values >= got)  # as the lens fit's far ends compare it
    nan = np.array([1.0, np.nan, 2.0, 3.0], dtype=dtype)
    assert math.isnan(lens.quantile(nan, 0.9)) and math.isnan(float(np.quantile(nan, 0.9)))


def test_median_at_least_is_numpys_median_against_the_bar():
    rng = np.random.default_rng(23)
    bar = -0.03
    for n in (1, 2, 3, 4, 9, 10, 101, 1000, 10001):
        for spread in (0.02, 1e-8):
            values = rng.normal(bar, spread, n).astype(np.float32)
            cases = [values, np.round(values, 2).astype(np.float32), np.sort(values)]
            half = values.copy()
            half[: n // 2] = np.float32(bar)  # the bar itself among the middle values
            under = values.copy()
            under[: n // 2] = np.nextafter(np.float32(bar), np.float32(-1))  # one float32 step under its float32
            cases += [half, under]
            for v in cases:
                assert lens.median_at_least(v, bar) == (float(np.median(v)) >= bar), n
    even = np.array([-0.5, np.float32(bar) * 2 + np.float32(0.01), 0.5, np.float32(-0.0001)], dtype=np.float32)
    assert lens.median_at_least(even, bar) == (float(np.median(even)) >= bar)  # one middle value each side
    nan = np.array([0.1, np.nan, 0.2], dtype=np.float32)
    assert lens.median_at_least(nan, bar) is False


@pytest.mark.parametrize("shape", [(120, 160), (1, 7), (7, 1), (3, 3)])
def test_nonzero2d_is_numpys(shape):
    rng = np.random.default_rng(24)
    for share in (0.0, 0.01, 0.5, 1.0):
        mask = rng.random(shape) < share
        for a, b in zip(lens.nonzero2d(mask), np.nonzero(mask), strict=True):
            assert np.array_equal(a, b) and a.dtype == b.dtype
        view = mask.T  # not contiguous
        for a, b in zip(lens.nonzero2d(view), np.nonzero(view), strict=True):
            assert np.array_equal(a, b)


def test_halved_star_density_is_pillows_box():
    rng = np.random.default_rng(25)
    for shape in ((240, 320), (2, 2), (6, 10)):
        for density in (rng.integers(0, 226, shape).astype(np.float32) / np.float32(225),
                        rng.random(shape, dtype=np.float32), np.asfortranarray(rng.random(shape, dtype=np.float32))):
            want = np.asarray(Image.fromarray(np.ascontiguousarray(density), mode="F").resize(
                (shape[1] // 2, shape[0] // 2), Image.Resampling.BOX))
            assert np.array_equal(_halved(density), want)


def _plain_ray_ends(stop: np.ndarray, cx: float, cy: float, rays: int = lens.RAYS):
    """ray_ends as it was, over every step to the frame's diagonal."""
    h, w = stop.shape
    dx, dy = lens._ray_steps(h, w, rays)
    xs, ys = cx + dx, cy + dy
    inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
    flat = np.clip(np.rint(ys), 0, h - 1).astype(np.intp) * w + np.clip(np.rint(xs), 0, w - 1).astype(np.intp)
    hit = np.ravel(stop).take(flat) & inside
    run = np.concatenate([hit[:, :-1] & hit[:, 1:], np.zeros((rays, 1), dtype=bool)], axis=1)
    sky = ~hit & inside
    sky3 = sky[:, :-2] & sky[:, 1:-1] & sky[:, 2:]
    start = np.where(sky3.any(axis=1), sky3.argmax(axis=1), 0)
    run &= np.arange(run.shape[1])[None] >= start[:, None]
    first = np.where(run.any(axis=1), run.argmax(axis=1), -1)
    left = first < 0
    k = np.where(left, inside.sum(axis=1) - 1, first)
    return np.stack([xs[np.arange(rays), k], ys[np.arange(rays), k]], axis=1), left


def test_rays_cut_at_the_frame_end_where_a_plain_cast_does():
    rng = np.random.default_rng(26)
    for t in range(300):
        h, w = ((120, 160), (160, 120), (37, 51))[t % 3]
        stop = rng.random((h, w)) < rng.random() * 0.3
        cx, cy = ((w - 1) / 2, (h - 1) / 2) if t % 4 == 0 else (0.0, rng.uniform(0, h - 1)) if t % 4 == 1 \
            else (rng.uniform(-5, w + 5), rng.uniform(-5, h + 5))  # centre, border, anywhere (outside too)
        pts, left = lens.ray_ends(stop, cx, cy)
        want_pts, want_left = _plain_ray_ends(stop, cx, cy)
        assert np.array_equal(pts, want_pts) and np.array_equal(left, want_left)


def test_aureole_medians_are_numpys():
    rng = np.random.default_rng(27)
    for n in (1, 2, 3, 1000, 4001):
        light = (rng.integers(0, 256, n) + rng.integers(0, 256, n) + rng.integers(0, 256, n)).astype(np.uint16)
        assert sunstate._median_u8(light, 3 * 255 + 1) == float(np.median(light))
        flat = np.full(n, 765, dtype=np.uint16)
        assert sunstate._median_u8(flat, 3 * 255 + 1) == float(np.median(flat))


def test_star_share_follows_the_stars():
    px = np.zeros((3, 4, 4), dtype=np.uint8)
    stars = np.zeros((4, 4), dtype=np.float16)
    stars[0, 0] = 0.5
    frame = Frame(px, 0.1, stars=stars)
    assert frame.star_share == float(stars.mean(dtype=np.float32)) and frame.starry
    assert dataclasses.replace(frame, stars=None).star_share == 0.0  # found anew, not copied
    assert not dataclasses.replace(frame, stars=np.zeros_like(stars)).starry


def test_rho_and_sun_distance_are_built_once_and_as_before():
    geom = lens.Lens(79.3, 60.1, 55.2, 54.8, 160, 120, True)
    yy, xx = np.mgrid[0:120, 0:160].astype(np.float32)
    rho = geom.rho()
    assert rho is lens.Lens(79.3, 60.1, 55.2, 54.8, 160, 120, True).rho() and not rho.flags.writeable
    assert np.array_equal(rho, np.sqrt(((xx - 79.3) / 55.2) ** 2 + ((yy - 60.1) / 54.8) ** 2))
    for sun in ((30.5, 20.25), (np.float64(30.5), np.float64(20.25))):  # a numpy sun computes in float64
        want = np.sqrt(((xx - sun[0]) / 55.2) ** 2 + ((yy - sun[1]) / 54.8) ** 2)
        got = lens.sun_distance(geom, sun)
        assert got.dtype == want.dtype and np.array_equal(got, want) and not got.flags.writeable


def test_star_gain_blocks_are_plain_block_means():
    rng = np.random.default_rng(28)
    bright = rng.integers(0, 120, (240, 320)).astype(np.uint8)
    bright[:, :40] = 0  # a surround without lit pixels
    k, half = lens.SKY_BLOCK, lens.SKY_BLOCK // 2
    every = bright[::2, ::2]
    lit = every > lens.NOISE_LIT
    hb, wb = -(-240 // k), -(-320 // k)
    total = (every * lit).reshape(hb, half, wb, half).sum(axis=(1, 3), dtype=np.uint32)
    count = lit.reshape(hb, half, wb, half).sum(axis=(1, 3), dtype=np.uint32)
    sky = np.where(count > 0, total.astype(np.float32) / np.maximum(count, 1), np.float32(lens.STAR_SKY_REF))
    want = np.clip(sky / np.float32(lens.STAR_SKY_REF), lens.STAR_GAIN_FLOOR, 1.0).astype(np.float32)
    assert np.array_equal(lens.star_gain(bright, lens.STAR_SKY_REF), want)
