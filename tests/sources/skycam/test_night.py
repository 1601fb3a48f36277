"""Moonlit nights: true point sources, and a clear moonlit sky read by its stars instead of its colour."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cielo.sources.skycam import lens, night
from tests.conftest import cielo, write_config

W, H = 640, 480


def _sky(level: tuple[float, float, float], stars: int, amplitude: float, seed: int = 5) -> np.ndarray:
    """A lens disc of even sky with sensor noise and Gaussian stars (PSF sigma 0.7 px); black outside."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W]
    disc = (xx - W / 2) ** 2 + (yy - H / 2) ** 2 <= 230**2
    rgb = np.zeros((H, W, 3)) + np.asarray(level) + rng.normal(0, 1.2, (H, W, 1))
    for _ in range(stars):
        x, y = rng.uniform(5, W - 5), rng.uniform(5, H - 5)
        ix, iy = int(x), int(y)
        win = (slice(iy - 3, iy + 4), slice(ix - 3, ix + 4))
        sub = np.exp(-((xx[win] - x) ** 2 + (yy[win] - y) ** 2) / (2 * 0.7**2))
        rgb[win] += amplitude * sub[..., None]
    rgb[~disc] = 0
    return rgb.clip(0, 255).astype(np.uint8)


def test_point_sources_finds_stars_and_not_noise():
    starry = _sky((90, 95, 100), 300, 40, seed=1).max(axis=2)
    noise = _sky((90, 95, 100), 0, 0, seed=1).max(axis=2)
    yy, xx = np.mgrid[0:H, 0:W]
    inner = (xx - W / 2) ** 2 + (yy - H / 2) ** 2 <= 200**2  # the disc's edge stands over the black surround
    faint, sharp = night.point_sources(starry)
    # about half the stars fall in the inner disc (its share of the frame: 0.41); close pairs merge
    assert 90 <= int(faint[inner].sum()) <= 140 and 90 <= int(sharp[inner].sum()) <= 140
    nf, ns = night.point_sources(noise)
    assert int(nf[inner].sum()) < 5 and int(ns[inner].sum()) == 0


def test_a_clear_moonlit_sky_reads_clear_by_its_stars_and_overcast_stays(tmp_path: Path):
    # faint stars, under the daytime star rule's prominence: the old reading called this grey-blue sky cloud
    clear, overcast = tmp_path / "clear.png", tmp_path / "overcast.png"
    Image.fromarray(_sky((85, 92, 100), 1500, 25)).save(clear)
    Image.fromarray(_sky((120, 122, 124), 0, 0)).save(overcast)
    cfg = write_config(tmp_path / "c.toml", {"device": {"latitude": 40.4, "longitude": -3.7}})
    out = cielo("classify", "--json", "--at", "2024-01-26T00:00Z", str(clear), str(overcast), config=cfg)
    assert out.returncode == 0, out.stderr
    c, o = (json.loads(line) for line in out.stdout.splitlines())
    assert c["octas"] <= 2 and o["octas"] >= 6, (c, o)


def test_an_unsure_moonlit_answer_is_uncertain_and_keeps_its_octas(tmp_path: Path):
    between = tmp_path / "between.png"
    Image.fromarray(_sky((85, 92, 100), 120, 25)).save(between)
    cfg = write_config(tmp_path / "c.toml", {"device": {"latitude": 40.4, "longitude": -3.7}})
    out = cielo("classify", "--json", "--at", "2024-01-26T00:00Z", str(between), config=cfg)
    got = json.loads(out.stdout)
    assert got["flag"] == "uncertain" and isinstance(got["octas"], int), got
    plain = cielo("classify", "--at", "2024-01-26T00:00Z", str(between), config=cfg)
    assert plain.stdout.startswith(f"{between}: {got['octas']} octas (confidence ") and ", uncertain)" in plain.stdout


def test_the_gate_is_unsure_between_a_clear_and_an_overcast_look():
    """A frame half way between the two looks (few sharp stars, middling brightness) is marked weak; the
    clear starry one and the bright starless one are not."""
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    looks = {"clear": _sky((85, 92, 100), 1500, 25), "overcast": _sky((130, 132, 134), 0, 0),
             "between": _sky((85, 92, 100), 120, 25)}
    unsure = {}
    for name, rgb in looks.items():
        frame = model.frame(Image.fromarray(rgb).resize((model.width, model.height)), rgb.max(axis=2))
        geom = model.geometry(frame)
        unsure[name] = night.gate_unsure(night.moonlit_read(frame, geom, model.maps(frame, geom).valid)[1])
    assert unsure == {"clear": False, "overcast": False, "between": True}, unsure


