"""A camera with less colour than ours and the lens fit (find_lens, FAINT_GREEN): frames made here, never datasets.

ARM TSI's mirror shows its horizon as a thin teal rim, then the olive ground reflected in the mirror, then the
white housing: only the rim stops the rays. A camera rendering colour at 0.7 (research/camera_shift.py) puts
the rim under the green bar and every ray ran to the frame's border: no lens, the ground ring read as sky."""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import lens

W, H = 160, 120
CX, CY, RX, RY = 80.0, 60.0, 70.0, 48.0
SKY = (75, 140, 175)
FAINT_RIM = (150, 165, 150)  # green by 15 of 165: under the bar (16.5), over half of it
OLIVE = (125, 118, 80)  # the ground in the mirror: neither green nor dark
HOUSING = (235, 235, 230)


def _mirror(rim: tuple[int, int, int]) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    rho = np.hypot((xx - CX) / RX, (yy - CY) / RY)
    img = np.empty((H, W, 3), dtype=np.uint8)
    img[:] = HOUSING
    img[rho <= 1.25] = OLIVE
    img[rho <= 1.04] = rim
    img[rho <= 1.0] = SKY
    return np.ascontiguousarray(img.transpose(2, 0, 1))


def test_a_faint_rim_still_ends_the_rays():
    px = _mirror(FAINT_RIM)
    assert not lens.not_sky(px, dark_too=False)[int(CY), int(CX + RX + 1)]  # under the full bar
    g = lens.find_lens(px)
    assert g.found, g
    assert abs(g.cx - CX) < 3 and abs(g.cy - CY) < 3, g
    assert abs(g.rx - RX) < 4 and abs(g.ry - RY) < 4, g


def test_without_any_rim_the_frame_stays_all_sky():
    # nothing green even at half the bar: no surround, as before (the faint fit is no looser a lens finder;
    # faint green patches in a crop: test_lens_tinted.py)
    assert not lens.find_lens(_mirror(OLIVE)).found



TEAL_RIM = (140, 160, 150)  # the rim at less colour: green under the bar, over half of it, blue over red
TREES = (138, 150, 120)  # trees on the ground ring, half way round: as faint, blue under red (not tinted sky)


def test_a_faint_rim_keeps_its_fit_when_the_tinted_one_fails():
    # At half the green bar the fit through the tinted sky (the teal rim let through) can win on its own ray
    # ends, trees beyond the rim on one side, and still fail the lone-fit bar on the faint ends, where the plain
    # faint fit passes it: the frame kept no lens and its ground ring was read as cloud (TSI 2018-04-18 at
    # saturation 0.7, 3-4 octas on a clear afternoon)
    px = _mirror(TEAL_RIM)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    rho = np.hypot((xx - CX) / RX, (yy - CY) / RY)
    trees = (rho >= 1.12) & (rho <= 1.2) & (yy > CY)
    px[:, trees] = np.array(TREES, dtype=np.uint8)[:, None]
    faint = lens.not_sky(px, faint=True)
    tinted = lens._tinted_fit(px, faint, lens._fit_lens(px, faint), faint=True)
    assert tinted.found and tinted.rx > 1.08 * RX, tinted  # the trees' fit won ...
    assert lens._support(faint, tinted) < lens.MIN_SUPPORT * lens.RAYS  # ... and cannot stand alone
    g = lens.find_lens(px)
    assert g.found, g
    assert abs(g.cx - CX) < 3 and abs(g.cy - CY) < 3, g
    assert abs(g.rx - RX) < 4 and abs(g.ry - RY) < 4, g


def test_a_thin_broken_faint_rim_still_ends_the_rays():
    # at half the bar only the rim's most coloured pixels pass: a line a pixel wide with gaps, which rays (ended
    # by a run of 2) crossed to the olive ring's edge with the housing, their ends split between the two rings
    img = _mirror(FAINT_RIM).transpose(1, 2, 0).copy()
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    rho = np.hypot((xx - CX) / RX, (yy - CY) / RY)
    img[(rho > 1.0) & (rho <= 1.04)] = OLIVE
    line = (np.abs(rho - 1.02) < 0.5 / min(RX, RY) + 0.003) & ((np.rint(xx) + np.rint(yy)) % 3 != 0)
    img[line] = FAINT_RIM
    img[(rho > 1.25) & (rho <= 1.28)] = FAINT_RIM  # the ring's edge with the housing, as faint
    px = np.ascontiguousarray(img.transpose(2, 0, 1))
    g = lens.find_lens(px)
    assert g.found, g
    assert abs(g.cx - CX) < 3 and abs(g.cy - CY) < 3, g
    assert abs(g.rx - RX) < 4 and abs(g.ry - RY) < 4, g
