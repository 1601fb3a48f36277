"""Synthetic fisheye frames for the feed's clipped-white rules, and their sun put on the drawn disc."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam import lens

BLUE = (140.0, 185.0, 240.0)


def fisheye_jpeg(paint: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None], size=(640, 480),
                 centre=(320, 240), radius=220.0) -> bytes:
    """A JPEG (quality 95) of a blue sky over the lens circle, black outside it: `paint(img, u, v, rho)` draws on
    the float RGB image [H, W, 3] first, `u`, `v` each pixel's offset from the centre and `rho` its distance, in
    lens radii."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = (xx - centre[0]) / radius, (yy - centre[1]) / radius
    rho = np.hypot(u, v)
    img = np.tile(np.array(BLUE), (h, w, 1))
    paint(img, u, v, rho)
    img[rho > 1] = 0.0
    buf = io.BytesIO()
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=95)
    return buf.getvalue()


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
