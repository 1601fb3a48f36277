"""The night side of a site calibration (the star bar and the moonlit gate learned from the camera's own
unlabelled night frames) and the twilight rule. Synthetic frames only."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam import calibration, lens, night, regime
from cielo.sources.skycam.calibration import Calibration
from cielo.sources.skycam.frame import Frame
from cielo.sources.skycam.model import OctaModel
from tests.support.calibrated import calibrated
from tests.support.camserver import sky_jpeg

MADRID = (40.4, -3.7)
# 2024-01-11 is a new moon: 01:00 UTC over Madrid is a dark night; 2024-06-01 20:15 UTC is dusk (sun about -5°)
DARK_AT = datetime(2024, 1, 11, 1, 0, tzinfo=UTC)
DUSK_AT = datetime(2024, 6, 1, 20, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def model() -> OctaModel:
    return OctaModel()


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _dark_sky(share: float, seed: int) -> bytes:
    """A dark night sky in a lens disc with `share` of its pixels single bright stars; black outside."""
    w, h = 640, 480
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    rho = np.hypot((xx - 320) / 225, (yy - 240) / 225)
    img = np.zeros((h, w, 3)) + np.array([18.0, 20.0, 26.0]) + rng.normal(0, 1.0, (h, w, 1))
    stars = (rng.random((h, w)) < share) & (rho <= 1)
    img[stars] = rng.uniform(120, 200, (int(stars.sum()), 1))
    img[rho > 1] = 0
    return _png(img)


def test_the_star_bar_is_the_sites_own_only_for_another_camera():
    """The reference camera's clear-night density, under any weather mix, keeps the reference's bar (a bar learned at
    0.15 of it made overcast reference nights read 4-5); a camera with a quarter or four times its stars gets its
    own, SITE_BAR of its density ring by ring."""
    ref = [night.REF_CLEAR_NIGHT * v for v in (1.3, 1.2, 1.0, 0.85, 0.65)]
    cloudy = [[0.002, 0.001, 0.001, 0.0, 0.0]] * 4
    bars, starry, note = night.site_bars([ref] * 8 + cloudy)
    assert bars is None and starry is None and "1.00 of the reference camera's" in note and "reference's star" in note
    # a run of mostly cloudy nights lowers the percentile: still the reference camera, within the span
    half = [[v * 0.6 for v in ref]] * 3 + [ref] * 2
    assert night.site_bars(half + [[0.0] * 5] * 4 + cloudy)[0] is None
    sparse_nights = [[v / 4 for v in ref]] * 8 + cloudy
    bars, sparse, note = night.site_bars(sparse_nights)
    assert bars is not None and sparse is not None
    assert bars == pytest.approx(tuple(night.SITE_BAR * v / 4 for v in ref), rel=1e-6)
    assert "12 dark-night frames" in note and "0.25 of the reference camera's" in note
    assert sparse < lens.STARRY_FRAME / 2  # fewer stars: a lower share for "starry", never a higher one
    bars, rich, _ = night.site_bars([[v * 4 for v in ref]] * 12)
    assert bars == pytest.approx(tuple(night.SITE_BAR * v * 4 for v in ref), rel=1e-6)
    assert rich == lens.STARRY_FRAME
    assert night.site_bars(sparse_nights[: night.MIN_DARK - 1])[0] is None  # too few frames
    assert night.site_bars([[0.001] * 5] * 12)[0] is None  # nights that never show a starry sky


def test_the_reference_bar_is_site_bar_of_the_reference_density():
    """SITE_BAR x REF_CLEAR_NIGHT is the reference's own bar (lens.horizon_bar) over the octa area: a site learned
    as the reference camera gets the reference's bars back."""
    rho = np.linspace(0, lens.OCTA_RADIUS, 4000, dtype=np.float32)
    per_ring = []
    for lo, hi in itertools.pairwise((*night.BANDS, lens.OCTA_RADIUS)):
        r = rho[(rho >= lo) & (rho < hi)]  # each ring's bar weighted by its area (rho dr)
        per_ring.append(float((lens.horizon_bar(r) * r).sum() / r.sum()))
    learned = night.SITE_BAR * night.REF_CLEAR_NIGHT
    assert learned == pytest.approx(float(np.mean(per_ring)), rel=0.05)


def test_the_moonlit_gate_moves_only_for_another_camera():
    lo, hi = np.minimum(night.REF_CLEAR, night.REF_OVERCAST), np.maximum(night.REF_CLEAR, night.REF_OVERCAST)
    mixed = [tuple(lo + (hi - lo) * f) for f in np.linspace(0.1, 0.9, 12)]
    mean, note = night.site_gate(mixed)
    assert mean is None and "look like the reference" in note  # any weather mix lies between the two looks
    darker = [(x[0], x[1] - 0.15, x[2]) for x in mixed]  # a camera exposing its moonlit nights darker
    mean, _ = night.site_gate(darker)
    assert mean is not None
    low = float(np.percentile([x[1] for x in darker], night.LOW_Q))  # its clearest-looking skies
    assert mean[1] == pytest.approx(night.GATE_MEAN[1] + low - night.REF_LOW, abs=1e-9)
    assert mean[0] == night.GATE_MEAN[0] and mean[2] == night.GATE_MEAN[2]
    assert night.site_gate(darker[:5])[0] is None  # too few moonlit frames
    # the gate reads a darker frame as the reference reads a frame that much brighter
    site = night.NightSite(gate_mean=mean)
    x = (-6.0, 0.30, 0.04)
    z_site = sum(w * (v - m) / s for w, v, m, s in zip(night.GATE_W, x, mean, night.GATE_SD, strict=True))
    shifted = (x[0], x[1] + night.GATE_MEAN[1] - mean[1], x[2])
    z_ref = sum(w * (v - m) / s for w, v, m, s in zip(night.GATE_W, shifted, night.GATE_MEAN, night.GATE_SD,
                                                     strict=True))
    assert z_site == pytest.approx(z_ref) and site.gate_mean == mean


