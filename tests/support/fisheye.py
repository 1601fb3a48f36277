"""The sun put where a synthetic frame draws its disc."""

from __future__ import annotations

import numpy as np
import pytest

from cielo.sources.skycam import lens


def sun_at(monkeypatch: pytest.MonkeyPatch, offset: tuple[float, float]) -> None:
    """lens.find_sun answers the disc `offset` lens radii from the lens centre (from the valid area's bounding box):
    blind it may take another clipped spot for the sun, and a synthetic frame has no real sky to place it by time, so
    what the test reads is the rule under test alone."""
    def at_disc(darkest, valid, clipped=lens.CLIPPED_SUN, bloom=False):
        ys, xs = np.nonzero(valid)
        cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
        r = (xs.max() - xs.min()) / 2
        return float(cx + offset[0] * r), float(cy + offset[1] * r)
    monkeypatch.setattr(lens, "find_sun", at_disc)
