"""How sure a verdict is, per light: the model's probabilities sharpened or widened by a temperature fitted
per regime (bench/classify_regimes.py measures the ECE), and the rule that marks an answer `uncertain`.

An answer is weak when its probabilities are spread (its cloud fraction sits between two octas, many pixels sit
near the threshold, or its light's answers are often wrong); a moonlit answer also when night.py's gate could
not tell a clear look from an overcast one."""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import regime

# (temperature T, weight w): p ** (1 / T) renormalised, then w of it and 1 - w spread evenly over the 9
# octas. Fitted for the least ECE (5 equal-count bins) on the development frames (TSI 2017-05-24 and
# 2018-04-18, LenghuSky 2018-2020; bench/classify_regimes.py), the worse of the two cameras; None: a frame
# of unknown time, whatever light. By day the identity is best (TSI 0.10, LenghuSky 0.095).
# Dark night refitted with the moonlit star rule in place (1.0, 0.6) -> (0.75, 0.5): LenghuSky ECE 0.093 ->
# 0.078; moonlit (1.0, 0.7) still best (0.050). Neither this family nor a monotone map of the top probability
# per light (pooled over both cameras) brings day under 0.095 on LenghuSky: the cameras differ.
SHAPE = {None: (0.75, 0.75), regime.DAY: (1.0, 1.0), regime.TWILIGHT: (1.75, 0.75),
         regime.MOONLIT: (1.0, 0.7), regime.DARK: (0.75, 0.5)}
# Lights whose every answer is weak: none since moonlit nights are read by their stars (night.py; its gate
# marks the unsure ones). With every moonlit answer flagged LenghuSky 2018-2020 (timed) had 32 % uncertain
# at 2.4x the error of the rest; with the gate's 0.2..0.7 band 23 % at 3.1x. Any answer whose calibrated top
# probability is under WEAK_CONFIDENCE is weak too (0.35 and 0.4 flag more for less).
WEAK_LIGHTS: tuple[str, ...] = ()
WEAK_CONFIDENCE = 0.3


def calibrated(p: np.ndarray, light: str | None) -> np.ndarray:
    temperature, weight = SHAPE.get(light, SHAPE[None])
    p = np.clip(p, 1e-12, None) ** (1.0 / temperature)
    return weight * p / p.sum() + (1.0 - weight) / p.size


def weak(p: np.ndarray, light: str | None) -> bool:
    return light in WEAK_LIGHTS or float(p.max()) < WEAK_CONFIDENCE
