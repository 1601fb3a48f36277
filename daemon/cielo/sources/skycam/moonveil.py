"""A moonlit sky the gate reads as clear, seen through a veil: too few faint stars for a clear sky under a dim moon.

A veil over the whole sky dims every star alike and leaves some through everywhere, so the moonlit star read
(night.moonlit_read: a window with any faint stars is open sky) reads it 0-2 octas. Over the whole frame it shows
fewer faint stars than a clear sky under the same moon: the moon's light (illuminated share x sin altitude) sets the
sky's brightness and with it the faintest star a clear frame shows. Under a dim moon (MOON_LIGHT) a clear sky keeps
many (LenghuSky-8 2018-2019 clear moonlit frames the gate passes: 14.0-48.5 per mille of the octa area), the veils
read clear 7.2-10.6 (and two with 16.7 and 21.0 that look clear by this too); with a brighter moon the clear frames'
floor falls to 9.4, into the veils' range: the rule stays off there. A frame under VEIL_SHARE keeps its colour
reading (as the texture veto's). Needs the frame's time (the moon), not a calibration; figures: docs/design.md
(Veiled moonlit skies by their faint stars under a dim moon).
"""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import lens

MOON_LIGHT = 0.3  # illuminated x sin(altitude): under this the moon is dim enough for a clear sky's many faint stars
VEIL_SHARE = 0.011  # faint-star pixels over the octa area: a clear sky under a dim moon shows more
SATURATED = 250  # the moon and its glare: no sky to count stars on


def moon_light(illuminated: float, altitude_deg: float) -> float:
    return float(illuminated) * max(float(np.sin(np.radians(altitude_deg))), 0.0)


def faint_share(faint: np.ndarray, bright: np.ndarray, geom: lens.Lens) -> float | None:
    """Share of faint-star pixels over the octa area (glare out); None with too little sky."""
    h, w = bright.shape
    area = bright < SATURATED
    if geom.found:
        area &= geom.scaled(w, h).rho() <= lens.OCTA_RADIUS
    if int(area.sum()) < 100:
        return None
    return float(faint[area].mean())


def veiled(faint: np.ndarray, bright: np.ndarray, geom: lens.Lens, light: float | None) -> bool:
    """Under a dim moon (`light`: moon_light), too few faint stars for a clear sky: a veil; None light: unknown."""
    if light is None or light >= MOON_LIGHT:
        return False
    share = faint_share(faint, bright, geom)
    return share is not None and share < VEIL_SHARE
