"""Daylight seen in a frame whose time is unknown: the sun's disc high in a blue sky it lights, on a quiet sensor.

Without its time a frame gets none of the day rules (lens.maps daylit, the veil, haze), and a day frame judged
blind loses most of what its time gives (LenghuSky 2018-2019 day frames in class 187 -> 197 of 206 when told
"day"). Calling a twilight or night frame day is the costly mistake (the day rules raise a cloudless frame with
no blue sky to a deck), and LenghuSky's moonlit nights look like days (long exposures, the moon a clipped disc,
the sky contrast-stretched to a day's brightness), so a frame is called day only when all of these hold:

- a disc (lens.find_sun) at least DISC_RHO in from the rim: the sun at 18° or more. A twilight frame has no sun
  in view; what lights up near its rim is the glow, city light or a low moon.
- an aureole: the sky just round the disc (AUREOLE_RING lens radii) AUREOLE times as bright as the sky far
  from it. The disc lights the air round it (forward scattering); a moon in a twilight sky does not stand out
  of the glow that lights the whole sky (LenghuSky 2018-2019: sun-lit days 1.14-1.99, median 1.73; a moon at
  twilight 0.76-1.67, median 1.02).
- a blue sky: the octa area's blue over its red by BLUE_SKY of full scale. Moonlit air scatters the same blue,
  but a night exposure adds the sensor's and the night sky's own grey light to it (LenghuSky 2018-2019 moonlit
  frames with a disc: median 0.03; sun-lit days 0.13).
- ... bluer far from the disc than in its aureole: ln(B / R) of the far sky over the aureole's by WHITER_AUREOLE
  (Rayleigh blue away from the sun, the aureole's forward scattering white). A ratio, so a camera's white
  balance cannot make it: through research/camera_shift.py "wb cool" (blue x1.1, red x0.9) the blue bar alone
  let 18 moonlit 2018-2019 frames through and turned one overcast moonlit frame clear; at 0.2, 3 and none.
  Waived for a veiled sun (below): its far sky is often paler than the bar (haze, thin cloud, a low horizon).
- a quiet sensor: the pixel noise (on the decoded brightness, as lens._noise) under QUIET of the sky's median
  level. Night frames are taken at high gain or long exposure (LenghuSky 2018-2019 moonlit frames with a disc:
  0.006-0.024, median 0.013; sun-lit days 0.004-0.018, median 0.010; dark nights 0.02 and over).

A veiled sun stands in for bar 4: a disc the camera did not clip (under CLIPPED_SHARE of the lens at full
scale) whose light is neutral (|ln(B / R)| within DISC_RING of it under NEUTRAL_DISC). The sun behind haze or thin
cloud is a soft plateau of white (Mie scattering keeps its colour; the veiled days' discs: ln(B / R) -0.001 to
0.006); a moon bright enough to find in an exposure that lifts the sky to a day's level is clipped hard (LenghuSky
2018-2019 moonlit frames with a disc within 0.8: 33 of 39 clip 0.2 % of the lens or more, median 3.2 %). Neutral,
as the disc is the scene's white: a camera's colour cast (what would make a moonlit sky pass bar 3) tints an
unclipped disc as much as the sky, and a camera that balances before it clips renders a moon white and clipped
(the clipped test holds it).

Chosen on LenghuSky 2018-2019 and its camera_shift looks (docs/design.md, "A daylit frame without its time").
A frame without a disc (an overcast day) stays blind: there is no default elevation, as nothing says day.
"""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import lens

DISC_RHO = 0.8  # the disc within this share of the lens radius: the sun 18° or more up (equidistant fisheye)
AUREOLE_RING = (0.2, 0.35)  # lens radii from the disc: the aureole's ring (inside 0.2: the disc's own glare)
AUREOLE_FAR = 0.8  # ... against the sky farther than this from the disc, inside the octa area
AUREOLE = 1.4
BLUE_SKY = 0.06
WHITER_AUREOLE = 0.2  # ln(B / R): the far sky's over the aureole's
QUIET = 0.012
CLIPPED_SHARE = 0.002  # the veiled sun: under this share of the lens at full scale (min(R, G, B) >= lens.SUN_LEVEL)
DISC_RING = 0.1  # ... its light: the sky within this many lens radii of the disc
NEUTRAL_DISC = 0.05  # ... |ln(B / R)| there under this
MIN_FAR = 50  # pixels of far sky needed to measure the aureole against