def _day_calibration(model: OctaModel) -> Calibration:
    frames = [model.decode(sky_jpeg(c, seed=i)) for i, c in enumerate([0.0, 0.2, 0.5, 0.8, 1.0, 0.1, 0.4, 0.9])]
    return calibration.fit(frames, "test", 0.25)


def test_calibrate_learns_the_star_bar_from_timed_dark_nights(model: OctaModel):
    assert regime.light(DARK_AT, *MADRID).regime == regime.DARK
    nights_ = [model.decode(_dark_sky(0.004, seed=i)) for i in range(12)]
    times = [DARK_AT + timedelta(minutes=10 * i) for i in range(12)]
    cal = _day_calibration(model)
    calibration.learn_nights(cal, nights_, [None] * 12, *MADRID)
    assert cal.night is None  # no times: no night side
    calibration.learn_nights(cal, nights_, times, *MADRID)
    assert cal.night is not None and cal.night.star_bars is not None and cal.night.gate_mean is None
    assert cal.night.starry is not None and cal.night.starry < lens.STARRY_FRAME
    assert "12 dark-night frames" in cal.found["night"]["dark"]
    assert any("dark nights: 12 dark-night frames" in line for line in calibration.describe(cal))
    # fewer than MIN_DARK say nothing of the site's clear nights, and the note says so
    calibration.learn_nights(cal, nights_[: night.MIN_DARK - 1], times[: night.MIN_DARK - 1], *MADRID)
    assert cal.night is None and f"needs {night.MIN_DARK}" in cal.found["night"]["dark"]


def test_a_camera_with_fewer_stars_gets_octas_after_calibrate(model: OctaModel):
    """A sparse star field (under the reference's starry share) is flagged `night` before; with the site's own
    clear-night density learned it is judged, and judged clear."""
    cal = _day_calibration(model)
    calibration.learn_nights(cal, [model.decode(_dark_sky(0.004, seed=i)) for i in range(12)],
                             [DARK_AT + timedelta(minutes=10 * i) for i in range(12)], *MADRID)
    frame = model.decode(_dark_sky(0.004, seed=99))
    before = model.judge([frame], [DARK_AT], *MADRID)[0]
    with calibrated(model, cal):
        after = model.judge([frame], [DARK_AT], *MADRID)[0]
    assert before.octas is None and before.flag == "night"
    assert after.octas is not None and after.octas <= 2, (after.octas, after.flag)


def test_an_old_calibration_file_still_loads_and_a_new_one_keeps_its_night_side(model: OctaModel, tmp_path: Path):
    cal = _day_calibration(model)
    cal.save(tmp_path / "old.json")
    raw = json.loads((tmp_path / "old.json").read_text())
    del raw["night"]  # a file written before the night side existed
    (tmp_path / "old.json").write_text(json.dumps(raw))
    old = Calibration.load(tmp_path / "old.json")
    assert old.night is None and old.ident == cal.ident
    cal.night = night.NightSite((0.005, 0.005, 0.004, 0.003, 0.002), (-6.6, 0.30, 0.01), 0.004)
    cal.save(tmp_path / "new.json")
    back = Calibration.load(tmp_path / "new.json")
    assert back.night == cal.night and back.ident == cal.ident != old.ident
    assert json.loads((tmp_path / "new.json").read_text())["format"] == "cielo-calibration/1"
    raw = json.loads((tmp_path / "new.json").read_text())
    raw["night"]["star_bars"] = [0.1]
    (tmp_path / "bad.json").write_text(json.dumps(raw))
    with pytest.raises(calibration.CalibrationError, match="star_bars"):
        Calibration.load(tmp_path / "bad.json")


def _twilight_sky(gradient: float, rise: float = 0.0) -> bytes:
    """A blue twilight sky of one colour (NRBR the same everywhere), lit `gradient` brighter on one side and
    `rise` brighter at the lens's rim than at its centre (a clear sky brightens toward the horizon, an overcast
    one dims)."""
    w, h = 640, 480
    yy, xx = np.mgrid[0:h, 0:w]
    disc = (xx - w / 2) ** 2 + (yy - h / 2) ** 2 <= 230**2
    rng = np.random.default_rng(3)
    light = 1.0 + gradient * (xx - w / 2) / 230 + rise * ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / 230**2
    rgb = np.zeros((h, w, 3)) + rng.normal(0, 1.5, (h, w, 1))
    rgb += np.array([70.0, 90.0, 135.0]) * light[..., None]
    rgb[~disc] = 0
    return _png(rgb)


