"""A camera's white balance read off a single frame, blind (calibration.frame_cast): a cloud cover bluer than any
of the reference cameras' is a cast, taken off before the frame is judged; a clear sky never is."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
from PIL import Image

from cielo.sources.skycam import calibration, ownsplit, regime
from cielo.sources.skycam import model as model_module
from cielo.sources.skycam.model import OctaModel
from tests.sources.skycam.test_model import _whole_frame

COOL = (0.9, 1.1)  # red and blue gains: a white balance some 1000 K too cool (research/camera_shift.py)


def _deck(seed: int = 0) -> bytes:
    """A fisheye frame under a grey deck (textured, a faint blue, NRBR 0.02-0.06, as on TSI's overcast frames),
    black surround, no sun in view."""
    rng = np.random.default_rng(seed)
    h, w = 480, 640
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    rho = np.hypot((xx - 320) / 225, (yy - 240) / 225)
    level = 200 + 25 * np.sin(xx / 23 + 3 * np.sin(yy / 31)) * np.cos(yy / 17) + rng.normal(0, 3, (h, w))
    tint = 0.02 + 0.04 * np.clip((225 - level) / 50, 0, 1)  # NRBR 0.02..0.06: the darker bases lit by the sky
    img = level[..., None] * np.stack([1 - tint, np.ones_like(tint), 1 + tint], axis=-1)
    img[rho > 1] = 0.0
    buf = io.BytesIO()
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def _through(jpeg: bytes, gains: tuple[float, float]) -> bytes:
    a = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.float32)
    a = a * np.array([gains[0], 1.0, gains[1]], dtype=np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def _cast(m: OctaModel, jpeg: bytes) -> float:
    f = m.decode(jpeg)
    return calibration.frame_cast(f.pixels, m.geometry(f), f.not_sky())


def test_a_deck_through_a_cool_white_balance_reads_overcast(monkeypatch):
    """The cool camera's deck reads bluer than the clear-sky reference (cloud as clear sky, TSI's worst shift);
    its greyest pixels tell the cast and the deck reads overcast again, as it does untransformed."""
    m = OctaModel()
    plain, cool = _deck(), _through(_deck(), COOL)
    assert _cast(m, plain) == 0.0
    assert 0.07 < _cast(m, cool) <= calibration.CAST_MAX
    (v,) = m.judge([m.decode(cool)], [None], 0.0, 0.0)
    (v0,) = m.judge([m.decode(plain)], [None], 0.0, 0.0)
    assert v0.octas >= 7 and v.octas >= 7, (v0.octas, v.octas)
    monkeypatch.setattr(model_module, "frame_cast", lambda *a: 0.0)  # what it read without
    (before,) = m.judge([m.decode(cool)], [None], 0.0, 0.0)
    assert before.octas <= 5, before.octas


def _broken(share: float, seed: int = 0) -> bytes:
    """A clear fisheye frame (test_model._whole_frame) with `share` of its lens under blobs of _deck's textured, faintly
    blue cloud: a broken sky, most of it clear, its median a clear sky's blue."""
    rng = np.random.default_rng(seed)
    img = np.asarray(Image.open(io.BytesIO(_whole_frame(seed=seed, mast=False))).convert("RGB"), dtype=np.float64)
    img = img * 0.85  # exposed for the cloud: the clear sky's blue stays under the clip through the cool balance
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = (xx - 330) / 228, (yy - 236) / 220
    inside = np.hypot(u, v) <= 1
    blobs = np.zeros((h, w), dtype=bool)
    while (blobs & inside).sum() < share * inside.sum():
        cx, cy = rng.uniform(-0.8, 0.8, 2)
        blobs |= np.hypot(u - cx, v - cy) < rng.uniform(0.1, 0.3)
    blobs &= inside
    level = 200 + 25 * np.sin(xx / 23 + 3 * np.sin(yy / 31)) * np.cos(yy / 17) + rng.normal(0, 3, (h, w))
    tint = 0.02 + 0.04 * np.clip((225 - level) / 50, 0, 1)
    img[blobs] = (level[..., None] * np.stack([1 - tint, np.ones_like(tint), 1 + tint], axis=-1))[blobs]
    buf = io.BytesIO()
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_broken_cloud_through_a_cool_white_balance_reads_as_untransformed(monkeypatch):
    """Under half the sky cloud: the median is the clear sky's blue, far from the greyest, but a quarter of the lit
    pixels (FRAME_COVER_Q) sit with the white cloud, so the cool camera's cast is read and the frame reads the
    octas it does untransformed; without it the cloud reads as sky."""
    m = OctaModel()
    for seed in (0, 1):
        plain, cool = _broken(0.3, seed), _through(_broken(0.3, seed), COOL)
        assert _cast(m, plain) == 0.0
        f = m.decode(cool)
        grey, _, cover = calibration.cast_levels(f.pixels, m.geometry(f), f.not_sky())
        assert cover - grey < calibration.FRAME_CAST_SPREAD
        with monkeypatch.context() as mp:
            mp.setattr(calibration, "FRAME_COVER_Q", 50)  # the median, as the rule first read it: no cover
            _, _, median = calibration.cast_levels(f.pixels, m.geometry(f), f.not_sky())
            assert median - grey > calibration.FRAME_CAST_SPREAD and _cast(m, cool) == 0.0
        assert 0.07 < _cast(m, cool) <= calibration.CAST_MAX
        (v0,) = m.judge([m.decode(plain)], [None], 0.0, 0.0)
        (v,) = m.judge([f], [None], 0.0, 0.0)
        assert abs(v.octas - v0.octas) <= 1 and v.octas >= 3, (v0.octas, v.octas)
        with monkeypatch.context() as mp:
            mp.setattr(model_module, "frame_cast", lambda *a: 0.0)  # what it read without
            # ... and without the frame's own split (ownsplit.py), which reads this blue-cast frame's cloud too
            mp.setattr(ownsplit, "OWN_SPLIT", False)
            (before,) = m.judge([f], [None], 0.0, 0.0)
        assert before.octas <= v.octas - 2, (before.octas, v.octas)


