"""Daylight a frame shows by itself, judged without its time (daylight.py), on JPEG fisheye frames made here: a
sunlit sky (a clipped disc, its white aureole, Rayleigh blue away from it) and a moonlit night (the same disc
over a grey sky, a high-gain sensor's noise, stars)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam import daylight, haze, overlay, regime
from cielo.sources.skycam.model import OctaModel
from tests.conftest import cielo

W = H = 512
R = 230
SUN = (W // 2 + int(0.4 * R), H // 2)  # rho 0.4: the sun 54° up
LENGHU = (38.6, 93.9)
NOON = datetime(2019, 6, 21, 5, 0, tzinfo=UTC)  # the sun 72° up there


def _jpeg(px: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.clip(px, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def _sky(far: tuple[float, float, float], near: tuple[float, float, float], noise: float, stars: int = 0,
         seed: int = 3, disc: float = 255.0, cast: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> bytes:
    """A fisheye JPEG: the sky `far` (R, G, B) away from a clipped disc at SUN, `near` in its aureole (falling off
    to nothing at 0.6 lens radii), black around the lens circle; `noise`: the sensor's, levels; `stars`: single bright
    pixels scattered over the sky; `disc`: the disc's level (under 240: a soft plateau the camera did not clip);
    `cast`: the camera's gains on R, G, B, applied last (a colour cast, clipping as a JPEG does)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    rho = np.hypot(xx - W / 2, yy - H / 2) / R
    d = np.hypot(xx - SUN[0], yy - SUN[1]) / R
    k = np.clip(1 - d / 0.6, 0, 1)[..., None]
    px = (1 - k) * np.array(far, np.float32) + k * np.array(near, np.float32)
    px[d < 0.06] = disc
    rng = np.random.default_rng(seed)
    px += rng.normal(0, noise, px.shape) if noise else 0
    if stars:
        ys, xs = rng.integers(0, H, stars), rng.integers(0, W, stars)
        ok = rho[ys, xs] < 0.95
        px[ys[ok], xs[ok]] = 250
    px[rho > 1.0] = 0
    return _jpeg(px * np.array(cast, np.float32))


def _sunlit_deck() -> bytes:
    """A bluish-grey deck by day (NRBR ~0.155: over the model's clear bar 0.14, under a clear sky's 0.18), the sun
    shining through it with a white aureole."""
    return _sky((80, 95, 108), (250, 250, 252), noise=1.0)


def _clear_day(noise: float = 1.0) -> bytes:
    return _sky((30, 50, 100), (245, 248, 252), noise=noise)


def _moonlit(far: tuple[float, float, float] = (95, 100, 110)) -> bytes:
    """A moonlit clear night as a long exposure shows it: the moon a clipped disc with its aureole, a grey sky,
    the sensor's noise at high gain, stars."""
    return _sky(far, (235, 235, 238), noise=9.0, stars=1500)


@pytest.fixture(scope="module")
def model() -> OctaModel:
    return OctaModel()


def _seen(model: OctaModel, data: bytes) -> float | None:
    f = model.decode(data)
    return daylight.seen(f.pixels, model.geometry(f), f.bright)


def test_a_sunlit_frame_is_seen_as_day_with_the_sun_where_it_stands(model: OctaModel):
    up = _seen(model, _clear_day())
    assert up is not None and abs(up - 54.0) < 6.0  # 90 x (1 - 0.4)
    assert _seen(model, _sunlit_deck()) is not None


def test_a_moonlit_night_is_not_day(model: OctaModel):
    assert _seen(model, _moonlit()) is None
    # the same night through a cool white balance (blue x1.2, red x0.8): blue enough, its far sky bluer than the
    # moon's aureole; the sensor still loud
    assert _seen(model, _moonlit((76, 100, 132))) is None


def test_each_bar_can_refuse_a_sunlit_frame(model: OctaModel):
    # no disc: an overcast day stays blind
    assert _seen(model, _jpeg(_plain((150, 150, 155)))) is None
    # the disc at the rim: a twilight glow or a low moon
    f = model.decode(_clear_day())
    geom = model.geometry(f)
    shifted = np.roll(f.pixels, int(0.5 * R * f.pixels.shape[2] / W), axis=2)  # sun at rho 0.9
    assert daylight.seen(shifted * (geom.rho() <= 1.0), geom, None) is None
    # a loud sensor
    assert _seen(model, _clear_day(noise=9.0)) is None
    # a quiet camera with a cool white balance over a grey moonlit sky: blue by the camera's cast, its moon's
    # aureole as blue as the far sky (the cast, not Rayleigh light)
    cast = _sky((90, 100, 118), (225, 235, 255), noise=1.0)
    assert _seen(model, cast) is None