def test_twilight_calls_an_evenly_lit_sky_overcast_and_a_glowing_one_clear(model: OctaModel):
    """Both skies have one colour (NRBR spread near 0, which alone read overcast before); only the evenly lit one
    is overcast: a clear twilight keeps its glow."""
    assert regime.light(DUSK_AT, *MADRID).regime == regime.TWILIGHT
    even, glow = model.decode(_twilight_sky(0.0)), model.decode(_twilight_sky(0.6, rise=0.6))
    v_even, v_glow = model.judge([even, glow], [DUSK_AT, DUSK_AT], *MADRID)
    assert v_even.octas == 8 and v_glow.octas is not None and v_glow.octas <= 2, (v_even.octas, v_glow.octas)


def test_twilight_calls_a_sky_dimming_toward_the_horizon_overcast_whatever_its_glow(model: OctaModel):
    """A glow on one side alone (a lit patch of cloud toward the sun) does not make a sky clear: an overcast deck
    is lit from above and dims toward the horizon all round, a clear twilight sky brightens toward it."""
    dim = model.decode(_twilight_sky(0.6, rise=-0.3))
    (v,) = model.judge([dim], [DUSK_AT], *MADRID)
    assert v.octas == 8, v.octas
    assert night.rises(dim.pixels, np.ones(dim.pixels.shape[1:], np.float32), model.geometry(dim))[0] < 0


def test_calibrate_images_learns_the_night_side_from_exif_times(tmp_path: Path):
    """`cielo calibrate --images`: dark starry frames are kept (they are under the day fit's brightness) and
    their EXIF DateTimeOriginal says they are dark nights."""
    from tests.conftest import cielo, write_config

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, cover in enumerate([0.0, 0.2, 0.5, 0.8, 1.0, 0.1, 0.4, 0.9]):
        (folder / f"day{i}.jpg").write_bytes(sky_jpeg(cover, seed=i))
    for i in range(12):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[36867] = (DARK_AT + timedelta(minutes=10 * i)).strftime("%Y:%m:%d %H:%M:%S")
        exif.get_ifd(0x8769)[36881] = "+00:00"
        Image.open(io.BytesIO(_dark_sky(0.004, seed=i))).save(folder / f"night{i}.png", exif=exif.tobytes())
    cfg = write_config(tmp_path / "c.toml", {"device": {"latitude": MADRID[0], "longitude": MADRID[1]},
                                             "skycam": {"calibration": "cal.json"}})
    result = cielo("calibrate", "--images", str(folder), config=cfg)
    assert result.returncode == 0, result.stderr
    # the day fit uses the 8 bright frames; all 20 were read
    assert "frames used: 8 (20 of 20 images" in result.stdout, result.stdout
    assert "dark nights: 12 dark-night frames" in result.stdout, result.stdout
    saved = json.loads((tmp_path / "cal.json").read_text())
    assert len(saved["night"]["star_bars"]) == len(night.BANDS) and saved["night"]["gate_mean"] is None


def test_twilight_evidence_says_how_near_the_horizon_rule_sat_to_its_bar(model: OctaModel):
    """The confidence sees the twilight rule's margin: a sky whose rise sits at the bar is near 1, a strongly
    glowing one and a dimming one far from it; a frame of unknown time has no light rule at all."""
    at_bar = model.decode(_twilight_sky(0.3, rise=night.HORIZON_RISE))
    glow, dim = model.decode(_twilight_sky(0.6, rise=1.5)), model.decode(_twilight_sky(0.6, rise=-0.6))
    near, far_glow, far_dim = (v.evidence.rule_near for v in model.judge([at_bar, glow, dim], [DUSK_AT] * 3, *MADRID))
    assert near > 0.6 and far_glow < 0.3 and far_dim < 0.4, (near, far_glow, far_dim)
    (blind,) = model.judge([at_bar], [None], *MADRID)
    assert blind.evidence.rule_near == 0.0


def _glowing_sky(rise: float, glow: float, power: float) -> bytes:
    """A one-colour twilight sky lit brighter on one side (0.6 across the lens), `rise` brighter at the rim all
    round, and a glow band on one side of the rim (`glow` at the rim, cos(azimuth) ** `power` wide): light under
    the edge of a deck, or the sun's glow."""
    w, h = 640, 480
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / 230**2
    side = np.clip((xx - w / 2) / np.sqrt(np.maximum(r2, 1e-9) * 230**2), 0, 1) ** power
    light = 1.0 + 0.6 * (xx - w / 2) / 230 + rise * r2 + glow * side * r2**2
    rgb = np.zeros((h, w, 3)) + np.random.default_rng(3).normal(0, 1.5, (h, w, 1))
    rgb += np.array([60.0, 78.0, 118.0]) * light[..., None]
    rgb[r2 > 1] = 0
    return _png(rgb)


def test_twilight_calls_a_sky_lit_at_one_rim_but_dimming_elsewhere_overcast(model: OctaModel,
                                                                            monkeypatch: pytest.MonkeyPatch):
    """A deck lit through a gap at one rim: the glow band lifts the rise over the whole sky past HORIZON_RISE, but
    away from it the sky dims toward the horizon (rises, its second value): overcast. The same glow on a sky that
    brightens all round stays clear."""
    deck, clear = model.decode(_glowing_sky(-0.3, 4.0, 1)), model.decode(_glowing_sky(0.6, 3.0, 2))
    valid = model.maps(deck, model.geometry(deck)).valid
    whole, away = night.rises(deck.pixels, valid, model.geometry(deck))
    assert whole > night.HORIZON_RISE
    assert away < night.AWAY_RISE
    v_deck, v_clear = model.judge([deck, clear], [DUSK_AT, DUSK_AT], *MADRID)
    assert v_deck.octas == 8 and v_clear.octas is not None and v_clear.octas <= 2, (v_deck.octas, v_clear.octas)
    monkeypatch.setattr(night, "AWAY_RISE", -np.inf)  # the rise over the whole sky alone calls the deck clear
    (before,) = model.judge([deck], [DUSK_AT], *MADRID)
    assert before.octas is not None and before.octas <= 2, before.octas


