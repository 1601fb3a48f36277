"""A white-clipped cloud that the maps count (lens.white_cloud) is read by the graph as cloud, as its unclipped twin."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from cielo.sources.skycam import model as model_mod
from cielo.sources.skycam.model import OctaModel


def _frame(cloud_level: float | None, size=(640, 480), centre=(320, 240), radius=220.0) -> bytes:
    """A fisheye frame: black surround, a blue sky (NRBR ~0.26), a clipped sun at the upper right, and cloud in
    three patches at `cloud_level` in every channel (255: clipped, a brighter camera's lit
    cloud; 225: the same cloud unclipped; None: a clear sky)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = (xx - centre[0]) / radius, (yy - centre[1]) / radius
    img = np.tile(np.array([140.0, 185.0, 240.0]), (h, w, 1))
    img[np.hypot(u - 0.4, v + 0.45) < 0.3] = 255.0  # the disc and its bloom
    for cx, cy in ((-0.5, 0.1), (-0.05, 0.5), (0.4, 0.35)) if cloud_level is not None else ():
        img[np.hypot(u - cx, v - cy) < 0.22] = cloud_level
    img[np.hypot(u, v) > 1] = 0.0
    buf = io.BytesIO()
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def test_a_clipped_cloud_reads_as_its_unclipped_twin(monkeypatch):
    """The graph leaves out every pixel at white (min(R, G, B) >= 0.97) whatever the site mask says: a clipped cloud
    the maps count was dropped again and the frame read clear. Fed just under that white, it reads cloud."""
    m = OctaModel()
    frame = m.decode(_frame(255.0))
    out: list = []
    m.predict([frame], None, maps_out=out)
    geom, maps = out[0]
    assert maps.sun is not None  # the sun found in its disc, not in a patch: the patches are not its glare
    assert np.hypot((maps.sun[0] - geom.cx) / geom.rx - 0.4, (maps.sun[1] - geom.cy) / geom.ry + 0.45) < 0.3
    (grey,) = m.judge([m.decode(_frame(225.0))], [None], 0.0, 0.0)
    (clipped,) = m.judge([frame], [None], 0.0, 0.0)
    assert grey.octas >= 2
    assert abs(clipped.octas - grey.octas) <= 1, (clipped.octas, grey.octas)
    monkeypatch.setattr(model_mod, "FEED_WHITE_CLOUD", False)
    (dropped,) = m.judge([m.decode(_frame(255.0))], [None], 0.0, 0.0)
    assert dropped.octas < grey.octas - 1, (dropped.octas, grey.octas)


def test_the_suns_clipped_glare_is_not_fed_as_cloud():
    """The sun's clipped disc and bloom are not counted by the maps, so the feed leaves them out: a clear sky with
    the sun's white blob reads clear."""
    m = OctaModel()
    (clear,) = m.judge([m.decode(_frame(None))], [None], 0.0, 0.0)
    assert clear.octas <= 1, clear.octas
