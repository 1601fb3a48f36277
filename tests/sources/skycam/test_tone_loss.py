"""research/tone_loss.py names the rule that decided a verdict: a camera look's losses by rule rest on it."""

from __future__ import annotations

from cielo.sources.skycam import confidence
from cielo.sources.skycam.model import Verdict
from research.tone_loss import in_class, rule_of


def _verdict(octas, flag=None, light="day", star_read=False, star_rule=False) -> Verdict:
    ev = confidence.Evidence(probs=(1.0,), star_rule=star_rule, star_read=star_read, gate_unsure=False, site=True)
    return Verdict(octas, None if octas is None else 1.0, None, flag, light=light, evidence=ev)


def test_the_rule_that_decided_a_verdict():
    assert rule_of(_verdict(None, "night", "moonlit night"), []) == "gate-night"
    # a late rule that fired decides over what the graph read
    assert rule_of(_verdict(7, "uncertain"), ["veil"]) == "veil"
    assert rule_of(_verdict(7, "uncertain", "moonlit night", star_read=True), ["haze", "lowsun"]) == "lowsun"
    assert rule_of(_verdict(1, None, "moonlit night", star_read=True, star_rule=True), []) == "moon-stars"
    assert rule_of(_verdict(0, None, "dark night", star_rule=True), []) == "star-rule"
    assert rule_of(_verdict(8, None, "twilight"), []) == "twilight-rise"
    assert rule_of(_verdict(8), []) == "colour"


def test_in_class_is_the_benchs_column():
    assert in_class(2, 2) and not in_class(2, 3) and not in_class(0, None)
    assert in_class(6, 8) and not in_class(7, 5)