def test_judge_fits_a_twilight_frames_horizon_once(model: OctaModel, monkeypatch: pytest.MonkeyPatch):
    """The twilight rule and the confidence's rule_near read the same fits: one night.rises per frame, and
    nothing is kept once the batch is judged."""
    calls = []
    real = night.rises

    def counted(*args: object) -> tuple[float | None, float | None]:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(night, "rises", counted)
    frames = [model.decode(_glowing_sky(0.6, 3.0, 2)), model.decode(_glowing_sky(-0.3, 4.0, 1))]
    verdicts = model.judge(frames, [DUSK_AT, DUSK_AT], *MADRID)
    assert len(calls) == 2 and all(v.evidence.rule_near >= 0 for v in verdicts)
    assert not model._rise_memo


def test_the_moonlit_texture_bar_rises_only_for_a_rougher_camera():
    """A site's smooth moonlit skies (the floor of its moonlit frames' texture) say how rough the camera makes any sky:
    within the weather's spread of the reference's the bar stays; a rougher camera (sharpening, a steeper tone curve)
    raises it in proportion, so its clear skies keep their star read; a smoother one never lowers it."""
    ref = [night.REF_TEXTURE * f for f in np.linspace(0.8, 1.6, 12)]  # the 25th percentile near the reference's
    assert night.site_texture(ref)[0] is None
    rough = [t * 1.4 for t in ref]
    bar, note = night.site_texture(rough)
    assert bar == pytest.approx(night.TEXTURE_BAR * float(np.percentile(rough, night.TEXTURE_FLOOR_Q))
                                / night.REF_TEXTURE) and bar > night.TEXTURE_BAR and "not read by its stars" in note
    assert night.site_texture([t * 0.6 for t in ref])[0] is None  # smoother: the reference's bar
    assert night.site_texture(rough[:5])[0] is None  # too few moonlit frames


def test_the_texture_bar_is_additive_in_the_calibration_file():
    """A night side without a learned texture bar writes no `texture` key (its file and id unchanged) and reads the
    reference's bar; one with it round-trips; a file written before it loads."""
    plain = night.NightSite(gate_mean=(-6.6, 0.30, 0.01))
    assert "texture" not in plain.as_dict() and plain.texture_bar == night.TEXTURE_BAR
    assert night.NightSite.from_dict(plain.as_dict()) == plain
    rough = night.NightSite(gate_mean=(-6.6, 0.30, 0.01), texture=0.061)
    assert night.NightSite.from_dict(json.loads(json.dumps(rough.as_dict()))) == rough and rough.texture_bar == 0.061
    assert night.NightSite.from_dict({"star_bars": None, "gate_mean": None, "starry": None}) == night.NightSite()


def test_a_site_with_a_raised_texture_bar_reads_a_rough_clear_sky_by_its_stars(model: OctaModel):
    """The same lumpy-looking frame: past the reference's bar it keeps its colour reading; on a site whose own smooth
    skies are that rough it is read by its stars."""
    from tests.sources.skycam.test_night import _lumpy, _sky

    rgb = _lumpy(_sky((85, 92, 100), 1500, 25), 80)
    frame = model.frame(Image.fromarray(rgb).resize((model.width, model.height)), rgb.max(axis=2))
    geom = model.geometry(frame)
    valid = model.maps(frame, geom).valid
    tex = night.texture(frame, geom)
    assert tex is not None and tex > night.TEXTURE_BAR
    assert night.moonlit_read(frame, geom, valid)[0] is None
    rough = night.NightSite(texture=tex * 1.2)
    octas = night.moonlit_read(frame, geom, valid, rough)[0]
    assert octas is not None and octas <= 2


