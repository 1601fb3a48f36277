"""How sure a verdict is, per light: the model's probabilities sharpened or widened by a temperature fitted
per regime (bench/classify_regimes.py measures the ECE), and the rule that marks an answer `uncertain`.

A moonlit-night answer is weak whatever the graph says, as is one whose probabilities are spread (its cloud
fraction sits between two octas, many pixels sit near the threshold, or its light's answers are often wrong)."""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import regime

# (temperature T, weight w): p ** (1 / T) renormalised, then w of it and 1 - w spread evenly over the 9
# octas. Fitted for the least ECE (5 equal-count bins) on the development frames (TSI 2017-05-24 and
# 2018-04-18, LenghuSky 2018-2020; bench/classify_regimes.py), the worse of the two cameras; None: a frame
# of unknown time, whatever light. By day the identity is best (TSI 0.10, LenghuSky 0.095).
# A dark night's confidence says little about which answers are right (ECE 0.31 -> 0.15 at best).
SHAPE = {None: (0.75, 0.75), regime.DAY: (1.0, 1.0), regime.TWILIGHT: (1.75, 0.75),
         regime.MOONLIT: (1.0, 0.7), regime.DARK: (1.0, 0.6)}
# A moonlit night's answer is weak whatever the graph says (colour reads a moonlit clear sky as cloud:
# LenghuSky 2018-2020 MAE 2.5, clear skies read <= 2 only 8 % of the time), and so is any answer whose
# calibrated top probability is under WEAK_CONFIDENCE. On the development frames this flags TSI 8 % blind / 6 %
# timed and LenghuSky 20 % / 32 %, carrying 2.0-2.7 times the error of the rest (0.35 and 0.4 flag more for
# less: LenghuSky timed 38 % and 42 %; twilight flagged too: 44 %)
WEAK_LIGHTS = (regime.MOONLIT,)
WEAK_CONFIDENCE = 0.3


def calibrated(p: np.ndarray, light: str | None) -> np.ndarray:
    temperature, weight = SHAPE.get(light, SHAPE[None])
    p = np.clip(p, 1e-12, None) ** (1.0 / temperature)
    return weight * p / p.sum() + (1.0 - weight) / p.size


def weak(p: np.ndarray, light: str | None) -> bool:
    return light in WEAK_LIGHTS or float(p.max()) < WEAK_CONFIDENCE
