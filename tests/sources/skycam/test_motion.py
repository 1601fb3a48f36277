"""The cloud motion's correlation: the half-size FFTs and the full-size climb give the full-size peak, at odd
shifts too, and the direction turns into a compass bearing with the camera's orientation."""

from __future__ import annotations

import numpy as np

from tests.sources.skycam.test_sun import CLOUDS, _model_views, frame


def _fields(seed: int, h: int = 60, w: int = 90) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    out = []
    for cy in (0.0, 2.0):  # two skies a little apart, as a sun's glare disc moves between frames
        sky = (((yy - h / 2 - cy) / (h / 2)) ** 2 + ((xx - w / 2) / (w / 2)) ** 2 < 0.9).astype(np.float32)
        out.append(((rng.random((h, w)) * sky).astype(np.float32), sky))
    return tuple(out)


def test_the_direct_sums_are_the_ffts_own_correlation():
    from cielo.sources.skycam import motion

    a, b = _fields(1)
    limit = 12
    full = motion.masked_ncc(a, b, limit, (motion._fast(60 + limit), motion._fast(90 + limit)))
    direct = motion._Direct(a, b, limit)
    for dy, dx in ((0, 0), (5, -7), (-11, 11), (12, -12), (13, 0)):
        got = direct.around(dy, dx)
        for i in range(3):
            for j in range(3):
                y, x = dy + i - 1, dx + j - 1
                want = full[y + limit, x + limit] if max(abs(y), abs(x)) <= limit else -np.inf
                assert (got[i, j] == want) if not np.isfinite(want) else abs(got[i, j] - want) < 1e-4, (y, x)


def test_odd_and_large_shifts_are_found_at_full_size():
    from cielo.sources.skycam import motion

    for shift, want in (((20, 12), (5, 3)), ((-36, 28), (-9, 7))):  # 640-px frames: a quarter at the model's
        a, b = _model_views(frame(CLOUDS), frame(CLOUDS, shift=shift))
        m = motion.between(a, b, 1.0)
        assert m is not None and m.confidence > 0.5, (shift, m)
        assert abs(m.dx - want[0]) < 0.6 and abs(m.dy - want[1]) < 0.6, (shift, m)


def test_the_direction_is_a_compass_bearing_once_north_is_known():
    from cielo.sources.skycam import motion

    a, b = _model_views(frame(CLOUDS), frame(CLOUDS, shift=(16, 0)))  # to the frame's right
    plain = motion.between(a, b, 1.0)
    assert plain is not None and plain.reference == "frame" and abs(plain.direction - 90) < 5
    # north at the frame's up, east to its left (a camera looking up): moving right is moving west
    m = motion.between(a, b, 1.0, north=0.0, sign=-1)
    assert m is not None and m.reference == "north" and abs(m.direction - 270) < 5
    assert m.attrs()["direction_from"] == "north"
    # north at the frame's right: moving right is moving north
    m = motion.between(a, b, 1.0, north=90.0, sign=-1)
    assert m is not None and min(m.direction, 360 - m.direction) < 5
