"""How sure a verdict is, per light, and the rule that marks an answer `uncertain`.

Within one light the graph's top probability says little about which answers are right; what does is the kind
of answer (a clear or overcast sky is read right far more often than broken cloud, whose 2-6 octas are right
about one time in ten), how wide and lopsided the graph's distribution is (its width grows with the share of
pixels near the threshold), whether a site calibration was in use, and at night whether the stars decided
(night.py's star reading and its unsure gate, the dark-night star rule). A tiny logistic per light turns these
into the probability that the octas are exactly right; the distribution is then sharpened or widened by one
temperature per frame so that its top probability is that number: `probs` still sum to 1, `confidence` is
still their max, and the octas do not move.

The constants below are printed by `python -m models.fit_confidence --tsi DIR --lenghu DIR` (fitted on the
development frames only: ARM TSI 2017-05-24 and 2018-04-18, LenghuSky-8 2018-2020; it reports the 2-fold by
time figures first); re-run it and paste its output whenever the classifier changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cielo.sources.skycam import lens, regime

# Answer kinds: clear, one octa, broken (2-6), seven, overcast.
KINDS = ((0,), (1,), (2, 3, 4, 5, 6), (7,), (8,))
# The evidence, in the order of each light's weights (after 1 and the five kinds): the logit of the graph's
# top probability; the distribution's standard deviation (octas) for a clear, one-octa, broken and overcast
# answer; its mean less the octas (lopsided towards more cloud: > 0); its entropy (nats: how spread it is over
# every octa, not only the top's neighbours; see design, "Confidence: the distribution's entropy"); a site
# calibration behind a 0-1 octa
# answer; the moonlit star reading lowered the octas; the moonlit gate was unsure; the dark-night star rule acted;
# how near the light's deciding rule sat to its bar (rule_near).
FEATURES = ("logit_top", "sd_clear", "sd_one", "sd_broken", "sd_overcast", "skew", "entropy", "site_clear", "star_read",
            "gate_unsure", "star_rule", "rule_near")

# fitted: python -m models.fit_confidence (see above); moonlit's held toward the pooled fit of every light, its
# 111 development frames too few for weights of their own (fit_confidence.SHRINK)
WEIGHTS: dict[str | None, tuple[float, ...]] = {
    None: (-0.832, 1.112, -0.998, -1.599, -1.566, 3.050,
        -0.035, 1.827, -0.441, -0.327, -1.716, 0.340, -0.366, 0.000, 0.000, 0.000, 1.576, 0.000),
    regime.DAY: (2.249, 0.372, -0.301, 0.276, -1.288, 0.943,
        0.105, -1.055, -1.211, -1.776, -0.425, 0.503, -2.868, 0.000, 0.000, 0.000, 0.000, 0.000),
    regime.TWILIGHT: (0.562, 0.780, -0.984, -1.350, 0.000, 1.556,
        0.053, -0.253, -0.072, 0.113, 0.060, 0.115, -0.322, 0.031, 0.000, 0.000, 0.000, -0.946),
    regime.MOONLIT: (2.741, 1.447, -0.548, -0.512, -1.043, 1.040,
        -0.295, -0.901, -1.668, -1.016, -1.331, -0.391, -2.646, 0.519, -1.455, 0.967, -0.522, -2.063),
    regime.DARK: (-1.644, 3.037, -1.763, -2.024, -2.256, 3.004,
        0.213, 0.973, -0.585, -1.203, 0.807, 1.272, -0.517, 0.025, 0.000, 0.000, 2.164, 0.000),
}
# rule_near: 1 at the bar of the rule that decided a twilight or moonlit answer, falling to 0 this far from it (in
# the rule's own measure): twilight, night.rises' whole-sky rise against night.HORIZON_RISE (clear twilight skies sit at
# 0.4-2.4, overcast ones at -0.6-0.3 on LenghuSky 2018-2019); moonlit, the gate's log-odds against night.GATE_CLEAR's.
# Fitted with the rest: about -0.9 at twilight and -1.0 moonlit (the frames near a bar are the misses).
RISE_SPAN = 1.0
GATE_SPAN = 2.0
# A light whose answers change most under a site calibration has weights of its own for them (by day: TSI's
# 1-octa answers are right 39 % of the time without one, 81 % with); WEIGHTS then holds those without.
SITE_WEIGHTS: dict[str | None, tuple[float, ...]] = {
    regime.DAY: (2.257, 0.293, 0.940, 0.235, -1.181, -0.284,
        0.513, 1.018, -2.432, -0.673, 0.334, -1.179, -3.520, 0.370, 0.000, 0.000, 0.000, 0.000),
}
# An answer is weak (`uncertain`) when its confidence is under this, or when the moonlit gate was unsure.
# skyref-3.17's refit (a bluer frame's own split moved TSI's blind and timed answers) proposed 0.3: at 0.275 its
# out-of-fold weights would flag 3.8 % of TSI's timed answers, under the band.
WEAK_CONFIDENCE = 0.3
# ... an answer scored by a site calibration's own weights (SITE_WEIGHTS: by day), under this: a calibration
# sharpens those answers (TSI's exact share 60 -> 82 %), so the same bar would flag almost nothing on a camera
# it fits well (TSI: 4 %) while its few weak answers still carry several times the error of the rest. Both chosen
# by models/fit_confidence.py: the lowest bars that keep the flagged share per camera a point inside 5-35 %,
# the flagged answers' error at least 1.5 times the rest's (the lowest: the safety monitor closes the roof on
# an uncertain frame, clear nights' too). skyref-3.14's refit proposed 0.325 (out of fold: TSI calibrated 6.3 %);
# with the weights fitted on every development frame it flags 4.8 % of TSI's calibrated answers, under the band,
# so the bar stays at 0.375 (5.7 %, on 50 frames 5.1 %). skyref-3.15's refit proposed 0.325 again (the site
# weights unchanged), kept at 0.375 for the same reason; sessions 19's and 20's too (session 20's entropy refit:
# 0.275; at 0.375 out of fold TSI calibrated 7.9 %, LenghuSky 25.7 %). Session 23's refit (proposing 0.3) flags 4.8 %
# of TSI's calibrated answers at 0.375 on the bench, all frames and 50 alike; at 0.4 5.4 % (out of fold 7.6 %,
# LenghuSky 26.7 %), the lowest bar over the band there.
SITE_WEAK_CONFIDENCE = 0.4
# Never certain; never under an even spread's 1/9 either (no distribution over 9 octas has a lower top, and
# the octas must still show): broken skies, right 5-24 % of the time, sit at this floor.
CONFIDENCE_RANGE = (0.115, 0.98)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the classifier knew of one frame's weakness besides the top probability."""

    probs: tuple[float, ...]  # the graph's distribution (after a moonlit star reading), before shaping
    star_rule: bool  # a starry night: pixels among stars were called clear whatever their colour
    star_read: bool  # moonlit: the stars lowered the colour reading (night.py)
    gate_unsure: bool  # moonlit: the star gate could not tell a clear look from an overcast one
    site: bool  # a site calibration was in use
    rule_near: float = 0.0  # 0..1: how near the light's deciding rule sat to its bar (near_bar); 0: none decided
    sunlit: bool = False  # the frame as bright as only sunlight makes it (lens.SUNLIT_MEAN): scored_light

    @classmethod
    def of(cls, probs: np.ndarray, maps: lens.Maps, gate_unsure: bool, star_read: bool, site: bool,
           rule_near: float = 0.0, brightness: float = 0.0) -> Evidence:
        return cls(tuple(float(x) for x in probs), bool((maps.threshold < -0.5).any()), star_read, gate_unsure,
                   site, rule_near, brightness >= lens.SUNLIT_MEAN)