def _cloudlet_sky(lift: float, tint: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> bytes:
    """A clear twilight sky (brighter on one side, brightening toward the rim all round: the horizon rule reads it
    clear) with, when `lift` or `tint` is set, a field of small cells of cloud (10 px at 640x480) `lift` brighter
    and shifted by `tint` in colour: a broken deck lit from under the horizon."""
    w, h = 640, 480
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / 230**2
    light = 1.0 + 0.6 * (xx - w / 2) / 230 + 0.6 * r2
    rgb = np.zeros((h, w, 3)) + np.random.default_rng(3).normal(0, 1.5, (h, w, 1))
    rgb += np.array([70.0, 90.0, 135.0]) * light[..., None]
    if lift or any(tint):
        rng = np.random.default_rng(5)
        for cy in range(60, 430, 44):
            for cx in range(110, 540, 44):
                x, y = cx + rng.integers(-8, 9), cy + rng.integers(-8, 9)
                cell = (xx - x) ** 2 + (yy - y) ** 2 <= 100
                rgb[cell] = rgb[cell] * (1 + lift) + np.array(tint)
    rgb[r2 > 1] = 0
    return _png(rgb)


def test_twilight_reads_a_sky_of_lit_cells_cloudy_and_weak(model: OctaModel, monkeypatch: pytest.MonkeyPatch):
    """Lit cloud in cells on a sky that otherwise glows and brightens toward the horizon like a clear twilight: the
    horizon rule reads it clear; its roughness in light (white cells) or in colour (pink ones) moves it to
    twilight.OVERCAST_READ, marked uncertain. The smooth clear sky, and a frame of unknown time, are not moved."""
    from cielo.sources.skycam import twilight

    clear = model.decode(_cloudlet_sky(0.0))
    white, pink = model.decode(_cloudlet_sky(0.25)), model.decode(_cloudlet_sky(0.0, (40.0, 10.0, -20.0)))

    def rough(f):
        geom = model.geometry(f)
        return twilight.roughness(f.pixels, model.maps(f, geom).valid, geom)

    assert not twilight.lumpy(rough(clear))
    assert rough(white)[0] > twilight.LIGHT_BAR and rough(pink)[1] > twilight.COLOUR_BAR
    assert rough(pink)[0] < twilight.LIGHT_BAR
    for f in (clear, white, pink):
        geom = model.geometry(f)
        assert not night.rises_overcast(night.rises(f.pixels, model.maps(f, geom).valid, geom))
    v_clear, v_white, v_pink = model.judge([clear, white, pink], [DUSK_AT] * 3, *MADRID)
    assert v_clear.octas == 0 and v_clear.flag is None
    for v in (v_white, v_pink):
        assert v.octas == twilight.OVERCAST_READ and v.flag == "uncertain", (v.octas, v.flag)
    (blind,) = model.judge([white], [None], *MADRID)
    assert blind.octas is None or blind.octas < twilight.OVERCAST_READ
    monkeypatch.setattr(twilight, "LIGHT_BAR", np.inf)
    monkeypatch.setattr(twilight, "COLOUR_BAR", np.inf)
    for v in model.judge([white, pink], [DUSK_AT] * 2, *MADRID):  # without the rule: read clear by colour and light
        assert v.octas is not None and v.octas <= 2, v.octas


def test_a_dark_night_is_read_and_learned_on_its_own_lens_fit(model: OctaModel):
    """A calibrated model reads a dark night on the frame's own ellipse (its lit sky: on a moonless night the lens's
    vignetted rim falls outside it, and the night rules were chosen there), any other frame, a frame of unknown time
    and a dark night whose own fit failed on the site's; learn_nights measures the star density on the same ellipse."""
    frames = [model.decode(_dark_sky(0.02, seed=i)) for i in range(night.MIN_DARK)]
    own = frames[0].lens
    assert own is not None and own.found
    cal = _day_calibration(model)
    # the site's ellipse a tenth wider than the night frames' own, as a day fit reaching into the rim
    cal.lens = lens.Lens(own.cx, own.cy, own.rx * 1.1, own.ry * 1.1, own.width, own.height, True).as_dict()
    dark = regime.light(DARK_AT, *MADRID)
    with calibrated(model, cal):
        site = model.geometry(frames[0])
        assert site.rx == pytest.approx(own.rx * 1.1, rel=0.01)
        assert model.geometry(frames[0], dark) is own
        assert model.geometry(frames[0], regime.light(DUSK_AT, *MADRID)).rx == site.rx
        failed = dataclasses.replace(frames[0], lens=lens.Lens(own.cx, own.cy, own.rx, own.ry, own.width, own.height,
                                                               False))
        assert model.geometry(failed, dark).rx == site.rx
    times = [DARK_AT + timedelta(minutes=10 * i) for i in range(len(frames))]
    calibration.learn_nights(cal, frames, times, *MADRID)
    rings = [night.ring_density(f.stars.astype(np.float32), f.lens.rho(), cal.mask) for f in frames]
    clear = np.percentile(np.asarray(rings), night.CLEAR_NIGHT_Q, axis=0)
    assert f"{clear[-1] * 1000:.1f} per mille" in cal.found["night"]["dark"], cal.found["night"]["dark"]
    assert any(line.startswith("lens: ") and calibration.NIGHT_LENS_NOTE in line for line in calibration.describe(cal))


def _brighter(png: bytes, k: float) -> bytes:
    """The same frame through a longer exposure: every level times `k`, clipped at white."""
    return _png(np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64) * k)


def test_twilight_reads_a_clear_sky_whose_rim_clips_by_its_unclipped_light(model: OctaModel,
                                                                           monkeypatch: pytest.MonkeyPatch):
    """A brighter exposure clips a clear twilight's glowing rim at white and flattens its rise toward the horizon:
    with the clipped pixels censored (night.CLIPPED: their light is that or more) the sky still rises past
    HORIZON_RISE and reads clear; fitted as they stand it reads overcast. A deck whose zenith clips still dims."""
    clear = model.decode(_brighter(_twilight_sky(0.2, rise=0.6), 1.6))
    deck = model.decode(_brighter(_twilight_sky(0.0, rise=-0.3), 2.0))
    geom = model.geometry(clear)
    valid = model.maps(clear, geom).valid
    assert float((clear.pixels.max(axis=0)[valid > 0] >= night.CLIPPED).mean()) > 0.2  # the rim is white
    assert night.rises(clear.pixels, valid, geom)[0] > night.HORIZON_RISE
    assert night.rises(deck.pixels, model.maps(deck, model.geometry(deck)).valid, model.geometry(deck))[0] < 0
    v_clear, v_deck = model.judge([clear, deck], [DUSK_AT, DUSK_AT], *MADRID)
    assert v_clear.octas is not None and v_clear.octas <= 2 and v_deck.octas == 8, (v_clear.octas, v_deck.octas)
    monkeypatch.setattr(night, "CLIPPED", np.inf)  # the clipped rim fitted as it stands
    assert night.rises(clear.pixels, valid, geom)[0] < night.HORIZON_RISE


