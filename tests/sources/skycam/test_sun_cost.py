"""The sun's cheaper paths give what the plain numpy ones give: the exact shortcuts in sunstate and motion.eta."""

from __future__ import annotations

import math

import numpy as np

from cielo.sources.skycam import motion, sunstate
from cielo.sources.skycam.sunstate import SunView


def test_median_and_percentile_shortcuts_match_numpy() -> None:
    rng = np.random.default_rng(7)
    for _ in range(400):
        n = int(rng.integers(1, 2000))
        u = rng.integers(0, int(rng.integers(1, 256)) + 1, n).astype(np.uint8)
        assert sunstate._median_u8(u) == float(np.median(u))
        # rounded values put the bars on order statistics, where the count alone cannot decide
        v = np.round(rng.random(n).astype(np.float32) * 0.3, int(rng.integers(1, 4))).astype(np.float32)
        for q, bar in ((80, sunstate.PALE), (20, sunstate.GREY), (50, float(v[0]))):
            assert sunstate._percentile_below(v, q, bar) == (float(np.percentile(v, q)) < bar)


def _view(cloud: np.ndarray, sky: np.ndarray, state: str, x: float, y: float) -> SunView:
    mask = (cloud * 255).astype(np.uint8).tobytes()
    return SunView(state, None, None, x, y, True, 1.0, None, mask, np.packbits(sky).tobytes(), cloud.shape)


def test_eta_shortcut_changes_no_answer() -> None:
    """eta with its upwind box test against the full search it skips (random fields, speeds, both states)."""
    rng = np.random.default_rng(3)
    h, w = 60, 80
    for i in range(300):
        cloud = np.zeros((h, w), bool)
        for _ in range(int(rng.integers(0, 4))):
            y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
            cloud[y0 : y0 + int(rng.integers(2, 20)), x0 : x0 + int(rng.integers(2, 20))] = True
        covered = bool(i % 2)
        if covered:
            cloud = ~cloud
        sky = rng.random((h, w)) > 0.05
        view = _view(cloud, sky, "covered" if covered else "visible", float(rng.uniform(10, 70)),
                     float(rng.uniform(10, 50)))
        speed, angle = float(rng.uniform(0.05, 8)), float(rng.uniform(0, 2 * math.pi))
        m = motion.Motion(speed * math.cos(angle), speed * math.sin(angle), 1.0, speed, 0.0, 0.9)
        got = motion.eta(view, m)
        # the search itself, every chunk, no shortcut
        vx, vy = m.dx, m.dy
        step = min(0.5, 1.0 / math.hypot(vx, vy))
        times, t = [], step
        while t <= motion.ETA_HORIZON_MIN:
            times.append(t)
            t += step
        cloud_b, sky_b = view.masks()
        ended, want = motion._first_change(np.array(times), view.x, view.y, vx, vy, max(1.0, motion.DISC_DEG),
                                           cloud_b, sky_b, covered)
        assert got == (want if ended else None)