def scored_light(light: str | None, ev: Evidence) -> str | None:
    """The light whose weights score an answer: its own, but the day's for a frame judged without its time (and
    no daylight seen: TSI's shadow band hides the sun) that is as bright as only sunlight makes it. The light-less
    weights learn from LenghuSky's blind frames too, night's among them, whose broken answers are right far less
    often: they left TSI's blind answers under-confident (ECE 0.119 out of fold; 0.076 with the day's, as timed).
    The rules that read the octas still run light-less: only the confidence moves."""
    return regime.DAY if light is None and ev.sunlit else light


def near_bar(value: float | None, bar: float, span: float) -> float:
    """1 at the bar, falling linearly to 0 at `span` from it; 0 when the rule measured nothing."""
    if value is None or not math.isfinite(value):
        return 0.0
    return max(0.0, 1.0 - abs(value - bar) / span)


def gate_log_odds(p: float) -> float:
    q = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(q / (1 - q))


def features(ev: Evidence) -> np.ndarray:
    """The logistic's inputs for one answer: 1, the answer's kind (one-hot), then FEATURES."""
    p = np.asarray(ev.probs, dtype=np.float64)
    p = p / p.sum()
    octas = int(p.argmax())
    k = np.arange(p.size)
    mean = float((p * k).sum())
    sd = math.sqrt(float((p * (k - mean) ** 2).sum()))
    top = min(max(float(p[octas]), 1e-4), 1 - 1e-4)
    kind = [float(octas in group) for group in KINDS]
    clear, one, broken, _, overcast = kind
    entropy = -float((p * np.log(np.clip(p, 1e-12, 1.0))).sum())
    return np.array([1.0, *kind, math.log(top / (1 - top)), sd * clear, sd * one, sd * broken, sd * overcast,
                     mean - octas, entropy, float(ev.site) * (clear or one), float(ev.star_read), float(ev.gate_unsure),
                     float(ev.star_rule), ev.rule_near])


