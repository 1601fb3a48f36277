"""A twilight sky read clear by its colour and its light's shape, but lumpy: lit cloud.

The twilight rule (night.rises, lens.uniform_sky) finds a deck that is even or dims toward the horizon; it misses
broken or patchy decks whose cells are lit from below by the sun under the horizon or by the moon (white or pink
cells on a blue sky, brightest toward the glow like a clear sky). A clear twilight sky is smooth at a few pixels'
scale: its light and its colour change only over tens of degrees (the glow, the zenith's blue), while lit cloud
shows cells a few pixels across. Two measures of that roughness over the lit sky within TEXTURE_RHO of the lens
radius (levels 12-250: no surround, no glare), both after a 3x3 grey opening (stars and speckles out):

- light: the 75th percentile of |opened - its LIGHT_WINDOW box mean| / that mean, of the brightest channel;
- colour: the 75th percentile of |opened NRBR - its COLOUR_WINDOW box mean|.

Either over its bar: cloud. A twilight answer under OVERCAST_READ is moved up to it (veil.moved_up) and marked
uncertain: a rough sky says cloud is there, not how much. Needs the frame's time (the regime), not a calibration.

The bars sit a quarter above the most any clear twilight frame (0-2 octas) of LenghuSky-8 2018-2019 shows (light
1.97 %, colour 2.60 %); checked on 2020 (clear frames at most 1.88 % / 1.79 %). Not the sun's azimuth: on these
frames the glow of the misses' lit cloud lies toward the sun as a clear sky's does. Figures: docs/design.md
(Lumpy twilight cloud).
"""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import lens, night, regime

OVERCAST_READ = 6  # a twilight answer under this can be moved (veil.moved_up's level)
TEXTURE_RHO = 0.7  # lens radii: the rim's haze, the lens edge and the horizon's mast left out
LIGHT_WINDOW = 7  # px of the model's frame (160x120): a cell of lit cloud
COLOUR_WINDOW = 15
LIGHT_BAR = 0.025  # relative roughness of the light (clear 2018-2019 at most 0.0197)
COLOUR_BAR = 0.0325  # roughness of NRBR (clear 2018-2019 at most 0.0260)
LIT = (12, 250)
MIN_PIXELS = 100


def applies(light: str | None, octas: int) -> bool:
    """A twilight answer (time known) under OVERCAST_READ: the frame whose roughness is read."""
    return light == regime.TWILIGHT and octas < OVERCAST_READ


def roughness(px: np.ndarray, valid: np.ndarray, geom: lens.Lens) -> tuple[float, float] | None:
    """(light, colour) roughness of a uint8 [3, H, W] frame over its valid sky within TEXTURE_RHO; None without a
    lens circle or with too little lit sky."""
    if not geom.found:
        return None
    h, w = px.shape[1:]
    if (geom.width, geom.height) != (w, h):
        geom = geom.scaled(w, h)
    top = np.maximum(np.maximum(px[0], px[1]), px[2])
    sel = (valid > 0) & (top > LIT[0]) & (top < LIT[1]) & (geom.rho() <= TEXTURE_RHO)
    if int(sel.sum()) < MIN_PIXELS:
        return None
    smooth = night.opened(top.astype(np.float32))
    mean = night.box_sum(smooth, LIGHT_WINDOW) / np.float32(LIGHT_WINDOW * LIGHT_WINDOW)
    light = np.abs(smooth - mean)[sel] / np.maximum(mean[sel], np.float32(1.0))
    tint = night.opened(lens.nrbr(px))
    around = night.box_sum(tint, COLOUR_WINDOW) / np.float32(COLOUR_WINDOW * COLOUR_WINDOW)
    colour = np.abs(tint - around)[sel]
    return float(np.percentile(light, 75)), float(np.percentile(colour, 75))


def lumpy(measured: tuple[float, float] | None) -> bool:
    """Lit cloud: either roughness over its bar. `measured`: roughness()."""
    return measured is not None and (measured[0] > LIGHT_BAR or measured[1] > COLOUR_BAR)