def test_a_star_must_stand_over_the_frames_own_noise():
    """A contrast-stretched overcast night: noise speckles clear the fixed 0.08 bar but not 6x the frame's own
    noise; real stars on a quiet sky still pass both."""
    rng = np.random.default_rng(5)
    noisy = np.clip(rng.normal(130, 14, (256, 256)), 0, 255).astype(np.uint8)
    speckles = noisy.astype(np.int16) * 8 - sum(np.roll(np.roll(noisy.astype(np.int16), i, 0), j, 1)
                                               for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0))
    assert (speckles > lens.STAR_PROMINENCE * 8 * 255).mean() > 0.01  # the fixed bar alone would pass many
    density = lens.star_density(noisy)
    assert density is None or float(density.mean()) < lens.STARRY_FRAME / 4
    quiet = np.clip(rng.normal(60, 2, (256, 256)), 0, 255).astype(np.uint8)
    ys, xs = rng.integers(2, 254, 600), rng.integers(2, 254, 600)
    quiet[ys, xs] = 200
    stars = lens.star_density(quiet)
    assert stars is not None and float(stars.mean()) > lens.STARRY_FRAME


def test_a_clipped_zenith_does_not_lower_the_noise_floor():
    """A brighter camera clips an overcast night's zenith: the plateau at white stands 0 over its neighbours by the
    clip, and counted in the frame's noise it pulled the floor under the sky's own noise, so the unclipped rim's
    grain passed as stars. Measured on the sky alone it does not; stars over that sky still count."""
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:256, 0:256]
    zenith = np.hypot(yy - 128, xx - 128) < 80  # about 31 % of the frame at white
    overcast = np.clip(rng.normal(170, 10, (256, 256)), 0, 255).astype(np.uint8)
    overcast[zenith] = 255
    density = lens.star_density(overcast)
    assert density is None or float(density.mean()) < lens.STARRY_FRAME / 4
    clear = np.clip(rng.normal(170, 3, (256, 256)), 0, 255).astype(np.uint8)
    clear[zenith] = 255
    ys, xs = rng.integers(2, 254, 1500), rng.integers(2, 254, 1500)
    keep = ~zenith[ys, xs]
    clear[ys[keep], xs[keep]] = 230
    stars = lens.star_density(clear)
    assert stars is not None and float(stars.mean()) > lens.STARRY_FRAME


def test_a_star_clipped_at_white_still_counts():
    """A brighter camera: the sky at 200 levels with the noise of a gain turned up, stars clipped at white with a
    near-white wing. Their step (8 x 25) is all the headroom white leaves, under 6x the noise but over half that
    headroom (lens.HEADROOM_SHARE): they count; the noise between them does not."""
    rng = np.random.default_rng(7)
    sky = np.clip(rng.normal(200, 7, (256, 256)), 0, 255).astype(np.uint8)
    ys, xs = np.mgrid[8:248:12, 8:248:12]
    ys, xs = ys.ravel(), xs.ravel()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            sky[ys + dy, xs + dx] = 230
    sky[ys, xs] = 255
    lead = 8 * 255 - 8 * 230
    noise = sky.astype(np.int16) * 8 - sum(np.roll(np.roll(sky.astype(np.int16), i, 0), j, 1)
                                           for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0))
    floor = lens.STAR_NOISE_K * float(np.median(np.abs(noise[::2, ::2])))
    assert lens.STAR_PROMINENCE * 8 * 255 < lead < floor  # the noise floor alone would lose every star
    density = lens.star_density(sky)
    assert density is not None and float(density.mean()) > lens.STARRY_FRAME
    between = np.clip(rng.normal(200, 7, (256, 256)), 0, 255).astype(np.uint8)
    quiet = lens.star_density(between)
    assert quiet is None or float(quiet.mean()) < lens.STARRY_FRAME / 4


def test_moonlit_read_gives_the_gate_that_decided():
    """night.moonlit_read hands back the gate's probability with its octas (the confidence's rule_near reads it):
    the clear starry look passes GATE_CLEAR and is read by its stars, the bright starless one does not."""
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    got = {}
    for name, rgb in {"clear": _sky((85, 92, 100), 1500, 25), "overcast": _sky((130, 132, 134), 0, 0)}.items():
        frame = model.frame(Image.fromarray(rgb).resize((model.width, model.height)), rgb.max(axis=2))
        geom = model.geometry(frame)
        valid = model.maps(frame, geom).valid
        got[name] = night.moonlit_read(frame, geom, valid)
    (clear_octas, clear_p), (overcast_octas, overcast_p) = got["clear"], got["overcast"]
    assert clear_p > night.GATE_CLEAR and clear_octas is not None and clear_octas <= 2, got
    assert overcast_p < night.GATE_CLEAR and overcast_octas is None, got


