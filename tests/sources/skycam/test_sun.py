"""The sun's state, the cloud around it and the cloud's motion, on synthetic fisheye frames made here: a
blue sky disc, a saturated sun, grey cloud discs that move rigidly between frames."""

from __future__ import annotations

import io
import json
import math
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from tests.conftest import cielo, clean_env, write_config
from tests.support.calibrated import calibrated
from tests.support.camserver import CameraServer

W, H, R = 640, 480, 236
SUN = (420, 240)


def frame(clouds: list[tuple[int, int, int]] = (), sun: tuple[int, int] | None = SUN, grey: bool = False,
          shift: tuple[int, int] = (0, 0)) -> bytes:
    """A 640x480 fisheye JPEG: `clouds` are (x, y, radius) discs, moved by `shift`; `grey`: overcast."""
    cx, cy = W // 2, H // 2
    sky = Image.new("RGB", (W, H))
    d = ImageDraw.Draw(sky)
    for i in range(R, 0, -4):
        t = i / R
        d.ellipse((cx - i, cy - i, cx + i, cy + i), fill=(int(60 + 60 * t), int(110 + 60 * t), int(210 + 30 * t)))
    if sun is not None and not grey:
        glow = Image.new("L", (W, H))
        ImageDraw.Draw(glow).ellipse((sun[0] - 30, sun[1] - 30, sun[0] + 30, sun[1] + 30), fill=160)
        sky.paste(Image.new("RGB", (W, H), (235, 240, 250)), (0, 0), glow.filter(ImageFilter.GaussianBlur(12)))
        ImageDraw.Draw(sky).ellipse((sun[0] - 14, sun[1] - 14, sun[0] + 14, sun[1] + 14), fill=(255, 255, 255))
    mask = Image.new("L", (W, H))
    md = ImageDraw.Draw(mask)
    if grey:
        md.rectangle((0, 0, W, H), fill=255)
    for x, y, r in clouds:
        x, y = x + shift[0], y + shift[1]
        md.ellipse((x - r, y - r, x + r, y + r), fill=255)
    sky.paste(Image.new("RGB", (W, H), (205, 205, 210)), (0, 0), mask.filter(ImageFilter.GaussianBlur(2)))
    return _through_the_lens(sky)


def _through_the_lens(sky: Image.Image) -> bytes:
    """The sky inside the lens circle, black around it, with a sensor's noise, as a JPEG."""
    cx, cy = W // 2, H // 2
    lens = Image.new("L", (W, H))
    ImageDraw.Draw(lens).ellipse((cx - R, cy - R, cx + R, cy + R), fill=255)
    out = Image.composite(sky, Image.new("RGB", (W, H)), lens)
    # a sensor's noise, seeded: about +-6 levels (a flat grey cloud would pass for a clipped sun's plateau)
    noise = np.random.default_rng(7).integers(-6, 7, (H, W, 3))
    out = Image.fromarray(np.clip(np.asarray(out, dtype=np.int16) + noise, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=92)
    return buf.getvalue()


# Texture for the phase correlation (away from the sun) and one cloud 80 px upwind (left) of the sun's disc
CLOUDS = [(300, 240, 40), (260, 130, 30), (330, 350, 35), (190, 250, 25), (380, 120, 20), (240, 330, 20)]


def _classify(tmp_path: Path, files: dict[str, bytes], *extra: str, cfg: Path | None = None) -> dict[str, dict]:
    paths = []
    for name, data in files.items():
        p = tmp_path / f"{name}.jpg"
        p.write_bytes(data)
        paths.append(str(p))
    cfg = cfg or write_config(tmp_path / "c.toml", {"device": {"latitude": 40.4, "longitude": -3.7}})
    result = cielo("classify", "--json", *extra, *paths, config=cfg)
    assert result.returncode == 0, result.stderr
    return {Path(o["file"]).stem: o for o in map(json.loads, result.stdout.splitlines())}


def test_classify_says_where_the_sun_stands(tmp_path: Path):
    out = _classify(tmp_path, {"clear": frame(), "broken": frame(CLOUDS), "overcast": frame(grey=True),
                               "hidden": frame([(*SUN, 60)], sun=None)})
    assert out["clear"]["sun"] == "visible"
    assert out["broken"]["sun"] == "visible"  # cloud about, the disc clear
    assert out["overcast"]["sun"] in ("thin", "covered")
    assert out["hidden"]["sun"] == "covered"  # broken sky, the sun behind a cloud: no disc anywhere


def test_no_sun_at_night(tmp_path: Path):
    # the same bright frame, taken (says --at) at 01:00 in Madrid: the sun is down whatever the frame shows
    out = _classify(tmp_path, {"clear": frame()}, "--at", "2024-06-01T01:00+02:00")
    assert out["clear"]["sun"] is None
    day = _classify(tmp_path, {"clear": frame()}, "--at", "2024-06-01T13:00+02:00")
    assert day["clear"]["sun"] == "visible"
    # the regime each was judged in (the stored readings' `light`); the moon was 5 % lit on 2024-06-05 at 01:00
    dark = _classify(tmp_path, {"clear": frame()}, "--at", "2024-06-05T01:00+02:00")
    assert (dark["clear"]["light"], day["clear"]["light"]) == ("dark night", "day")
    assert _classify(tmp_path, {"clear": frame()})["clear"]["light"] is None  # no time: no regime


def _model_views(*jpegs: bytes):
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    frames = [model.decode(j) for j in jpegs]
    return [v.sky for v in model.judge(frames, [None] * len(frames), 40.4, -3.7)]


def plain_sky(rgb: tuple[int, int, int]) -> bytes:
    """The fisheye of frame() with one flat sky colour (no zenith-to-horizon gradient) and the sun's disc."""
    sky = Image.new("RGB", (W, H), rgb)
    glow = Image.new("L", (W, H))
    ImageDraw.Draw(glow).ellipse((SUN[0] - 30, SUN[1] - 30, SUN[0] + 30, SUN[1] + 30), fill=160)
    sky.paste(Image.new("RGB", (W, H), (235, 240, 250)), (0, 0), glow.filter(ImageFilter.GaussianBlur(12)))
    ImageDraw.Draw(sky).ellipse((SUN[0] - 14, SUN[1] - 14, SUN[0] + 14, SUN[1] + 14), fill=(255, 255, 255))
    return _through_the_lens(sky)


def test_the_disc_against_the_sky_decides_thin():
    from cielo.sources.skycam import sunstate
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    noon = datetime(2024, 6, 1, 11, 0, tzinfo=UTC)  # Madrid: the sun high, its elevation known

    def view(rgb: tuple[int, int, int]):
        return model.judge([model.decode(plain_sky(rgb))], [noon], 40.4, -3.7)[0].sky

    # a blue sky, but lit so bright that the disc hardly stands out from it: the colour rules say clear
    lit = view((130, 170, 250))
    assert lit.overcast < sunstate.OVERCAST and lit.standout < sunstate.FAINT
    assert lit.state == "thin"
    # a pale, grey sky that the octa mask reads as cloud everywhere (the colour rules say "thin"), under a
    # disc four times as bright as it: a clipping camera's pale clear sky, the disc in full view
    pale = view((60, 62, 66))
    assert pale.overcast >= sunstate.OVERCAST and pale.standout >= sunstate.STANDS_OUT
    assert pale.state == "visible"
    # the same grey, brighter: the disc no longer stands out as a clear sky's
    grey = view((110, 112, 116))
    assert sunstate.FAINT <= grey.standout < sunstate.STANDS_OUT
    assert grey.state == "thin"


def test_motion_of_a_shifted_cloud_field():
    from cielo.sources.skycam import motion

    a, b = _model_views(frame(CLOUDS), frame(CLOUDS, shift=(16, -8)))  # 640-px frames: 4, -2 at the model's
    m = motion.between(a, b, 2.0)
    assert m is not None and m.confidence > 0.5
    assert abs(m.dx - 4) < 0.6 and abs(m.dy + 2) < 0.6, m
    assert 60 < m.direction < 65  # right and a little up: 63.4 degrees clockwise from the frame's up
    assert abs(m.deg_per_min - np.hypot(m.dx, m.dy) * a.deg_per_px / 2) < 1e-9 and 3.2 < m.deg_per_min < 3.5
    # a clear sky has nothing to follow
    c, d = _model_views(frame(), frame())
    assert motion.between(c, d, 1.0) is None


def test_eta_of_the_cloud_coming_at_the_sun():
    from cielo.sources.skycam import motion

    # 8 px a minute to the right (640-px frame); the disc's edge is 80 px left of the sun's centre
    views = _model_views(frame(CLOUDS), frame(CLOUDS, shift=(8, 0)))
    tracker = motion.Tracker()
    t0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    assert tracker.step(t0, views[0]) == (None, None)
    m, eta = tracker.step(t0 + timedelta(minutes=1), views[1])
    assert m is not None and abs(m.dx - 2) < 0.5
    # (80 - 8 moved - the 3-degree disc, ~8 px) / 8 px a minute: about 8 minutes
    assert eta is not None and 6 <= eta <= 10, eta
    # moving away: nothing approaches
    back = _model_views(frame(CLOUDS, shift=(8, 0)), frame(CLOUDS))
    tracker = motion.Tracker()
    tracker.step(t0, back[0])
    m, eta = tracker.step(t0 + timedelta(minutes=1), back[1])
    assert m is not None and m.dx < 0 and eta is None
    # frames 10 minutes apart: a motion, no ETA
    tracker = motion.Tracker()
    tracker.step(t0, views[0])
    m, eta = tracker.step(t0 + timedelta(minutes=10), views[1])
    assert m is not None and eta is None
    # more than 15 minutes apart: no motion at all
    tracker = motion.Tracker()
    tracker.step(t0, views[0])
    assert tracker.step(t0 + timedelta(minutes=16), views[1]) == (None, None)


SUN_KEYS = ("sun", "sun_covered", "sun_cloud_15", "sun_cloud_30", "sun_eta_min")
COVER_KEYS = ("cover_n", "cover_e", "cover_s", "cover_w", "cover_sun_path")


def test_ingest_puts_the_sun_in_the_octas_reading(camera: CameraServer, config, tmp_path: Path):
    # the device's longitude put where it is noon now: the live slot is a day frame
    now = datetime.now(UTC)
    lon = ((12 - (now.hour + now.minute / 60)) * 15 + 180) % 360 - 180
    camera.images = [frame(CLOUDS)]
    cfg = config(device={"latitude": 10.0, "longitude": lon}, skycam={"base_url": camera.base_url,
                 "timeout_s": 2, "retries": 2, "requests_per_minute": 0, "timezone": "UTC"})
    result = cielo("ingest", "--source", "skycam", config=cfg, env=clean_env())
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "cielo.db") as db:
        (series, attrs), = db.execute("SELECT series, attrs FROM readings").fetchall()  # one frame, one reading
        view = db.execute(f"SELECT {', '.join(SUN_KEYS + COVER_KEYS)}, motion FROM sun").fetchall()
    attrs = json.loads(attrs)
    assert series == "skycam.octas" and attrs["sun"] == "visible" and attrs["sun_covered"] == 0
    assert 0 <= attrs["sun_cloud_15"] <= 100 and 0 <= attrs["sun_cloud_30"] <= 100
    assert "sun_eta_min" in attrs and attrs["sun_eta_min"] is None  # one frame: no motion yet
    # no orientation calibrated: no compass, the sectors' keys there and null
    assert all(attrs[k] is None for k in COVER_KEYS)
    assert view == [(*(attrs[k] for k in SUN_KEYS + COVER_KEYS), None)]
    assert (tmp_path / "skycam-motion.json").is_file()  # the only thing kept for the next frame