def test_a_darker_tone_curve_moves_the_gate_by_its_clearest_skies():
    """A darker curve (gamma 1.25) darkens clear and overcast moonlit skies alike, by more than the median's excess
    over the reference's clear centre: the gate's brightness centre moves by the site's clearest skies' shift, so a
    frame reads as the reference read it before the curve. An overcast-only site (bright skies, median inside the
    span) keeps the reference's gate."""
    rng = np.random.default_rng(3)
    ref = [(-6.0, float(b), 0.04) for b in np.concatenate([rng.normal(0.375, 0.03, 30), rng.normal(0.447, 0.03, 40)])]
    assert night.site_gate(ref)[0] is None
    dark = 0.08
    site = [(x[0], x[1] - dark, x[2]) for x in ref]
    mean, note = night.site_gate(site)
    assert mean is not None and "moved" in note
    median_excess = float(np.median([x[1] for x in site])) - min(night.REF_CLEAR[1], night.REF_OVERCAST[1])
    assert abs(median_excess) < 0.06  # the old rule moved the centre by under three quarters of the curve's shift
    moved = night.GATE_MEAN[1] - mean[1]
    assert moved == pytest.approx(night.REF_LOW - float(np.percentile([x[1] for x in site], night.LOW_Q)))
    assert moved > abs(median_excess) and abs(moved - dark) < 0.025
    overcast = [(x[0], x[1], x[2]) for x in ref[30:]]
    assert night.site_gate(overcast)[0] is None  # bright, but a weather, not a camera


def _rise_reads_overcast(model: OctaModel, cal: Calibration, frame: Frame, light: regime.Light) -> bool:
    """Whether the twilight frame's horizon rise reads a deck under this calibration (night.rises_overcast)."""
    with calibrated(model, cal):
        geom = model.geometry(frame, light)
        valid = model.maps(frame, geom).valid
        return night.rises_overcast(model._rises(frame, valid, geom))


