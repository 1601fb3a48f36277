"""A calibration handed a narrow sample (one day, mostly clear days, a dozen overcast moonlit nights) keeps the model's
default for what the sample does not pin (cielo.sources.skycam.narrow), and the bench can hand it such samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bench.classify_regimes import pick
from cielo.sources.skycam import narrow
from cielo.sources.skycam import night as nights
from cielo.sources.skycam.calibration import fit
from cielo.sources.skycam.model import OctaModel
from models.skydata import Sample
from tests.sources.skycam.test_calibrate import SITE_COVERS, _site

NOON = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def model() -> OctaModel:
    return OctaModel()


def test_the_daylit_frames_must_span_more_than_one_daylight_period():
    day = [True] * 40
    one_day = [NOON + timedelta(minutes=10 * i) for i in range(40)]  # 6.5 h of one afternoon
    days = [NOON + timedelta(hours=7 * i) for i in range(40)]  # 11 days
    assert "one daylight period" in (narrow.day_spread(one_day, day) or "")
    assert narrow.day_spread(days, day) is None
    assert narrow.day_spread(None, day) is None and narrow.day_spread(days, None) is None  # nothing told
    # night frames do not spread it
    assert narrow.day_spread(days, [i < 3 for i in range(40)]) is not None


def test_a_split_of_few_frames_far_from_the_models_is_theirs(model: OctaModel, monkeypatch):
    """12 day frames that split at about 0.14 (test_calibrate): from a model's 0.3 that is too far for so few frames to
    say (their weather's), from a model's 0.16 it is the site's."""
    frames = [_site(model, i, SITE_COVERS[i % 6], (105, 187), (105, 187)) for i in range(12)]
    near = fit(frames, "test", 0.16)
    assert near.sky_threshold != 0.16 and abs(near.sky_threshold - 0.16) <= narrow.SPLIT_MOVE
    far = fit(frames, "test", 0.3)
    assert far.sky_threshold == 0.3 and "their weather's" in far.found["threshold"]
    monkeypatch.setattr(narrow, "SPLIT_MOVE", 1.0)
    assert fit(frames, "test", 0.3).sky_threshold == near.sky_threshold


def test_a_threshold_from_one_afternoon_is_the_models(model: OctaModel):
    """The site's frames split at their own threshold (test_calibrate); from frames of one afternoon it is that day's
    air, not the camera's: the model's threshold, the same frames spread over days keep the site's."""
    frames = [_site(model, i, SITE_COVERS[i % 6], (105, 187), (105, 187)) for i in range(30)]
    daylit: list[bool | None] = [True] * 30
    learned = fit(frames, "test", 0.14, daylit)
    assert learned.sky_threshold != 0.14
    one = fit(frames, "test", 0.14, daylit, [NOON + timedelta(minutes=10 * i) for i in range(30)])
    assert one.sky_threshold == 0.14 and "one daylight period" in one.found["threshold"]
    assert one.reference is None or {v for row in one.reference.table or () for v in row} <= {0.14}
    spread = fit(frames, "test", 0.14, daylit, [NOON + timedelta(hours=7 * i) for i in range(30)])
    assert spread.sky_threshold == learned.sky_threshold


def test_no_cast_is_read_off_days_without_a_cloud_cover(model: OctaModel, monkeypatch):
    """Mostly clear days of a camera without a cast: their greyest pixels are the pale sky by the sun, which reads as a
    blue cast; with too few frames of cloud cover none is taken off."""
    covers = [0.0, 0.15, 0.3]
    frames = [_site(model, i, covers[i % 3], (110, 175), (160, 195)) for i in range(12)]
    daylit: list[bool | None] = [True] * 12
    assert fit(frames, "test", 0.14, daylit).cast == 0.0
    monkeypatch.setattr(narrow, "COVERED", 0)
    assert fit(frames, "test", 0.14, daylit).cast > 0.0


def test_covered_counts_frames_of_cloud_cover():
    rng = np.random.default_rng(0)
    deck = rng.normal(0.0, 0.01, 500)  # grey throughout
    clear = np.linspace(0.05, 0.4, 500)  # a Rayleigh gradient
    assert narrow.covered([deck, deck, clear], 0.08) == 2


def _moonlit(brightness: np.ndarray) -> list[tuple[float, float, float]]:
    return [(-6.5, float(b), 0.04) for b in brightness]  # star share and NRBR inside the reference's span


def test_a_moonlit_gate_shift_that_halves_of_the_frames_do_not_share_is_dropped():
    """A dozen overcast moonlit nights: their median just over the reference's overcast brightness, their "clearest"
    overcast too, read a tone curve brighter by 0.08; halves of them do not agree. A camera brighter throughout keeps
    its shift."""
    narrow_run = _moonlit(0.43 + 0.005 * np.arange(12))
    mean, _ = nights.site_gate(narrow_run)
    assert mean is not None and mean[1] > nights.GATE_MEAN[1]
    got, note = narrow.gate_pinned(narrow_run, mean)
    assert got is None and "brightness not pinned" in note
    bright = _moonlit(0.55 + 0.005 * np.arange(12))
    mean, _ = nights.site_gate(bright)
    assert narrow.gate_pinned(bright, mean) == (mean, "")


def _samples(n: int) -> list[Sample]:
    return [Sample(f"2019-01-{i:04d}", "g", b"", 0.0, 0, {}) for i in range(n)]


def test_the_bench_picks_calibration_frames_evenly_in_a_window_or_at_random():
    half = _samples(200)[::-1]  # any order: picked in time order
    even = pick(half, 50)
    assert [s.name for s in even] == [f"2019-01-{int(j):04d}" for j in np.linspace(0, 199, 50).round()]
    window = pick(half, 50, "window", 0.5)
    assert [s.name for s in window] == [f"2019-01-{i:04d}" for i in range(100, 150)]
    assert [s.name for s in pick(half, 50, "window", 0.99)][-1] == "2019-01-0199"  # kept inside the half
    draw = pick(half, 50, "random", seed=3)
    assert len({s.name for s in draw}) == 50 and draw == pick(half, 50, "random", seed=3) != pick(half, 50, "random")
    assert len(pick(half[:20], 50, "window", 0.5)) == 20


def test_the_bench_fits_a_half_only_from_enough_bright_frames(model: OctaModel):
    """bench.classify_regimes.fit_half (and research/misreads.py --calibrated through it) fits what `cielo calibrate`
    would: nothing from fewer usable frames than calibration.MIN_FRAMES, a calibration with its night side looked for
    from enough."""
    from bench.classify_regimes import fit_half
    from cielo.sources.skycam import calibration, regime

    n = calibration.MIN_FRAMES + 4
    frames = [_site(model, i, SITE_COVERS[i % 6], (105, 187), (105, 187)) for i in range(n)]
    whens = [NOON + timedelta(days=i) for i in range(n)]
    regimes = [regime.DAY] * n
    assert fit_half(model, frames, whens, regimes, (0.0, 0.0), list(range(calibration.MIN_FRAMES - 1)), 0.3) is None
    cal = fit_half(model, frames, whens, regimes, (0.0, 0.0), list(range(n)), 0.3)
    assert cal is not None and "night" in cal.found


def test_a_darker_cameras_moonlit_brightness_is_pinned_unless_a_half_moves_it_brighter(
        monkeypatch: pytest.MonkeyPatch):
    """A steeper tone curve darkens clear and overcast moonlit skies alike: a mixed dozen reads a median under the
    reference's span and its clearest skies lower still, but a half heavy with overcast nights keeps its median inside
    the span and moves nothing. That half says nothing against the darker camera: the shift stands (it did not without
    narrow.DARKER_UNSEEN)."""
    mixed = _moonlit(np.r_[0.25 + 0.01 * np.arange(6), 0.37 + 0.01 * np.arange(6)])
    mean, _ = nights.site_gate(mixed)
    assert mean is not None and mean[1] < nights.GATE_MEAN[1]
    got, note = narrow.gate_pinned(mixed, mean)
    assert got is not None and got[1] == pytest.approx(mean[1]) and note == ""
    monkeypatch.setattr(narrow, "DARKER_UNSEEN", False)
    assert narrow.gate_pinned(mixed, mean)[0] is None  # as before: one half inside the span dropped it