def probability_right(ev: Evidence, light: str | None) -> float:
    light = scored_light(light, ev)
    w = SITE_WEIGHTS.get(light) if ev.site else None
    z = float(features(ev) @ np.asarray(w or WEIGHTS.get(light, WEIGHTS[None])))
    c = 1.0 / (1.0 + math.exp(-min(max(z, -30.0), 30.0)))
    return min(max(c, CONFIDENCE_RANGE[0]), CONFIDENCE_RANGE[1])


def with_top(p: np.ndarray, target: float) -> np.ndarray:
    """p ** (1 / T) renormalised, T chosen (bisection on log T) so that its top probability is `target`; the
    argmax stays. A target out of reach (under 1/9, or over what ties allow) gets the nearest reachable.
    Plain floats: numpy's per-call overhead on 9 numbers made this 2 ms a frame."""
    logs = [math.log(max(float(x), 1e-12)) for x in p]
    peak = max(logs)
    logs = [x - peak for x in logs]  # the top's term is 1: top probability = 1 / sum

    def total(log_t: float) -> float:
        inv = math.exp(-log_t)
        return sum(math.exp(x * inv) for x in logs)

    lo, hi = -6.0, 8.0  # T from 0.0025 (all but one-hot) to 3000 (all but even)
    for _ in range(30):
        mid = (lo + hi) / 2
        if 1.0 / total(mid) > target:
            lo = mid  # too sharp: a higher temperature
        else:
            hi = mid
    inv = math.exp(-(lo + hi) / 2)
    q = np.exp(np.asarray(logs) * inv)
    return q / q.sum()


def shaped(p: np.ndarray, light: str | None, evidence: Evidence) -> tuple[np.ndarray, bool]:
    """(the distribution whose top probability is the calibrated confidence, whether the answer is weak)."""
    c = probability_right(evidence, light)
    return with_top(np.asarray(p, dtype=np.float64), c), (c < weak_bar(evidence.site, scored_light(light, evidence))
                                                          or evidence.gate_unsure)


def weak_bar(site: bool, light: str | None) -> float:
    return SITE_WEAK_CONFIDENCE if site and light in SITE_WEIGHTS else WEAK_CONFIDENCE