def test_backfill_one_minute_apart_gives_the_eta(camera: CameraServer, config, tmp_path: Path):
    # a camera every minute; the clouds move 8 px a minute toward the sun, as in the test above
    day = datetime.now(UTC).date() - timedelta(days=2)
    start = datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)
    shots = {f"{start + timedelta(minutes=i):%Y-%m%d%H%M}.jpg": frame(CLOUDS, shift=(8 * i, 0)) for i in range(3)}
    camera.image_for = lambda name: shots.get(name.rsplit("/", 1)[-1], frame(grey=True))
    cfg = config(device={"latitude": 10.0, "longitude": 0.0, "id": "pi"}, skycam={
        "base_url": camera.base_url, "timeout_s": 2, "retries": 2, "requests_per_minute": 0, "timezone": "UTC",
        "minutes": list(range(60)), "year_dir": "never"},
        mqtt={"enabled": True, "port": 9})  # no broker: the messages stay queued in the outbox
    end = start + timedelta(minutes=2)
    result = cielo("backfill", "--from", f"{start:%Y-%m-%dT%H:%MZ}", "--to", f"{end:%Y-%m-%dT%H:%MZ}", "--workers", "1",
                   config=cfg, env=clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(tmp_path / "cielo.db") as db:
        assert db.execute("SELECT count(*), count(DISTINCT ts) FROM readings").fetchall() == [(3, 3)]
        view = db.execute("SELECT ts, sun, sun_covered, sun_eta_min, motion FROM sun ORDER BY ts").fetchall()
        sent = [(t, json.loads(p)) for t, p in db.execute("SELECT topic, payload FROM outbox WHERE kind = 'backfill'"
                                                          " ORDER BY id")]
    eta = [v[3] for v in view]
    assert len(view) == 3 and eta[0] is None and all(v[1] == "visible" and v[2] == 0 for v in view)
    assert all(v is not None and 4 <= v <= 10 for v in eta[1:]), view
    motion = [None if v[4] is None else json.loads(v[4]) for v in view]
    assert motion[0] is None and motion[1]["direction_from"] == "frame" and 80 < motion[1]["direction"] < 100
    # one message a frame, on the octas topic, carrying the sun
    assert [t for t, _ in sent] == ["cielo/pi/skycam/octas/backfill"] * 3
    assert [p["sun_eta_min"] for _, p in sent] == eta and all(set(SUN_KEYS) <= set(p) for _, p in sent)


def test_home_assistant_reads_the_sun_from_the_octas_topic():
    from cielo.outputs.mqtt.discovery import SeriesInfo, components, object_id
    from cielo.outputs.mqtt.topics import Topics
    from cielo.sources.skycam.source import SkycamSource

    out = components(Topics("cielo", "pi"), "pi", [SeriesInfo(s, True) for s in SkycamSource.series])
    assert {object_id(s.name) for s in SkycamSource.series} == {"skycam_octas"}  # no series of its own
    cfg = out["skycam_sun_covered"]
    assert cfg["p"] == "binary_sensor" and cfg["name"] == "Sun covered"
    assert cfg["state_topic"] == "cielo/pi/skycam/octas"
    assert cfg["default_entity_id"] == "binary_sensor.cielo_pi_skycam_sun_covered"
    assert cfg["unique_id"] == "cielo_pi_skycam_sun_covered"
    assert (cfg["payload_on"], cfg["payload_off"]) == ("ON", "OFF") and "unit_of_measurement" not in cfg
    assert "value_json.sun_covered == 1" in cfg["value_template"] and "'None'" in cfg["value_template"]
    for key in ("sun_cloud_15", "sun_cloud_30"):
        c = out[f"skycam_{key}"]
        assert c["p"] == "sensor" and c["unit_of_measurement"] == "%" and c["state_topic"] == "cielo/pi/skycam/octas"
        assert f"value_json.{key}" in c["value_template"]
    eta = out["skycam_sun_eta_min"]
    assert eta["unit_of_measurement"] == "min" and eta["device_class"] == "duration"
    assert eta["default_entity_id"] == "sensor.cielo_pi_skycam_sun_eta_min"
    for key, name in (("cover_n", "Cloud north"), ("cover_sun_path", "Cloud in the sun's sector")):
        c = out[f"skycam_{key}"]
        assert c["p"] == "sensor" and c["name"] == name and c["unit_of_measurement"] == "%"
        assert c["state_topic"] == "cielo/pi/skycam/octas" and f"value_json.{key}" in c["value_template"]
        assert c["default_entity_id"] == f"sensor.cielo_pi_skycam_{key}"
    assert {"skycam_cover_e", "skycam_cover_s", "skycam_cover_w"} <= set(out)
    gone = components(Topics("cielo", "pi"), "pi", [SeriesInfo(s, False) for s in SkycamSource.series])
    assert gone["skycam_sun_covered"] == {"p": "binary_sensor"} and gone["skycam_sun_eta_min"] == {"p": "sensor"}


def _oriented(ts: datetime) -> tuple[float, float] | None:
    """Where a camera looking up with north 30 degrees clockwise of its frame's up, equidistant, horizon at
    R px, shows the sun at 40.4 N 3.7 W (pixels of the 640x480 frame)."""
    from cielo.astro import sun

    el, az = sun.position(ts, 40.4, -3.7)
    if el < 8:
        return None
    r = (90 - el) / 90 * R
    phi = np.radians(30 - az)
    return W / 2 + r * np.sin(phi), H / 2 - r * np.cos(phi)


def test_calibrate_learns_the_orientation_from_the_suns_track(tmp_path: Path):
    from cielo.sources.skycam import orientation

    folder = tmp_path / "frames"
    folder.mkdir()
    for day in (1, 2):
        for minutes in range(6 * 60, 19 * 60, 40):
            ts = datetime(2024, 6, day, minutes // 60, minutes % 60, tzinfo=UTC)
            where = _oriented(ts)
            if where is not None:
                (folder / f"{ts:%Y-%m-%d-%H-%M-%S}.jpg").write_bytes(frame(sun=(round(where[0]), round(where[1]))))
    skycam = {"timezone": "UTC", "calibration": str(tmp_path / "cal.json")}
    cfg = write_config(tmp_path / "cal.toml", {"device": {"latitude": 40.4, "longitude": -3.7}, "skycam": skycam})
    result = cielo("calibrate", "--images", str(folder), config=cfg)
    assert result.returncode == 0, result.stderr
    assert "orientation: north is" in result.stdout and "a camera looking up" in result.stdout, result.stdout
    o = orientation.load(orientation.beside(tmp_path / "cal.json"))
    assert o is not None and abs((o.north - 30 + 180) % 360 - 180) < 3 and o.sign == -1
    assert abs(o.cx - 79.5) < 2 and abs(o.cy - 59.5) < 2  # the frame's centre, at the model's 160x120
    assert abs(o.horizon_px() - R / 4) < 4 and o.residual_deg < 2
    # Now the sun must be where the orientation says: a bright disc elsewhere (a reflection) is not the sun
    at = datetime(2024, 6, 3, 10, 0, tzinfo=UTC)
    x, y = _oriented(at)
    out = _classify(tmp_path, {"right": frame(sun=(round(x), round(y))),
                               "elsewhere": frame(sun=(round(W - x), round(H - y)))}, "--at", at.isoformat(),
                    cfg=cfg)
    assert out["right"]["sun"] == "visible" and out["elsewhere"]["sun"] == "covered"
    # ... and the cloud has a compass: a cloud bank due north (30 degrees clockwise of the frame's up) is cloud
    # in the north quarter only; the sun's sector of the next hour (east-south-east to south-south-east) has none
    nx, ny = W / 2 + 0.55 * R * np.sin(np.radians(30)), H / 2 - 0.55 * R * np.cos(np.radians(30))
    out = _classify(tmp_path, {"north": frame([(round(nx), round(ny), 60)], sun=(round(x), round(y)))},
                    "--at", at.isoformat(), cfg=cfg)
    north = out["north"]
    assert north["cover_n"] > 25 and north["cover_s"] < 5 and north["cover_e"] < 10 and north["cover_w"] < 10, north
    assert north["cover_sun_path"] is not None and north["cover_sun_path"] < 10, north
    # without it, any disc is taken for the sun, and nothing has a bearing
    (tmp_path / "cal.orientation.json").unlink()
    out = _classify(tmp_path, {"elsewhere": frame(sun=(round(W - x), round(H - y)))}, "--at", at.isoformat(),
                    cfg=cfg)
    assert out["elsewhere"]["sun"] == "visible"
    assert all(out["elsewhere"][k] is None for k in ("cover_n", "cover_e", "cover_s", "cover_w", "cover_sun_path"))


def test_bearings_and_the_suns_path_agree_with_the_orientation():
    from cielo.sources.skycam import orientation, sectors

    # a camera looking up, north 120 degrees clockwise of its frame's up, zenith off centre, a compressed lens
    o = orientation.Orientation(84.0, 57.0, 40.0, -4.0, 120.0, -1, 160, 120, 20, 1.0)
    bearing = sectors.bearings(o, 160, 120)
    masks = sectors.quarter_masks(o, 160, 120)
    for el, az in ((60, 10), (30, 95), (45, 180), (20, 270), (70, 340)):
        x, y = o.where(el, az, 160, 120)
        got = float(bearing[round(y), round(x)])
        assert abs((got - az + 180) % 360 - 180) < 4, (el, az, got)
        assert [bool(m[round(y), round(x)]) for m in masks].index(True) == round(az / 90) % 4
    # the same camera read at twice the size: the same bearings
    assert abs(float(sectors.bearings(o, 320, 240)[2 * 40 + 1, 2 * 100 + 1]) - float(bearing[40, 100])) < 2
    # the sun's azimuths over the next hour: 7, from where it stands, turning west through south; none at midnight
    from cielo.astro import sun

    noon = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    path = sectors.sun_path(noon, 40.4, -3.7)
    assert len(path) == 7 and path[0] == sun.position(noon, 40.4, -3.7)[1] and path == sorted(path)
    assert sectors.sun_path(datetime(2024, 6, 1, 0, 0, tzinfo=UTC), 40.4, -3.7) == []
    # cloud fractions: a frame cloudy on its east half only
    counted = np.ones((120, 160), dtype=bool)
    east = (bearing > 0) & (bearing < 180)
    assert sum(m.astype(int) for m in masks).max() == 1  # every pixel in one quarter exactly
    q = sectors.quarters(east, counted, masks)
    assert q["cover_e"] == 1.0 and q["cover_w"] == 0.0 and 0.3 < q["cover_n"] < 0.7 and 0.3 < q["cover_s"] < 0.7
    # ... the sun's sector: all cloud in the morning (the sun in the east), none in the evening (west)
    morning = sectors.sun_path(datetime(2024, 6, 1, 6, 0, tzinfo=UTC), 40.4, -3.7)
    evening = sectors.sun_path(datetime(2024, 6, 1, 18, 0, tzinfo=UTC), 40.4, -3.7)
    assert sectors.along(east, counted, bearing, morning) == 1.0 and sectors.along(east, counted, bearing, evening) == 0
    assert sectors.along(east, counted, bearing, []) is None
    assert sectors.attrs(q | {"cover_sun_path": None}) == {"cover_n": round(q["cover_n"] * 100, 1), "cover_e": 100.0,
                                                           "cover_s": round(q["cover_s"] * 100, 1), "cover_w": 0.0,
                                                           "cover_sun_path": None}


def test_no_time_a_starry_frame_as_bright_as_day_keeps_its_sun():
    # an ARM TSI mirror's day frames pass the star rule (its speckles); without a time, a starry frame that is
    # brighter than any night sky is still a day frame, a dark starry one is night
    from cielo.sources.skycam import sunstate
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    f = model.decode(frame())
    geom = model.geometry(f)
    maps = model.maps(f, geom)

    def state(brightness: float, starry: bool) -> str | None:
        view = sunstate.assess(f.pixels, geom, maps, f.not_sky(), None, brightness, starry)
        assert view is not None
        return view.state

    assert state(0.6, starry=True) == "visible"
    assert state(0.3, starry=True) is None
    assert state(0.6, starry=False) == "visible"
    assert state(sunstate.DAYLIGHT_MEAN - 0.01, starry=False) is None


def aureole_sky(amplitude: float, scale: float) -> bytes:
    """A pale blue-grey sky (every pixel under the clear-sky colour: read overcast) with the sun's saturated disc
    and a glow around it of `amplitude` levels falling off over `scale` pixels of the 640x480 frame."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    glow = amplitude * np.exp(-np.hypot(xx - SUN[0], yy - SUN[1]) / scale)
    px = np.array([80, 86, 96], np.float32)[:, None, None] + glow[None]
    sky = Image.fromarray(np.clip(px, 0, 255).astype(np.uint8).transpose(1, 2, 0))
    ImageDraw.Draw(sky).ellipse((SUN[0] - 14, SUN[1] - 14, SUN[0] + 14, SUN[1] + 14), fill=(255, 255, 255))
    return _through_the_lens(sky)


def test_a_hazy_sky_under_a_strong_beam_is_read_by_its_own_sky():
    from cielo.sources.skycam import haze
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    noon, morning = datetime(2024, 6, 1, 11, 0, tzinfo=UTC), datetime(2024, 6, 1, 6, 30, tzinfo=UTC)  # Madrid: 66°, 17°

    def judged(jpeg: bytes, when: datetime):
        return model.judge([model.decode(jpeg)], [when], 40.4, -3.7)[0]

    # dust haze: the direct beam scattered forward once, a steep aureole round a disc that stands out; the colour
    # alone reads it overcast, its own smooth sky clear, and the answer says it is weak
    haze_sky = aureole_sky(300, 50)
    assert model.predict([model.decode(haze_sky)])[0].argmax() == 8
    hazy = judged(haze_sky, noon)
    assert hazy.sky.falloff >= haze.FALLOFF and hazy.sky.standout >= haze.STANDOUT
    assert hazy.octas <= 2 and hazy.flag == "uncertain"
    # a veil: the light scattered many times over, the glow spread wide and flat: overcast, and sure of it
    veil = judged(aureole_sky(100, 200), noon)
    assert veil.sky.falloff < haze.FALLOFF
    assert veil.octas == 8 and veil.flag is None
    # the same haze under a low sun: the aureole's bands run along the horizon, and it stays overcast
    assert judged(haze_sky, morning).octas == 8


def test_a_hazy_sky_through_a_flatter_tone_curve_is_read_once_the_site_knows_its_curve():
    # A tone curve raises every ratio of brightness to one power: through gamma 0.8 the haze's disc and aureole
    # fall under the reference camera's bars and the colour's overcast stands. The site's glow bar, learned by
    # `cielo calibrate` from its clear days (veil.site_bar: lower by the same power), gives that power back
    from cielo.sources.skycam import calibration, haze, veil
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    noon = datetime(2024, 6, 1, 11, 0, tzinfo=UTC)  # Madrid: the sun 66° up
    im = np.asarray(Image.open(io.BytesIO(aureole_sky(300, 50))).convert("RGB"), dtype=np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(255 * (im / 255) ** 0.8 + 0.5, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=95)
    flat_haze = model.decode(buf.getvalue())
    seen = model.judge([flat_haze], [noon], 40.4, -3.7)[0]
    assert seen.sky.standout < haze.STANDOUT or seen.sky.falloff < haze.FALLOFF
    assert seen.octas == 8
    assert veil.tone(None) == 1.0 and veil.tone(veil.GLOW) == pytest.approx(1.0)
    cal = calibration.fit([flat_haze] * 6, "test", 0.25, [True] * 6)
    cal.glow = veil.GLOW ** 0.8  # what a site bar learned through gamma 0.8 comes to (every log glow x0.8)
    assert veil.tone(cal.glow) == pytest.approx(0.8)
    with calibrated(model, cal):
        again = model.judge([flat_haze], [noon], 40.4, -3.7)[0]
        assert again.octas <= 2 and again.flag == "uncertain"


def blue_sky(amplitude: float, scale: float, disc: int = 14) -> bytes:
    """A deep blue sky (read clear by its colour) with the sun's saturated disc of `disc` pixels' radius and an
    aureole of `amplitude` levels falling off over `scale` pixels of the 640x480 frame."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    t = np.clip(np.hypot(xx - W // 2, yy - H // 2) / R, 0, 1)
    px = 0.6 * np.stack([60 + 60 * t, 110 + 60 * t, 210 + 30 * t])
    px += amplitude * np.exp(-np.hypot(xx - SUN[0], yy - SUN[1]) / scale)[None]
    sky = Image.fromarray(np.clip(px, 0, 255).astype(np.uint8).transpose(1, 2, 0))
    ImageDraw.Draw(sky).ellipse((SUN[0] - disc, SUN[1] - disc, SUN[0] + disc, SUN[1] + disc), fill=(255, 255, 255))
    return _through_the_lens(sky)


def test_a_veil_is_read_by_the_sites_own_glow_bar_or_uncalibrated_by_its_discs_standout():
    from cielo.sources.skycam import calibration, veil
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    noon = datetime(2024, 6, 1, 11, 0, tzinfo=UTC)  # Madrid: the sun 66° up

    def judged(jpeg: bytes, when: datetime | None = noon):
        return model.judge([model.decode(jpeg)], [when], 40.4, -3.7)[0]

    # the daemon's own clear frame: a small glow round the disc, flatter than any clear sky of the reference camera
    # (a flatter tone curve, a small aureole in pixels), and the sun through a veil: no glow at all. Both as blue
    # as a clear sky. Uncalibrated no bar is known for this camera: the glow is held against the disc's own
    # standout (veil.FLAT_FOR_DISC, which no tone curve moves): the veil reads overcast, weakly, a clear sky's broad
    # aureole clear, and the daemon's frame, its glow as flat for its disc as a veil's, 6 until its site's bar is
    # learned (the cost of reading veils blind: docs/design.md, "Other cameras by day")
    clear, flat = frame(), blue_sky(0, 1)
    assert judged(clear).sky.glow < veil.GLOW
    veiled = judged(flat)
    assert veiled.octas == veil.OVERCAST_READ and veiled.flag == "uncertain"
    assert judged(flat, None).octas == 0  # without the frame's time: no day known, the colour's answer kept
    aureole = judged(blue_sky(250, 60))
    assert aureole.sky.glow > veil.GLOW and aureole.octas == 0 and aureole.flag is None
    assert judged(clear).octas == veil.OVERCAST_READ and judged(clear).flag == "uncertain"

    # `cielo calibrate` on the camera's own unlabelled day frames (the sun 14° up or more) learns its bar from the
    # clear ones: under its clear sky's glow, over the veil's
    times = [datetime(2024, 6, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=30 * k) for k in range(18)]
    frames = [model.decode(frame() if k % 6 else frame(grey=True)) for k in range(len(times))]
    cal = calibration.fit(frames, "test", 0.25, [True] * len(frames))
    veil.learn(cal, model, frames, times, 40.4, -3.7)
    assert model.calibration is None  # put back as it was
    assert cal.glow is not None and judged(flat).sky.glow < cal.glow < judged(clear).sky.glow
    assert any(line.startswith("veiled days: 15 clear day frames") for line in calibration.describe(cal))
    with calibrated(model, cal):
        assert judged(clear).octas == 0 and judged(clear).flag is None  # its own clear sky stays clear, and sure
        veiled = judged(flat)
        assert veiled.octas == veil.OVERCAST_READ and veiled.flag == "uncertain"  # the veil: overcast, and weak
        assert judged(flat, None).octas == 0  # without the frame's time: no day known, the colour's answer kept
        # glare clipped past 8 degrees (a mirror, a clipping camera): no glow read, the colour's answer kept
        glare = judged(blue_sky(0, 1, disc=40))
        assert glare.sky.seen and glare.sky.glow is None and glare.octas == 0

    # too few clear days seen: no bar, and calibrate says so
    few = calibration.fit(frames[:5], "test", 0.25, [True] * 5)
    veil.learn(few, model, frames[:5], times[:5], 40.4, -3.7)
    assert few.glow is None and "(needs 5): no veil rule" in few.found["veil"]
    # enough for a bar near the reference's, not for one that reads this camera's flatter curve (veil.MIN_CLEAR):
    # the flatter bar serves the veil alone, lowered by its median's noise, and the tone stays the reference's
    few = calibration.fit(frames[:8], "test", 0.25, [True] * 8)
    veil.learn(few, model, frames[:8], times[:8], 40.4, -3.7)
    assert few.glow is not None and not few.glow_tone and "tone curve" in few.found["veil"]
    assert few.glow == pytest.approx(cal.glow * math.exp(-veil.FEW_MARGIN), rel=0.05) and veil.tone(few.glow) < 1
    with calibrated(model, few):
        assert judged(clear).octas == 0 and judged(clear).flag is None  # its clear sky over the lowered bar
        assert judged(flat).octas == veil.OVERCAST_READ  # the veil read by the few frames' bar
    # nor without the frames' times
    veil.learn(few, model, frames[:8], [None] * 8, 40.4, -3.7)
    assert few.glow is None and few.found["veil"] == "frame times unknown: no veil rule"


def test_a_sites_glow_bar_follows_its_clear_sky_but_never_past_the_references():
    from cielo.sources.skycam import veil

    flatter, toned, _ = veil.site_bar([1.1, 1.2, 1.3] * 5)  # a flatter tone curve: every log glow scaled down alike
    assert flatter == pytest.approx(1.2 ** veil.SHARE) and toned
    steeper, toned, note = veil.site_bar([2.0, 2.2, 2.4] * 5)
    assert steeper == veil.GLOW and toned and "capped" in note
    assert veil.site_bar([0.98] * 40)[0] is None  # no glow round the sun at all: nothing to part a veil from
    # a mirror's band or glare clips the ring in most clear frames: the few left open are no site's clear sky
    clipped, _, note = veil.site_bar([1.3] * 20 + [None] * 60)
    assert clipped is None and "unclipped in 20 of 80" in note


def test_a_camera_that_clips_the_sun_at_six_tenths_still_finds_it():
    # a darker camera (or one whose JPEG white sits lower): the whole frame x0.6, the disc a flat top at 153.
    # Lost, the glare round it reads as cloud and a clear sky comes out a few octas, the sun "covered"
    from cielo.sources.skycam.model import OctaModel

    # (a clear sky's broad aureole round the disc: frame()'s narrow glow reads as a veil's, veil.FLAT_FOR_DISC)
    im = np.asarray(Image.open(io.BytesIO(blue_sky(250, 60))).convert("RGB"), dtype=np.float32) * 0.6
    buf = io.BytesIO()
    Image.fromarray(np.clip(im + 0.5, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=92)
    model = OctaModel()
    noon = datetime(2024, 6, 1, 11, 0, tzinfo=UTC)
    v = model.judge([model.decode(buf.getvalue())], [noon], 40.4, -3.7)[0]
    assert v.sky.seen and v.sun_state == "visible"
    assert v.octas <= 1


def test_a_darker_camera_whose_disc_clips_under_half_scale_finds_it_by_day():
    # the whole frame x0.45: the disc a flat top at 115, under lens.CLIPPED_SUN. By day at a known time the plateau
    # is held against the sky alone and the clear sky reads clear; blind (a star or the moon in a dark frame stands
    # as far over its sky) the bar in levels stays and no disc is found
    from cielo.sources.skycam import lens, regime
    from cielo.sources.skycam.model import OctaModel

    im = np.asarray(Image.open(io.BytesIO(blue_sky(250, 60))).convert("RGB"), dtype=np.float32) * 0.45
    buf = io.BytesIO()
    Image.fromarray(np.clip(im + 0.5, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=92)
    model = OctaModel()
    f = model.decode(buf.getvalue())
    darkest = f.pixels.min(axis=0)
    assert int(darkest.max()) < lens.CLIPPED_SUN * 255
    noon = datetime(2024, 6, 1, 11, 0, tzinfo=UTC)
    light = regime.light(noon, 40.4, -3.7)
    assert model.maps(f, light=light).sun is not None
    assert model.maps(f).sun is None
    v = model.judge([f], [noon], 40.4, -3.7)[0]
    assert v.sky.seen and v.sun_state == "visible"
    assert v.octas <= 1


def test_a_site_bar_near_the_references_is_the_reference_tone_curve():
    # the reference camera's own halves read bars a median's error off GLOW: no tone curve is read into them
    from cielo.sources.skycam import veil

    assert veil.tone(veil.GLOW ** 0.95) == 1.0
    assert veil.tone(veil.GLOW ** 0.85) == pytest.approx(0.85)


def milky_sky(amplitude: float, scale: float, base: tuple[int, int, int]) -> bytes:
    """A flat pale blue-grey sky (NRBR `base` about 0.06-0.07: milky by colour, no blue left) with the sun's saturated
    disc and a glow of `amplitude` levels falling off over `scale` pixels of the 640x480 frame."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    glow = amplitude * np.exp(-np.hypot(xx - SUN[0], yy - SUN[1]) / scale)
    px = np.array(base, np.float32)[:, None, None] + glow[None]
    sky = Image.fromarray(np.clip(px, 0, 255).astype(np.uint8).transpose(1, 2, 0))
    ImageDraw.Draw(sky).ellipse((SUN[0] - 14, SUN[1] - 14, SUN[0] + 14, SUN[1] + 14), fill=(255, 255, 255))
    return _through_the_lens(sky)


def test_a_milky_sky_with_a_hazy_clear_aureole_keeps_its_sun_visible():
    # A paler camera's clear sky passes the milky colour test while the octa mask calls it clear (LenghuSky-8 2021);
    # the disc stands out between FAINT and STANDS_OUT, so the colour alone would say "thin". A steep aureole (dust
    # haze scattering the beam forward once) keeps it "visible"; a flat one (a veil) and a low sun do not
    import dataclasses

    from cielo.sources.skycam import haze, sunstate
    from cielo.sources.skycam.model import OctaModel

    assert (sunstate.HAZE_FALLOFF, sunstate.HAZE_ALTITUDE) == (haze.FALLOFF, haze.SUN_ALTITUDE)
    model = OctaModel()

    def view(jpeg: bytes, elevation: float) -> sunstate.SunView:
        f = model.decode(jpeg)
        geom = model.geometry(f)
        maps = model.maps(f, geom)
        # the octa mask calling the pale sky clear, as it does on those frames: only the colour test says milky
        clear = dataclasses.replace(maps, threshold=np.full_like(maps.threshold, -1.0))
        v = sunstate.assess(f.pixels, geom, clear, f.not_sky(), elevation, f.brightness)
        assert v is not None and v.seen and v.overcast is not None and v.overcast < sunstate.OVERCAST
        assert v.standout is not None and sunstate.FAINT <= v.standout < sunstate.STANDS_OUT
        return v

    hazy = milky_sky(300, 50, (90, 94, 102))
    high = view(hazy, 66.0)
    assert high.falloff is not None and high.falloff >= sunstate.HAZE_FALLOFF
    assert high.state == "visible"
    assert view(hazy, 17.0).state == "thin"  # the sun low: the aureole's bands on the horizon's glow, not trusted
    veiled = view(milky_sky(50, 250, (70, 73, 80)), 66.0)
    assert veiled.falloff is not None and veiled.falloff < sunstate.HAZE_FALLOFF
    assert veiled.state == "thin"


def test_a_disc_tinted_by_a_white_balance_after_the_clip_is_still_the_sun():
    # A white balance applied to the clipped frame (red x1.1, blue x0.9, or the reverse) leaves the disc flat in each
    # channel but neither grey nor saturated in min(R, G, B): it was refused, a clear sky's sun said "covered"
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    noon = datetime(2024, 6, 1, 11, 0, tzinfo=UTC)
    clear = np.asarray(Image.open(io.BytesIO(frame())).convert("RGB"), dtype=np.float32).copy()
    yy, xx = np.mgrid[0:H, 0:W]
    clear[np.hypot(xx - SUN[0], yy - SUN[1]) <= 16] = 255  # clipped by the sensor: no noise left on the disc
    for gains in ((1.1, 1.0, 0.9), (0.9, 1.0, 1.1)):
        buf = io.BytesIO()
        Image.fromarray(np.clip(clear * np.array(gains, np.float32) + 0.5, 0, 255).astype(np.uint8)).save(
            buf, "JPEG", quality=95)
        v = model.judge([model.decode(buf.getvalue())], [noon], 40.4, -3.7)[0]
        # found; whether it then stands out enough is the standout's business (min(R, G, B): the tint lowers it)
        assert v.sky.seen and v.sun_state in ("visible", "thin"), gains


def test_a_clear_disc_through_a_flatter_tone_curve_is_visible_once_the_site_knows_its_curve():
    # The disc's standout is a ratio of brightness: gamma 0.8 raises it to 0.8 and a clear sky's disc falls under
    # FAINT (the reference cameras' curve). The site's tone, learned by `cielo calibrate` (veil.tone), raises the
    # standout's bars by the same power: the disc is in full view again
    from cielo.sources.skycam import calibration, sunstate, veil
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    noon = datetime(2024, 6, 1, 11, 0, tzinfo=UTC)
    im = np.asarray(Image.open(io.BytesIO(plain_sky((98, 140, 250)))).convert("RGB"), dtype=np.float32)
    own = model.judge([model.decode(plain_sky((98, 140, 250)))], [noon], 40.4, -3.7)[0]
    assert sunstate.FAINT <= own.sky.standout < sunstate.STANDS_OUT and own.sun_state == "visible"
    buf = io.BytesIO()
    Image.fromarray(np.clip(255 * (im / 255) ** 0.8 + 0.5, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=95)
    flat = model.decode(buf.getvalue())
    blind = model.judge([flat], [noon], 40.4, -3.7)[0]
    assert blind.sky.standout < sunstate.FAINT and blind.sun_state == "thin"
    cal = calibration.fit([flat] * 6, "test", 0.25, [True] * 6)
    cal.cast = 0.0  # a cloudless run has no white in it: its blue is no cast (calibration's CAST notes)
    with calibrated(model, cal):
        untoned = model.judge([flat], [noon], 40.4, -3.7)[0]
        cal.glow = veil.GLOW ** 0.8  # the bar a site learns through gamma 0.8: its tone 0.8
        toned = model.judge([flat], [noon], 40.4, -3.7)[0]
    assert untoned.sun_state == "thin"
    assert toned.sun_state == "visible"


def test_a_disc_clipped_below_full_scale_and_tinted_is_the_sun_and_stands_out_as_it_did():
    # A camera that clips at 0.84 (LenghuSky-8's plateau) and a white balance applied after the clip: the disc reads
    # (235, 214, 193), flat in every channel but under SUN_LEVEL in all of them: it was refused (or the plateau search
    # in min(R, G, B), which the tint spreads over the blue glare, missed it) and a clear sky's sun said "covered".
    # Taking the disc's tint off the sky (each channel scaled so the disc reads white) gives back its standout
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    noon = datetime(2024, 6, 1, 11, 0, tzinfo=UTC)
    clear = 0.75 * np.asarray(Image.open(io.BytesIO(frame())).convert("RGB"), dtype=np.float32)
    yy, xx = np.mgrid[0:H, 0:W]
    clear[np.hypot(xx - SUN[0], yy - SUN[1]) <= 24] = 255
    clear = np.minimum(clear, 214)  # the sensor's clip
    views = []
    for gains in ((1.0, 1.0, 1.0), (1.1, 1.0, 0.9), (0.9, 1.0, 1.1)):
        buf = io.BytesIO()
        Image.fromarray(np.clip(clear * np.array(gains, np.float32) + 0.5, 0, 255).astype(np.uint8)).save(
            buf, "JPEG", quality=95)
        views.append(model.judge([model.decode(buf.getvalue())], [noon], 40.4, -3.7)[0])
    own = views[0]
    assert own.sun_state == "visible"
    for v in views[1:]:
        assert v.sky.seen and v.sun_state == "visible"
        assert v.sky.standout == pytest.approx(own.sky.standout, rel=0.05)
        assert v.octas == own.octas


def lit_from_above(dim: float) -> bytes:
    """The blue of `frame()`'s clear sky (read clear by its colour), its light falling toward the horizon by `dim`
    of the zenith's at the rim: an even deck lit from above, as blue as a clear sky."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    t = np.clip(np.hypot(xx - W // 2, yy - H // 2) / R, 0, 1)
    px = np.stack([60 + 60 * t, 110 + 60 * t, 210 + 30 * t]) * (1.0 - dim * t * t)[None]
    return _through_the_lens(Image.fromarray(np.clip(px, 0, 255).astype(np.uint8).transpose(1, 2, 0)))


def test_a_low_sun_sky_lit_from_above_reads_overcast_and_weak():
    # With the sun low a clear sky's zenith is its darkest part and it brightens toward the horizon; a deck lit from
    # above dims toward it. Both blue by colour: the light's shape decides, with the frame's time, sun under 13.5°
    from cielo.sources.skycam import lowsun
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    low, noon = datetime(2024, 6, 1, 5, 15, tzinfo=UTC), datetime(2024, 6, 1, 11, 0, tzinfo=UTC)  # Madrid: 4°, 66°

    def judged(jpeg: bytes, when: datetime | None):
        return model.judge([model.decode(jpeg)], [when], 40.4, -3.7)[0]

    def ratio(jpeg: bytes) -> float | None:
        f = model.decode(jpeg)
        geom = model.geometry(f)
        return lowsun.zenith_ratio(f.pixels, model.maps(f, geom).valid, geom)

    deck, clear = lit_from_above(0.6), frame()
    assert ratio(clear) < lowsun.ZENITH_BAR <= ratio(deck)
    veiled = judged(deck, low)
    assert veiled.octas == lowsun.OVERCAST_READ and veiled.flag == "uncertain"
    assert judged(deck, noon).octas <= 2  # the sun high: its aureole may light the zenith, the colour's answer
    assert judged(deck, None).octas <= 2  # no time known: no sun's altitude, the colour's answer
    assert judged(clear, low).octas == 0 and judged(clear, low).flag is None  # the daemon's own clear sky stays


def test_a_deck_lit_from_above_with_the_sun_just_over_the_rim_needs_the_higher_bar():
    # With the sun a little over the octa area's rim (13.5-20°) its aureole nears the zenith and a clear sky's ratio
    # rises: the rule reads on there, at ABOVE_RIM_BAR; with the sun over TOP_ALTITUDE it does not read at all
    from cielo.sources.skycam import lowsun
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    at = {alt: datetime(2024, 6, 1, h, m, tzinfo=UTC) for alt, h, m in ((4, 5, 15), (17, 6, 30), (23, 7, 0))}

    def judged(jpeg: bytes, alt: int):
        return model.judge([model.decode(jpeg)], [at[alt]], 40.4, -3.7)[0]

    def ratio(jpeg: bytes) -> float | None:
        f = model.decode(jpeg)
        geom = model.geometry(f)
        return lowsun.zenith_ratio(f.pixels, model.maps(f, geom).valid, geom)

    assert lowsun.RIM_ALTITUDE < 17 < lowsun.TOP_ALTITUDE < 23
    faint, deck = lit_from_above(0.5), lit_from_above(0.6)
    assert lowsun.ZENITH_BAR <= ratio(faint) < lowsun.ABOVE_RIM_BAR <= ratio(deck)
    assert judged(faint, 4).octas == lowsun.OVERCAST_READ  # under the rim the lower bar
    assert judged(faint, 17).octas <= 2  # over it the higher one: the colour's answer
    above = judged(deck, 17)
    assert above.octas == lowsun.OVERCAST_READ and above.flag == "uncertain"
    assert judged(deck, 23).octas <= 2  # the sun over TOP_ALTITUDE: the rule does not read


def low_deck(dim: float, glow: float, sun: tuple[int, int] = (W // 2 + 214, H // 2)) -> bytes:
    """lit_from_above(dim) with the sun seen near the rim and its glow (`glow` of the sky's light at the disc) over
    the sky on its side: a thin low deck that lets the sun's side shine."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    t = np.clip(np.hypot(xx - W // 2, yy - H // 2) / R, 0, 1)
    near = np.exp(-np.hypot(xx - sun[0], yy - sun[1]) / (0.6 * R))
    px = np.stack([60 + 60 * t, 110 + 60 * t, 210 + 30 * t]) * ((1.0 - dim * t * t) * (1.0 + glow * near))[None]
    sky = Image.fromarray(np.clip(px, 0, 255).astype(np.uint8).transpose(1, 2, 0))
    ImageDraw.Draw(sky).ellipse((sun[0] - 14, sun[1] - 14, sun[0] + 14, sun[1] + 14), fill=(255, 255, 255))
    return _through_the_lens(sky)


def test_a_low_deck_with_its_sun_side_lit_reads_overcast_by_its_missing_minimum():
    # The sun's glow through a thin low deck lights the horizon band on its side, and the zenith ratio stays under
    # its bar; the sky 90° from the sun is still as bright as the anti-solar sky, where a clear sky is darkest there
    from cielo.sources.skycam import lowsun, sunstate
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    low = datetime(2024, 6, 1, 5, 15, tzinfo=UTC)  # Madrid: the sun 4° up
    sun = (W // 2 + 214, H // 2)

    def judged(jpeg: bytes, when: datetime | None):
        return model.judge([model.decode(jpeg)], [when], 40.4, -3.7)[0]

    def ratios(jpeg: bytes) -> tuple[float | None, float | None]:
        f = model.decode(jpeg)
        geom = model.geometry(f)
        valid = model.maps(f, geom).valid
        seen = judged(jpeg, low).sky
        assert seen is not None and seen.seen  # the disc found where it was drawn (the model's frame is a quarter)
        assert (seen.x, seen.y) == (pytest.approx(sun[0] / 4, abs=1.5), pytest.approx(sun[1] / 4, abs=1.5))
        return (lowsun.zenith_ratio(f.pixels, valid, geom),
                lowsun.antisolar_ratio(f.pixels, valid, geom, (seen.x, seen.y)))

    deck, clear = low_deck(0.3, 0.3), frame(sun=sun)
    deck_zenith, deck_side = ratios(deck)
    _, clear_side = ratios(clear)
    assert deck_zenith < lowsun.ZENITH_BAR  # the zenith ratio alone reads it clear
    assert clear_side < lowsun.ANTISOLAR_BAR <= deck_side
    veiled = judged(deck, low)
    assert veiled.octas == lowsun.OVERCAST_READ and veiled.flag == "uncertain"
    assert judged(deck, None).octas <= 2  # no time known: no sun's altitude, the colour's answer
    assert judged(clear, low).octas == 0 and judged(clear, low).flag is None
    # over the octa area's rim the sun's aureole reaches the 90° band: the rule does not read
    assert lowsun.no_minimum(deck_side, lowsun.RIM_ALTITUDE - 0.1)
    assert not lowsun.no_minimum(deck_side, lowsun.RIM_ALTITUDE)
    # a sun not seen (covered, or no frame's sun at all) gives no side to read
    assert lowsun.seen_at(None) is None
    assert lowsun.seen_at(sunstate.SunView("covered", 1.0, 1.0, 133.0, 60.0, False, 1.0)) is None
    assert lowsun.antisolar_ratio(np.zeros((3, 120, 160), np.uint8), np.ones((120, 160), np.uint8),
                                  model.geometry(model.decode(deck)), None) is None


def test_a_glow_bar_from_few_clear_frames_reads_a_tone_curve_only_from_many():
    # from MIN_VEIL frames a bar near the reference's (its median's noise) gives the veil rule; a flatter one needs
    # MIN_CLEAR frames to be told from that noise (it would lower the haze bars through tone()): from fewer it serves
    # the veil alone, lowered by that noise
    from cielo.sources.skycam import veil

    assert veil.MIN_VEIL < veil.MIN_CLEAR
    assert veil.site_bar([1.79] * (veil.MIN_VEIL - 1))[0] is None
    assert veil.site_bar([1.79] * veil.MIN_VEIL)[0] == veil.GLOW  # the reference camera's clear median, capped
    near, toned, _ = veil.site_bar([1.72] * veil.MIN_VEIL)
    assert near == pytest.approx(1.72 ** veil.SHARE) and veil.tone(near) == 1.0 and toned
    # a flatter one from fewer than MIN_CLEAR: the veil's bar alone, lowered by its median's noise, no tone read
    flat, toned, note = veil.site_bar([1.64] * (veil.MIN_CLEAR - 1))
    assert flat == pytest.approx(1.64 ** veil.SHARE * math.exp(-veil.FEW_MARGIN)) and not toned and "tone curve" in note
    assert veil.site_bar([1.64] * veil.MIN_CLEAR)[:2] == (pytest.approx(1.64 ** veil.SHARE), True)


def test_a_veil_read_without_a_site_bar_is_read_alike_through_any_tone_curve():
    # uncalibrated, the glow is held against the disc's standout: a tone curve raises both to one power, so a
    # flatter or steeper camera reads the same sky alike, where one bar on the glow alone moves with the curve
    from cielo.sources.skycam import regime, sunstate, veil

    def view(glow: float, standout: float) -> sunstate.SunView:
        return sunstate.SunView("visible", 0.0, 0.0, 10.0, 10.0, True, 1.0, standout=standout, glow=glow)

    clear, flat = (1.8, 3.5), (1.4, 3.2)  # a clear sky's aureole, a veil's (LenghuSky-8: clear 0.42+, veils 0.27-0.39)
    for power in (0.8, 1.0, 1.25):
        assert not veil.veiled(regime.DAY, 0, view(*(v ** power for v in clear)), 40.0, None, uncalibrated=True)
        assert veil.veiled(regime.DAY, 0, view(*(v ** power for v in flat)), 40.0, None, uncalibrated=True)
    # one bar on the glow alone reads the clear sky through gamma 0.8 as the veil (1.8 ** 0.8 = 1.60, 1.4 = 1.31)
    assert veil.veiled(regime.DAY, 0, view(*(v ** 0.8 for v in clear)), 40.0, 1.62)
    # a site bar, where learned, decides alone; a calibration without one, the sun under SUN_ALTITUDE or an answer
    # already overcast: never
    assert not veil.veiled(regime.DAY, 0, view(*flat), 40.0, 1.3)
    assert not veil.veiled(regime.DAY, 0, view(*flat), 40.0, None)
    assert not veil.veiled(regime.DAY, 0, view(*flat), veil.SUN_ALTITUDE - 1, None, uncalibrated=True)
    assert not veil.veiled(regime.DAY, veil.OVERCAST_READ, view(*flat), 40.0, None, uncalibrated=True)
    # a "disc" hardly over its sky (a sunless frame's brightest patch) is no disc to hold a glow against
    hardly = view(1.07, 1.22)
    assert math.log(1.07) < veil.FLAT_FOR_DISC * math.log(1.22)
    assert not veil.veiled(regime.DAY, 0, hardly, 40.0, None, uncalibrated=True)


def pale_sky(minimum: bool, sun: tuple[int, int] = (W // 2 + 214, H // 2)) -> bytes:
    """A pale blue-grey sky (every pixel under the clear-sky colour: read overcast) with the sun's saturated disc near
    the rim and its aureole; `minimum`: a clear sky's light, darkest 90° from the sun and brighter again toward the
    anti-solar sky (a dusty dome's glare over it), else a deck's, falling steadily away from the sun."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    za = np.radians(np.clip(np.hypot(xx - W // 2, yy - H // 2) / R, 0, 1) * 90)
    az = np.arctan2(yy - H // 2, xx - W // 2)
    sz = np.radians(min(math.hypot(sun[0] - W // 2, sun[1] - H // 2) / R, 1.0) * 90)
    sa = math.atan2(sun[1] - H // 2, sun[0] - W // 2)
    cos_g = np.cos(za) * math.cos(sz) + np.sin(za) * math.sin(sz) * np.cos(az - sa)
    g = np.arccos(np.clip(cos_g, -1, 1))
    shape = 0.6 + 0.4 * cos_g * cos_g if minimum else 1.0 - 0.25 * g / np.pi
    px = np.array([80, 86, 96], np.float32)[:, None, None] * shape[None] + (100 * np.exp(-g / 0.35))[None]
    sky = Image.fromarray(np.clip(px, 0, 255).astype(np.uint8).transpose(1, 2, 0))
    ImageDraw.Draw(sky).ellipse((sun[0] - 14, sun[1] - 14, sun[0] + 14, sun[1] + 14), fill=(255, 255, 255))
    return _through_the_lens(sky)


def test_a_pale_cameras_clear_sky_is_read_by_its_own_sky_where_its_rayleigh_minimum_shows():
    # uncalibrated, a dusty dome's glare pales a clear sky under every colour bar; with the sun under the haze path's
    # altitude (or its disc's standout under that path's bar) the sky 90° from the sun still darker than the
    # anti-solar sky says a clear sky: read by its own sky, and weak. A deck as pale, its light falling steadily from
    # the sun, stays overcast.
    from cielo.sources.skycam import haze, lowsun
    from cielo.sources.skycam.model import OctaModel

    model = OctaModel()
    morning = datetime(2024, 6, 1, 6, 30, tzinfo=UTC)  # Madrid: the sun 17° up

    def judged(jpeg: bytes, when: datetime | None):
        return model.judge([model.decode(jpeg)], [when], 40.4, -3.7)[0]

    def side(jpeg: bytes) -> float | None:
        f = model.decode(jpeg)
        geom = model.geometry(f)
        seen = lowsun.seen_at(judged(jpeg, morning).sky)
        return lowsun.antisolar_ratio(f.pixels, model.maps(f, geom).valid, geom, seen)

    clear, deck = pale_sky(True), pale_sky(False)
    for jpeg in (clear, deck):
        assert model.predict([model.decode(jpeg)])[0].argmax() >= haze.OVERCAST_READ  # the colour reads overcast
    assert side(clear) <= haze.PALE_SIDE < side(deck)
    pale = judged(clear, morning)
    assert pale.sun_elevation < haze.SUN_ALTITUDE  # not the haze path's sun
    assert pale.sky.seen and pale.sky.standout >= haze.PALE_STANDOUT
    assert pale.octas <= haze.PALE_READ and pale.flag == "uncertain"
    assert judged(deck, morning).octas >= haze.OVERCAST_READ
    assert judged(clear, None).octas >= haze.OVERCAST_READ  # no time known: no sun's altitude, the colour's answer