def _night_maps(stars: np.ndarray) -> float:
    """The share of the octa area read clear by the star rule on a grey night frame with this star density."""
    h, w = stars.shape
    px = np.full((3, h, w), 110, dtype=np.uint8)  # grey: cloud by colour everywhere
    out = lens.maps(px, _GEOM, lens.Reference(), stars=stars.astype(np.float32))
    sel = out.valid > 0
    return float((out.threshold[sel] < -0.5).mean())


_GEOM = lens.Lens(79.5, 59.5, 55.0, 55.0, 160, 120, True)


def _in_octa_area(stars: np.ndarray) -> float:
    return float(stars[_GEOM.rho() <= lens.OCTA_RADIUS].mean())


def test_the_window_bar_falls_toward_the_horizon_with_the_airmass():
    bar = lens.horizon_bar(np.array([0.0, 0.5, 0.8, 0.85], dtype=np.float32))
    assert bar[0] == np.float32(lens.STARS_CLEAR) and bool(np.all(np.diff(bar) < 0))
    # LenghuSky's clear dark nights keep about half the zenith's star density at rho 0.75-0.85
    assert 0.4 < bar[2] / bar[0] < 0.6


def test_a_clear_night_whose_stars_thin_toward_the_horizon_reads_clear():
    stars = 1.6 * lens.horizon_bar(_GEOM.rho())
    assert _in_octa_area(stars) > lens.THIN_VEIL * lens.STARRY_FRAME
    assert float(stars[_GEOM.rho() > 0.75].min()) < lens.STARS_CLEAR  # one bar for the whole sky: the rim was cloud
    assert _night_maps(stars) == 1.0


def test_a_veil_that_lets_a_few_stars_through_everywhere_reads_cloud_and_a_gap_stays_clear():
    veil = 1.2 * lens.horizon_bar(_GEOM.rho())  # every star dimmed alike: fewer everywhere
    assert lens.STARRY_FRAME < _in_octa_area(veil) < lens.THIN_VEIL * lens.STARRY_FRAME
    assert _night_maps(veil) == 0.0
    broken = np.full((120, 160), lens.STARRY_FRAME / 2)
    broken[:, 100:] = lens.STARS_CLEAR * 2.2  # a gap with a clear night's stars
    assert lens.STARRY_FRAME < _in_octa_area(broken) < lens.THIN_VEIL * lens.STARRY_FRAME
    assert 0.2 < _night_maps(broken) < 0.6


