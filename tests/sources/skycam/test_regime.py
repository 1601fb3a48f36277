"""The light a frame was taken in (sun and moon computed in-process), and the day rules that depend on it."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from cielo.astro import moon
from cielo.sources.skycam import lens, regime

MADRID = (40.4, -3.7)


def test_moon_phase_and_altitude_follow_the_almanac():
    # 2024-01-25 17:54 UTC full moon, 2024-01-11 11:57 UTC new moon, 2024-01-18 03:53 UTC first quarter
    assert moon.position(datetime(2024, 1, 25, 17, 54, tzinfo=UTC), *MADRID).illuminated > 0.99
    assert moon.position(datetime(2024, 1, 11, 11, 57, tzinfo=UTC), *MADRID).illuminated < 0.01
    assert abs(moon.position(datetime(2024, 1, 18, 3, 53, tzinfo=UTC), *MADRID).illuminated - 0.5) < 0.03
    # a full moon in January (declination about +20) culminates near midnight, about 70 deg up at 40 N
    midnight = moon.position(datetime(2024, 1, 26, 0, 0, tzinfo=UTC), *MADRID)
    assert 60 < midnight.altitude < 75
    assert moon.position(datetime(2024, 1, 26, 12, 0, tzinfo=UTC), *MADRID).altitude < 0


def test_the_light_of_a_frame():
    at = lambda *a: regime.light(datetime(*a, tzinfo=UTC), *MADRID).regime  # noqa: E731
    assert at(2024, 6, 1, 12, 0) == regime.DAY
    assert at(2024, 6, 1, 19, 55) == regime.TWILIGHT  # sunset 19:40 UTC
    assert at(2024, 1, 26, 0, 0) == regime.MOONLIT  # full moon high
    assert at(2024, 1, 11, 0, 0) == regime.DARK  # new moon


def _disc(h: int = 120, w: int = 160) -> tuple[np.ndarray, lens.Lens]:
    yy, xx = np.mgrid[0:h, 0:w]
    inside = ((xx - w / 2) / 70) ** 2 + ((yy - h / 2) / 55) ** 2 <= 1
    return inside, lens.Lens(w / 2, h / 2, 70, 55, w, h, True)


def test_the_star_rule_never_acts_on_a_daylit_frame():
    """Point sources over a grey frame read clear only when the frame is not daylit."""
    inside, geom = _disc()
    rng = np.random.default_rng(1)
    px = np.zeros((3, *inside.shape), dtype=np.uint8)
    px[:, inside] = 60  # grey: cloud by colour
    speckle = inside & (rng.random(inside.shape) < 0.03)
    px[:, speckle] = 200
    stars = lens.star_density(px.max(axis=0))
    assert stars is not None
    ref = lens.Reference()
    night = lens.maps(px, geom, ref, stars=stars)
    day = lens.maps(px, geom, ref, stars=stars, daylit=True)
    assert (night.threshold[night.valid > 0] < 0).mean() > 0.5  # clear among the stars
    assert (day.threshold >= 0).all()


def test_the_frames_own_clear_sky_never_calls_grey_cloud_clear():
    """A sky paling smoothly toward a low sun (NRBR about 0.4 far, 0.1 beside its glare) with sunlit cloud of a
    faint blue cast (NRBR 0.03) on the sun's side: the frame's own surface lowers the threshold there, but
    never under the colour of cloud."""
    inside, geom = _disc()
    h, w = inside.shape
    yy, xx = np.mgrid[0:h, 0:w]
    sun = (w / 2 + 50, h / 2)
    d = np.hypot((xx - sun[0]) / 70, (yy - sun[1]) / 55)
    target = -0.02 + 0.45 * (1 - np.exp(-d / 0.8))  # NRBR of the clear sky
    r = np.full((h, w), 120.0)
    b = r * (1 + target) / (1 - target)
    px = np.stack([r, (r + b) / 2, b]).clip(0, 255)
    cloud = inside & (d < 0.45) & (d > 0.26) & (yy < h / 2)
    px[0, cloud], px[1, cloud], px[2, cloud] = 170.0, 175.0, 170.0 * 1.03 / 0.97  # NRBR 0.03
    px[:, d < 0.03] = 255.0  # the sun
    px[:, ~inside] = 0
    px = px.astype(np.uint8)
    m = lens.maps(px, geom, lens.Reference())
    assert m.sun is not None
    counted = (m.valid > 0) & cloud
    assert counted.sum() > 20
    assert (lens.nrbr(px)[counted] < m.threshold[counted]).all()  # every cloud pixel judged cloud
    assert m.threshold[m.valid > 0].min() >= lens.SURFACE_FLOOR - 1e-6
    assert m.threshold[m.valid > 0].min() < lens.Reference().zenith  # the surface did lower it


def test_an_uncertain_reading_is_still_a_judged_frame(tmp_path):
    """Calibration looks at judged frames: an `uncertain` one (octas kept) is one, a flagged night is not."""
    from datetime import timedelta

    from cielo.store import Reading, Store

    t0 = datetime(2025, 1, 1, 0, 2, tzinfo=UTC)

    def reading(i: int, value: float | None, flag: str | None) -> Reading:
        return Reading("skycam.octas", t0 + timedelta(minutes=10 * i), value, "octas", "skycam", {"flag": flag})

    with Store(tmp_path / "c.db") as store:
        store.add_readings([reading(0, 4.0, None), reading(1, 6.0, "uncertain"), reading(2, None, "night")])
        slots = store.judged_slots("skycam.octas", t0, t0 + timedelta(hours=1))
    assert slots == [t0, t0 + timedelta(minutes=10)]


def test_status_shows_an_uncertain_readings_octas(config, tmp_path):
    from cielo.store import Reading, Store
    from tests.conftest import cielo

    cfg = config()
    with Store(tmp_path / "cielo.db") as store:
        store.add_readings([Reading("skycam.octas", datetime(2025, 1, 1, 0, 2, tzinfo=UTC), 6.0, "octas", "skycam",
                                    {"flag": "uncertain"})])
    text = cielo("status", config=cfg).stdout
    assert "6 octas (uncertain)" in text, text