def noise_share(bright: np.ndarray) -> float:
    """The pixel noise of a brightness image (uint8) as a share of its lit sky's median level: lens._noise's median
    |8 x pixel - its 8 neighbours' sum| / 8, on every 2nd row and column (only those pixels' neighbourhoods are
    summed: this runs on every blind frame)."""
    h, w = bright.shape
    if h < 4 or w < 4:
        return float("inf")
    p = bright.astype(np.int16)
    centre = p[1 : h - 1 : 2, 1 : w - 1 : 2]
    hs, ws = centre.shape
    total = np.zeros_like(centre)
    for i in (0, 1, 2):
        for j in (0, 1, 2):
            if i == 1 and j == 1:
                continue
            total += p[i : i + 2 * hs : 2, j : j + 2 * ws : 2]
    lit = lens.noise_lit(centre, total)
    if np.count_nonzero(lit) < 100:
        return float("inf")
    step = np.abs(centre[lit] * 8 - total[lit])
    sky = centre[lit & (centre < lens.WHITE)]
    if sky.size < 100:
        return float("inf")
    return float(np.median(step)) / 8 / max(float(np.median(sky)), 1.0)


def seen(pixels: np.ndarray, geom: lens.Lens, bright: np.ndarray | None = None) -> float | None:
    """The sun's elevation (degrees, from its place in the lens: 90 x (1 - rho)) when a frame (uint8 [3, H, W]) is
    plainly daylit, else None. `bright`: max(R, G, B) at the decoded size, where the noise is measured."""
    if not geom.found:
        return None
    rho = geom.rho()
    inside = rho <= 1.0
    area = rho <= lens.OCTA_RADIUS
    if np.count_nonzero(area) < 100:
        return None
    red, blue = pixels[0][area], pixels[2][area]
    if (float(blue.mean()) - float(red.mean())) / 255.0 < BLUE_SKY:
        return None
    darkest = np.minimum(np.minimum(pixels[0], pixels[1]), pixels[2])
    sun = lens.find_sun(darkest, inside)
    if sun is None:
        return None
    r = float(np.hypot((sun[0] - geom.cx) / geom.rx, (sun[1] - geom.cy) / geom.ry))
    if r > DISC_RHO:
        return None
    dist = lens.sun_distance(geom, sun)
    top = np.maximum(np.maximum(pixels[0], pixels[1]), pixels[2])
    ring = inside & (dist >= AUREOLE_RING[0]) & (dist < AUREOLE_RING[1])
    far = area & (dist > AUREOLE_FAR)
    if np.count_nonzero(ring) < MIN_FAR or np.count_nonzero(far) < MIN_FAR:
        return None
    if float(top[ring].mean()) < AUREOLE * float(top[far].mean()):
        return None
    if _blue_red(pixels, far) - _blue_red(pixels, ring) < WHITER_AUREOLE and not veiled_sun(
            darkest, pixels, inside, dist):
        return None
    if noise_share(top if bright is None else bright) > QUIET:
        return None
    return 90.0 * (1.0 - r)


def veiled_sun(darkest: np.ndarray, pixels: np.ndarray, inside: np.ndarray, dist: np.ndarray) -> bool:
    """The disc a soft white plateau (the sun behind haze or thin cloud), not a clipped blob (a moon in a long
    exposure) nor tinted (a camera's colour cast): see the module's docstring."""
    clipped = np.count_nonzero((darkest >= int(lens.SUN_LEVEL * 255)) & inside)
    if clipped >= CLIPPED_SHARE * np.count_nonzero(inside):
        return False
    disc = inside & (dist < DISC_RING)
    return bool(np.count_nonzero(disc)) and abs(_blue_red(pixels, disc)) < NEUTRAL_DISC


def _blue_red(pixels: np.ndarray, where: np.ndarray) -> float:
    """The mean of ln(B / R) over a region (levels + 1): a camera's white balance adds the same to it everywhere."""
    return float(np.mean(np.log((pixels[2][where].astype(np.float32) + 1) / (pixels[0][where].astype(np.float32) + 1))))