def _vignetted_night(level: float, step: float, rim: float, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A starry night through a cheap lens: sky `level` at the centre, single-pixel stars `step` levels over it,
    both falling as 1 - rim x rho^2 (a vignette); (brightness uint8, inner disc, outer ring) at 256 x 256."""
    rng = np.random.default_rng(seed)
    n = 256
    yy, xx = np.mgrid[0:n, 0:n]
    rho2 = ((xx - n / 2) ** 2 + (yy - n / 2) ** 2) / 120.0**2
    sky = np.full((n, n), level) + rng.normal(0, 1.0, (n, n))
    ys, xs = rng.integers(3, n - 3, 1500), rng.integers(3, n - 3, 1500)
    sky[ys, xs] += step
    img = sky * (1.0 - rim * np.minimum(rho2, 1.0))
    img[rho2 > 1.0] = 0
    return img.clip(0, 255).astype(np.uint8), rho2 <= 0.3**2, (rho2 >= 0.7**2) & (rho2 <= 0.9**2)


def test_stars_at_a_vignetted_rim_are_still_found():
    """A lens that loses 40 % of its light at the rim dims the stars there with the sky: the fixed step lost them
    (the rim's stars stand 18-21 levels over a sky of 88-104, about the dark-night bar's 20). The sky there is
    darker than the reference camera's darkest night sky, so the bar follows it down and they count as at the
    centre, where the bar is the reference camera's."""
    bright, inner, outer = _vignetted_night(130, 26, 0.4)
    stars = lens.star_density(bright)
    assert stars is not None
    centre, rim = float(stars[inner].mean()), float(stars[outer].mean())
    assert centre > 0.01 and rim > 0.7 * centre, (centre, rim)
    # the same for the moonlit detector: faint stars at the rim of a darker, moonlit sky
    bright, inner, outer = _vignetted_night(80, 8, 0.4)
    faint, _ = night.point_sources(bright)
    centre, rim = float(faint[inner].mean()), float(faint[outer].mean())
    assert centre > 0.01 and rim > 0.7 * centre, (centre, rim)


def test_a_bright_sky_keeps_the_reference_bars():
    """The bars only ever fall: a sky as bright as the reference camera's nights keeps its steps, so speckles
    under them stay no stars."""
    bright, inner, _ = _vignetted_night(140, 15, 0.0)
    assert lens.star_gain(bright, lens.STAR_SKY_REF) is None
    stars = lens.star_density(bright)
    assert stars is None or float(stars[inner].mean()) < 0.001


def _lumpy(rgb: np.ndarray, amplitude: float, cells: int = 400, seed: int = 3) -> np.ndarray:
    """Moonlit cloud cells over a lens disc: Gaussian billows (sigma 3 px) `amplitude` levels brighter at their
    centres, the stars left where they were."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W]
    lit = np.zeros((H, W))
    for _ in range(cells):
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        win = (slice(max(int(y) - 9, 0), int(y) + 10), slice(max(int(x) - 9, 0), int(x) + 10))
        lit[win] += amplitude * np.exp(-((xx[win] - x) ** 2 + (yy[win] - y) ** 2) / (2 * 3.0**2))
    out = rgb.astype(np.float64) + lit[..., None] * (rgb.max(axis=2, keepdims=True) > 0)
    return out.clip(0, 255).astype(np.uint8)


def test_lit_lumpy_cloud_that_looks_clear_to_the_gate_is_not_read_by_its_stars(monkeypatch: pytest.MonkeyPatch):
    """A broken or cirrocumulus deck under the moon: its lit cells throw local maxima that pass as faint stars, so
    the star read called it 1 octa. The gate cannot see it (stars, a dark median, a blue cast); its texture after
    the point sources are opened away can, and the colour reading stands. A smooth starry sky still reads clear."""
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    got = {}
    for name, rgb in {"clear": _sky((85, 92, 100), 1500, 25), "lumpy": _lumpy(_sky((85, 92, 100), 1500, 25), 80)
                      }.items():
        frame = model.frame(Image.fromarray(rgb).resize((model.width, model.height)), rgb.max(axis=2))
        geom = model.geometry(frame)
        tex = night.texture(frame, geom)
        octas, p = night.moonlit_read(frame, geom, model.maps(frame, geom).valid)
        got[name] = (tex, octas, p)
    (clear_tex, clear_octas, clear_p), (lumpy_tex, lumpy_octas, lumpy_p) = got["clear"], got["lumpy"]
    assert clear_p > night.GATE_CLEAR and lumpy_p > night.GATE_CLEAR, got  # both look clear to the gate
    assert clear_tex is not None and clear_tex < night.TEXTURE_BAR and clear_octas is not None and clear_octas <= 2
    assert lumpy_tex is not None and lumpy_tex > night.TEXTURE_BAR and lumpy_octas is None, got
    # without the texture bar the same frame is read by its cells as if they were stars
    monkeypatch.setattr(night, "TEXTURE_BAR", float("inf"))
    lumpy = _lumpy(_sky((85, 92, 100), 1500, 25), 80)
    frame = model.frame(Image.fromarray(lumpy).resize((model.width, model.height)), lumpy.max(axis=2))
    geom = model.geometry(frame)
    assert night.moonlit_read(frame, geom, model.maps(frame, geom).valid)[0] is not None


def test_texture_takes_out_point_stars_and_reads_none_without_sky():
    """Stars alone (single bright points) leave a smooth sky smooth; a frame with no lit sky has no texture."""
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    plain, starry = _sky((85, 92, 100), 0, 0), _sky((85, 92, 100), 3000, 60)
    tex = []
    for rgb in (plain, starry):
        frame = model.frame(Image.fromarray(rgb).resize((model.width, model.height)), rgb.max(axis=2))
        tex.append(night.texture(frame, model.geometry(frame)))
    assert tex[0] is not None and tex[1] is not None and tex[1] < night.TEXTURE_BAR / 3, tex
    black = np.zeros((H, W, 3), dtype=np.uint8)
    frame = model.frame(Image.fromarray(black).resize((model.width, model.height)), black.max(axis=2))
    assert night.texture(frame, model.geometry(frame)) is None