def _vignetted(png: bytes, fall: float) -> bytes:
    """The same frame through a cheap lens: light falling to 1 - `fall` at the lens disc's rim (rho^2)."""
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    rho2 = np.minimum(((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / 230**2, 1.0)
    return _png(a * (1.0 - fall * rho2)[..., None])


def test_a_vignetted_camera_reads_its_twilight_rise_on_the_reference_scale(model: OctaModel):
    """A vignette dims every frame's rim alike, so a clear twilight's rise toward the horizon reads as a deck's. The
    site's starry dark nights show the lens's fall alone: learned from them (night.site_rim), the rise is read on the
    reference's scale and the clear twilight is no deck; an unvignetted camera's nights teach nothing."""
    times = [DARK_AT + timedelta(minutes=10 * i) for i in range(night.MIN_DARK)]
    dusk = regime.light(DUSK_AT, *MADRID)
    twilight = model.decode(_vignetted(_twilight_sky(0.6, rise=1.0), 0.5))
    cal = _day_calibration(model)
    calibration.learn_nights(cal, [model.decode(_dark_sky(0.02, seed=i)) for i in range(night.MIN_DARK)], times,
                             *MADRID)
    assert cal.night is None or cal.night.rim is None, cal.found["night"]["rim"]
    calibration.learn_nights(cal, [model.decode(_vignetted(_dark_sky(0.02, seed=i), 0.5))
                                   for i in range(night.MIN_DARK)], times, *MADRID)
    assert cal.night is not None and cal.night.rim is not None and cal.night.rim < -night.RIM_SPAN
    assert "(a vignette)" in cal.found["night"]["rim"]
    assert night.NightSite.from_dict(cal.night.as_dict()).rim == pytest.approx(cal.night.rim, abs=1e-4)
    for rim, overcast in ((None, True), (cal.night.rim, False)):
        site = dataclasses.replace(cal, night=dataclasses.replace(cal.night, rim=rim))
        assert _rise_reads_overcast(model, site, twilight, dusk) is overcast


def _moonlit_deck(level: float, glow: float, exposure: float = 1.0) -> np.ndarray:
    """A smooth grey moonlit cloud deck in a lens disc: the moon's glow (a clipped disc and a wide halo) over an
    even base, through a camera `exposure` times the reference's; black outside."""
    w, h = 640, 480
    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[0:h, 0:w]
    moon = np.hypot(xx - 400, yy - 170)
    v = level * (1 + glow * np.exp(-moon / 120.0))
    rgb = v[..., None] * np.array([0.92, 0.97, 1.0]) + rng.normal(0, 1.2, (h, w, 1))
    rgb[moon < 12] = 255
    rgb = rgb * exposure
    rgb[(xx - w / 2) ** 2 + (yy - h / 2) ** 2 > 230**2] = 0
    return rgb.clip(0, 255).astype(np.uint8)


def test_a_shorter_exposure_does_not_open_the_moonlit_gate_to_an_overcast_sky(model: OctaModel):
    """A camera exposing 0.6 of the reference's darkens an overcast moonlit deck under the reference's clear skies:
    read by its median brightness the gate would call it clear. Outside the reference's own range the gate reads
    the sky's middle against its bright end, which no gain moves, and the deck stays overcast; a median inside the
    range is read as it stands."""
    levels = []
    for exposure in (1.0, 0.6):
        rgb = _moonlit_deck(95, 0.8, exposure)
        frame = model.frame(Image.fromarray(rgb).resize((model.width, model.height)), rgb.max(axis=2))
        geom = model.geometry(frame)
        x, _ = night.features(frame, geom)
        assert x is not None
        levels.append(x[1])
        assert night.gate(frame, geom)[0] < night.GATE_CLEAR, exposure
    assert night.TONE_SPAN[0] <= levels[0] <= night.TONE_SPAN[1]  # the reference's range: the median itself
    assert levels[1] > night.REF_OVERCAST[1]  # the shorter exposure: on the reference's overcast side


def test_a_vignette_is_learned_from_fifty_frames_of_every_light(model: OctaModel, tmp_path: Path):
    """Under MIN_DARK starry dark nights (a calibration on ~50 frames) the lens's fall-off is the median of every
    frame's rim light against the reference's for its light (night.site_rim_all): twilights as bright at the rim as
    the reference's median teach nothing, the same twilights through a 30 % vignette store a rim near ln 0.7; the
    clear twilight then reads no deck. A calibration file written before the field (no night.rim) loads and reads
    the rise as measured."""
    n = night.MIN_RIM_FRAMES + 4
    times = [DUSK_AT + timedelta(seconds=30 * i) for i in range(n)]
    dusk = regime.light(DUSK_AT, *MADRID)
    assert dusk.regime == regime.TWILIGHT and all(regime.light(t, *MADRID).regime == regime.TWILIGHT for t in times)
    rise = float(np.exp(night.RIM_BANDS_REF["twilight"]) - 1.0)  # the reference's median twilight
    plain = model.decode(_twilight_sky(0.2, rise=rise))
    dimmed = model.decode(_vignetted(_twilight_sky(0.2, rise=rise), 0.3))
    cal = _day_calibration(model)
    calibration.learn_nights(cal, [plain] * n, times, *MADRID)
    assert cal.night is None or cal.night.rim is None, cal.found["night"]["rim"]
    calibration.learn_nights(cal, [dimmed] * (night.MIN_RIM_FRAMES - 1), times[:night.MIN_RIM_FRAMES - 1], *MADRID)
    assert cal.night is None or cal.night.rim is None  # too few frames
    calibration.learn_nights(cal, [dimmed] * n, times, *MADRID)
    assert cal.night is not None and cal.night.rim is not None, cal.found["night"]["rim"]
    assert -0.6 < cal.night.rim < -night.RIM_SPAN and "frames of every light" in cal.found["night"]["rim"]
    twilight = model.decode(_vignetted(_twilight_sky(0.6, rise=0.6), 0.3))  # a clear twilight, dimmed
    cal.save(tmp_path / "cal.json")
    raw = json.loads((tmp_path / "cal.json").read_text())
    raw["night"].pop("rim")  # a calibration written before the rim was learned
    (tmp_path / "old.json").write_text(json.dumps(raw))
    old = Calibration.load(tmp_path / "old.json")
    assert old.night is None or old.night.rim is None
    for c, overcast in ((old, True), (Calibration.load(tmp_path / "cal.json"), False)):
        assert _rise_reads_overcast(model, c, twilight, dusk) is overcast


def test_the_rim_bands_follow_the_light_and_the_suns_altitude():
    assert night.rim_band(regime.DAY, 5.0) == "day 0" and night.rim_band(regime.DAY, 30.0) == "day 2"
    assert night.rim_band(regime.DAY, 70.0) == "day 3" and night.rim_band(regime.TWILIGHT, -4.0) == "twilight"
    assert set(night.RIM_BANDS_REF) == {f"day {i}" for i in range(4)} | {regime.TWILIGHT, regime.MOONLIT, regime.DARK}
    assert night.site_rim_all([-0.1] * 30)[0] is None  # within the span
    assert night.site_rim_all([0.5] * 30)[0] is None  # a brighter rim is the sky's (TSI's mirror: its horizon)
    assert night.site_rim_all([-0.35] * 30)[0] == pytest.approx(-0.35)


def test_a_vignetted_lens_does_not_open_the_moonlit_gate_to_a_deck(model: OctaModel):
    """A vignette darkens the octa area's outer rings and with them the gate's median brightness: a moonlit deck with
    a few stars through it reads like the reference's clear skies and passes. With the rim the calibration learned
    (NightSite.rim) taken off before the median, the deck reads as bright as through the reference's lens and stays
    shut; a site without a learned rim reads as before."""
    rgb = _moonlit_deck(92, 0.8).astype(np.float64)
    rng = np.random.default_rng(1)
    rgb[rng.integers(60, 420, 150), rng.integers(120, 520, 150)] += 60  # stars through a thin deck
    plain = model.decode(_png(rgb))
    dimmed = model.decode(_vignetted(_png(rgb), 0.3))
    geom = model.geometry(plain)
    assert night.gate(plain, geom)[0] < night.GATE_CLEAR
    assert night.gate(dimmed, model.geometry(dimmed))[0] > night.GATE_CLEAR  # the vignette passes it
    assert night.gate(dimmed, model.geometry(dimmed), night.NightSite())[0] > night.GATE_CLEAR
    site = night.NightSite(rim=math.log(0.7))
    assert night.gate(dimmed, model.geometry(dimmed), site)[0] < night.GATE_CLEAR
    level = night.features(plain, geom)[0]
    again = night.features(dimmed, model.geometry(dimmed), rim=site.rim)[0]
    assert level is not None and again is not None and again[1] == pytest.approx(level[1], abs=0.01)


def _paler(cal: Calibration, scale: float) -> Calibration:
    """The same calibration, its day levels having said a paler camera (calibration.clear_scale: a dusty dome)."""
    return dataclasses.replace(cal, clear_scale=scale, clear_paler=scale < 1.0)


def test_a_paler_cameras_dimmer_rim_is_learned_under_the_vignettes_span(model: OctaModel):
    """A dusty dome's glare lifts every frame's zenith: its rim reads dimmer than the reference's for its light, but
    by less than RIM_SPAN (a vignette's bar, which the reference's own 50-frame draws reach). At a site whose day
    frames said a paler camera (clear_scale under 1, never on the reference's draws) any dimmer rim is the lens's
    (PALE_RIM_SPAN): the clear twilight the glare flattened reads no deck; at the reference's blue it stays one."""
    n = night.MIN_RIM_FRAMES + 4
    times = [DUSK_AT + timedelta(seconds=30 * i) for i in range(n)]
    dusk = regime.light(DUSK_AT, *MADRID)
    rise = float(np.exp(night.RIM_BANDS_REF["twilight"]) - 1.0)
    glared = model.decode(_vignetted(_twilight_sky(0.2, rise=rise), 0.12))
    cal = _day_calibration(model)
    assert cal.clear_scale == 1.0 and cal.reference is not None
    calibration.learn_nights(cal, [glared] * n, times, *MADRID)
    assert cal.night is None or cal.night.rim is None, cal.found["night"]["rim"]  # within RIM_SPAN
    split_only = dataclasses.replace(cal, clear_scale=0.6)  # the split's ratio alone: the reference's samples too
    calibration.learn_nights(split_only, [glared] * n, times, *MADRID)
    assert split_only.night is None or split_only.night.rim is None
    pale = _paler(cal, 0.6)
    calibration.learn_nights(pale, [glared] * n, times, *MADRID)
    assert pale.night is not None and pale.night.rim is not None, pale.found["night"]["rim"]
    assert -night.RIM_SPAN < pale.night.rim < -0.05 and "paler camera" in pale.found["night"]["rim"]
    twilight = model.decode(_vignetted(_twilight_sky(0.6, rise=0.42), 0.12))  # a clear twilight, flattened
    for c, overcast in ((cal, True), (pale, False)):
        assert _rise_reads_overcast(model, c, twilight, dusk) is overcast


def test_a_paler_cameras_twilight_colour_is_read_against_the_models_threshold_scaled(model: OctaModel,
                                                                                     tmp_path: Path):
    """Out of daylight a calibrated site keeps the model's clear-sky threshold (its own was learned by day), but a
    paler camera's (a dusty dome's) whole colour range is drawn toward grey at twilight as by day: a clear twilight
    as blue as 0.11 NRBR, over the scaled bar and under the model's 0.14, reads clear only with the bar scaled by
    the site's clear_scale; the same site at the reference's blue reads it cloud, and so does a site whose scale came
    from its split's ratio alone (the reference's own samples' case). An old file without the flag reads as before."""
    w, h = 640, 480
    yy, xx = np.mgrid[0:h, 0:w]
    disc = (xx - w / 2) ** 2 + (yy - h / 2) ** 2 <= 230**2
    light = 1.0 + 0.6 * (xx - w / 2) / 230 + 1.0 * ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / 230**2
    rgb = np.zeros((h, w, 3)) + np.array([60.0, 66.0, 75.0]) * light[..., None]  # NRBR 0.11
    rgb[~disc] = 0
    frame = model.decode(_png(rgb))
    cal = _day_calibration(model)
    assert cal.reference is not None
    octas = {}
    for name, c in (("reference", cal), ("split only", dataclasses.replace(cal, clear_scale=0.6)),
                    ("paler", _paler(cal, 0.6))):
        with calibrated(model, c):
            octas[name] = model.judge([frame], [DUSK_AT], *MADRID)[0].octas
    assert all(octas[k] is not None and octas[k] >= 6 for k in ("reference", "split only")), octas
    assert octas["paler"] is not None and octas["paler"] <= 2, octas
    pale = _paler(cal, 0.6)
    pale.save(tmp_path / "cal.json")
    assert Calibration.load(tmp_path / "cal.json").clear_paler
    raw = json.loads((tmp_path / "cal.json").read_text())
    raw.pop("clear_sky_paler")  # a file written before the field: the reference's night side, as it read
    (tmp_path / "old.json").write_text(json.dumps(raw))
    old = Calibration.load(tmp_path / "old.json")
    assert not old.clear_paler and old.ident != pale.ident
