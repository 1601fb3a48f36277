"""decided.shift: the bar moves to where the most frames read clear or overcast."""

import numpy as np

from cielo.sources.skycam import decided


def _frames(seed: int) -> tuple[list[np.ndarray], list[int]]:
    # per frame, its pixels' NRBR less the unmoved bar: 20 clear skies from well over the bar to far over it, 10
    # grey overcast decks well under it, 15 pale decks about it (the unmoved bar reads some of them broken) and
    # 5 broken skies (half clear sky, half grey cloud)
    rng = np.random.default_rng(seed)
    clear = [rng.normal(level, 0.03, 500) for level in np.linspace(0.1, 0.2, 20)]
    grey = [rng.normal(-0.1, 0.03, 500) for _ in range(10)]
    pale = [rng.normal(level, 0.02, 500) for level in np.linspace(-0.01, 0.03, 15)]
    broken = [np.concatenate([rng.normal(0.15, 0.03, 250), rng.normal(-0.1, 0.03, 250)]) for _ in range(5)]
    excess = clear + grey + pale + broken
    return excess, [e.size for e in excess]


def test_pale_overcast_decks_move_the_bar_up_over_them_and_under_the_palest_clear_sky():
    for seed in range(3):
        excess, counted = _frames(seed)
        moved, read, before, chance = decided.shift(excess, counted, -0.05, 0.075)
        assert 0.04 <= moved <= 0.07
        # every clear and overcast frame reads so, the broken ones stay broken, and that is no chance
        assert read == 45 and before < read and chance < decided.SIGNIFICANCE


def test_too_few_frames_or_no_room_leave_the_bar():
    excess, counted = _frames(3)
    few = decided.MIN_FRAMES - 1
    assert decided.shift(excess[:few], counted[:few], -0.05, 0.075)[0] == 0.0
    assert decided.shift(excess, counted, 0.01, 0.075)[0] == 0.0  # the range must hold the unmoved bar


def test_a_gain_of_a_frame_or_two_is_chance():
    assert decided.sign_test(2, 0) > decided.SIGNIFICANCE  # two more frames decided: a coin does that a time in 4
    assert decided.sign_test(7, 1) < decided.SIGNIFICANCE
    assert decided.sign_test(0, 0) == 1.0