def test_clear_skies_and_a_calibrated_camera_keep_their_colours():
    """A clear sky's gradient (deep zenith, pale horizon and sun) is never a cover, however blue its camera; a
    calibrated camera's cast is the site's (site_cast), never the frame's."""
    m = OctaModel()
    for seed, sun in enumerate([(0.45, -0.3), (0.0, 0.0)]):
        for gains in ((1.0, 1.0), COOL):
            assert _cast(m, _through(_whole_frame(sun=sun, seed=seed), gains)) == 0.0
    frame = m.decode(_through(_deck(), COOL))
    m.calibration = calibration.Calibration(120, 160, np.ones((120, 160), dtype=bool), 0.14, 10, "", "test")
    assert m.as_read(frame, None) is frame


WARM = (1.1, 0.9)  # the reverse: some 1000 K too warm


def _warm_cast(m: OctaModel, jpeg: bytes, sun_up: bool) -> float:
    f = m.decode(jpeg)
    return calibration.frame_cast(f.pixels, m.geometry(f), f.not_sky(), sun_up)


def test_a_warm_camera_is_read_only_with_the_sun_up():
    """White cloud with the sun up is neutral: through a warm white balance its greyest pixels sit red and the cast
    is taken back to the reference's white, with the sun 17 degrees up too (a warm camera's clear evenings read as
    decks while the rule waited for 20); with the sun under FRAME_WARM_SUN (its light as red as the cast) or without
    the time nothing is read, and the camera's own frames read no cast either way."""
    m = OctaModel()
    for seed in (0, 1):
        plain = _whole_frame(cloud=0.1, seed=seed)
        warm = _through(plain, WARM)
        assert _warm_cast(m, plain, True) == 0.0
        assert _warm_cast(m, warm, False) == 0.0
        assert -calibration.CAST_MAX <= _warm_cast(m, warm, True) < -0.07
        noon = datetime(2020, 3, 20, 12, 0, tzinfo=UTC)  # the sun near the zenith at (0, 0)
        evening = datetime(2020, 3, 20, 17, 0, tzinfo=UTC)  # 16.8 degrees up
        dusk = datetime(2020, 3, 20, 17, 50, tzinfo=UTC)  # 4.3 degrees up: the low sun's own red
        assert regime.light(dusk, 0.0, 0.0).sun_altitude < calibration.FRAME_WARM_SUN
        f = m.decode(warm)
        assert m.as_read(f, regime.light(noon, 0.0, 0.0)) is not f
        assert m.as_read(f, regime.light(evening, 0.0, 0.0)) is not f
        assert m.as_read(f, regime.light(dusk, 0.0, 0.0)) is f
        assert m.as_read(f, None) is f


def test_a_small_red_object_is_no_warm_cast():
    """A red mast or roof in view holds the reddest few pixels, not the bulk of the greyest: no cast."""
    m = OctaModel()
    a = np.asarray(Image.open(io.BytesIO(_whole_frame(cloud=0.1))).convert("RGB"), dtype=np.float32).copy()
    a[240:290, 190:270] = (222.0, 205.0, 182.0)  # some 3 % of the lens: a tan roof, NRBR -0.10 (a cast's own)
    buf = io.BytesIO()
    Image.fromarray(a.astype(np.uint8)).save(buf, "JPEG", quality=95)
    f = m.decode(buf.getvalue())
    lens = m.geometry(f)
    values = calibration.lenses.nrbr(f.pixels[:, f.pixels.max(axis=0) >= 64])
    assert np.percentile(values, 2) < calibration.FRAME_WARM_RED  # the patch is there, among the greyest
    assert calibration.frame_cast(f.pixels, lens, f.not_sky(), True) == 0.0


def test_a_warm_frames_clipped_disc_goes_back_to_grey():
    """A disc clipped at 217 and tinted after the clip, (239, 217, 196): the frame's own red cast takes it back to
    grey at its green, flat and equal as lens.find_sun and sunstate know a disc; scaled, it is not. A site's
    cast (calibrated) scales it as before."""
    px = np.full((3, 8, 8), 120, dtype=np.uint8)
    px[:, 2:5, 2:5] = np.array([239, 217, 196], dtype=np.uint8)[:, None, None]
    out = calibration.uncast(px, -0.09, clipped_white=True)
    assert (out[:, 2:5, 2:5] == 217).all()
    full = px.copy()
    full[:, 6, 6] = (255, 230, 200)  # a red channel at full scale: white before the balance too
    assert (calibration.uncast(full, -0.09, clipped_white=True)[:, 6, 6] == 230).all()
    assert (out[:, 0, 0] != 120).any()  # the rest of the frame is taken back as before
    scaled = calibration.uncast(px, -0.09)
    assert (scaled[:, 3, 3] != 217).any()
