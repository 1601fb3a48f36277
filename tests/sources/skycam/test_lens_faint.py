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