def _veiled(disc: float = 230.0, cast: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> bytes:
    """The sun behind haze: a soft white plateau under full scale, its aureole white, the far sky a pale blue
    (ln(B / R) over the aureole's by ~0.18: under bar 4's 0.2)."""
    return _sky((90, 100, 115), (235, 235, 235), noise=1.0, disc=disc, cast=cast)


def test_a_veiled_sun_stands_in_for_the_blue_far_sky(model: OctaModel, monkeypatch: pytest.MonkeyPatch):
    up = _seen(model, _veiled())
    assert up is not None and abs(up - 54.0) < 6.0
    # the same frame, the disc clipped (a moon in a long exposure): bar 4 holds, and refuses it
    assert _seen(model, _veiled(disc=255.0)) is None
    # a camera's cool cast (blue x1.15, red x0.87): the unclipped disc is tinted as the sky is
    assert _seen(model, _veiled(cast=(0.87, 1.0, 1.15))) is None
    # without the veiled sun, bar 4 refuses the frame
    monkeypatch.setattr(daylight, "veiled_sun", lambda *a, **k: False)
    assert _seen(model, _veiled()) is None


def _plain(rgb: tuple[int, int, int]) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    px = np.zeros((H, W, 3), np.float32)
    px[:] = rgb
    px[np.hypot(xx - W / 2, yy - H / 2) > R] = 0
    return px


def test_a_sunlit_deck_judged_blind_gets_the_day_rules(model: OctaModel, monkeypatch: pytest.MonkeyPatch):
    """The deck test (lens.maps daylit: no clear sky anywhere, so the model's bar is raised to a clear sky's) now
    acts on a frame without its time, and haze after it, as they do with its time known by day."""
    frame = model.decode(_sunlit_deck())
    seen = model.judge([frame], [None], *LENGHU)[0]
    timed = model.judge([frame], [NOON], *LENGHU)[0]
    assert seen.seen_light == regime.DAY and seen.light is None and seen.sun_elevation is None
    assert seen.attrs()["seen_light"] == regime.DAY and "light" not in seen.attrs()
    assert timed.light == regime.DAY and timed.seen_light is None
    assert (seen.octas, seen.flag) == (timed.octas, timed.flag)
    with monkeypatch.context() as m:
        m.setattr(daylight, "seen", lambda *a, **k: None)  # as before: blind, no day rules
        before = model.judge([frame], [None], *LENGHU)[0]
        m.setattr(haze, "hazy", lambda *a, **k: False)
        before_deck = model.judge([frame], [None], *LENGHU)[0]
    assert before.seen_light is None and "seen_light" not in before.attrs()
    assert before.octas != seen.octas
    monkeypatch.setattr(haze, "hazy", lambda *a, **k: False)  # the deck rule alone
    deck = model.judge([frame], [None], *LENGHU)[0]
    assert deck.octas is not None and before_deck.octas is not None
    assert deck.octas >= 6 > before_deck.octas


def test_a_frame_with_its_time_keeps_the_times_light(model: OctaModel):
    frame = model.decode(_sunlit_deck())
    night = datetime(2019, 6, 20, 18, 0, tzinfo=UTC)  # 02:00 at Lenghu: the sun far down
    v = model.judge([frame], [night], *LENGHU)[0]
    assert v.seen_light is None and v.light != regime.DAY


def test_the_overlay_draws_the_maps_the_verdict_was_counted_on(model: OctaModel, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch):
    frame = model.decode(_sunlit_deck())

    def drawn_octas(counted: dict) -> float:
        maps = counted[0][1]
        valid = maps.valid > 0
        return 8 * float(overlay.cloud_pixels(frame, maps)[valid].mean())

    # the deck rule alone: read overcast by the day rules the frame's daylight brought; drawn blind (as the overlay
    # did) its blue side would be clear
    monkeypatch.setattr(haze, "hazy", lambda *a, **k: False)
    counted: dict = {}
    v = model.judge([frame], [None], *LENGHU, counted)[0]
    geom, _, light = counted[0]
    assert light is not None and light.regime == regime.DAY and v.octas is not None and v.octas >= 6
    assert abs(drawn_octas(counted) - v.octas) <= 1
    blind = model.maps(frame, geom, None)
    assert 8 * float(overlay.cloud_pixels(frame, blind)[blind.valid > 0].mean()) < v.octas - 1
    assert "seen in the frame" in overlay.caption(v.octas, v.flag, light, seen=True)
    # haze on: the frame read again by its own sky; the maps handed on are those of that reading
    monkeypatch.undo()
    counted = {}
    v = model.judge([frame], [None], *LENGHU, counted)[0]
    assert v.octas is not None and abs(drawn_octas(counted) - v.octas) <= 1


def test_classify_overlay_writes_a_seen_day_frame(tmp_path: Path):
    deck = tmp_path / "deck.jpg"
    deck.write_bytes(_sunlit_deck())
    out = tmp_path / "drawn"
    result = cielo("classify", "--json", "--overlay", str(out), str(deck))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["seen_light"] == regime.DAY
    with Image.open(out / "deck.png") as im:
        assert im.format == "PNG"
