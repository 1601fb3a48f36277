from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import cielo, write_config
from tests.support.camserver import sky_jpeg


def _images(tmp_path: Path) -> dict[str, Path]:
    out = {}
    # "dim": a night frame with some colour left (a grey one is monochrome: flagged whatever the time)
    for name, data in {"clear": sky_jpeg(0.0, seed=1), "overcast": sky_jpeg(1.0, seed=1),
                       "dark": sky_jpeg(0.4, seed=1, dark=True), "dim": sky_jpeg(0.6, seed=1, dim=True)}.items():
        out[name] = tmp_path / f"{name}.jpg"
        out[name].write_bytes(data)
    png = tmp_path / "overcast.png"
    Image.open(out["overcast"]).save(png)
    out["png"] = png
    return out


def test_plain_output(tmp_path: Path):
    imgs = _images(tmp_path)
    result = cielo("classify", str(imgs["clear"]), str(imgs["overcast"]), str(imgs["dark"]))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # The synthetic camera's pale horizon reads as a little cloud until the site is calibrated (test_calibrate).
    assert re.match(rf"{re.escape(str(imgs['clear']))}: [01] octas \(confidence ", lines[0]), lines[0]
    assert lines[1].startswith(f"{imgs['overcast']}: 8 octas (confidence ")
    assert lines[2] == f"{imgs['dark']}: dark"
    assert lines[3] == "calibration: none (model defaults)"


def test_json_lines(tmp_path: Path):
    imgs = _images(tmp_path)
    result = cielo("classify", "--json", str(imgs["overcast"]), str(imgs["png"]), str(imgs["dark"]))
    assert result.returncode == 0, result.stderr
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    sectors = {"cover_n", "cover_e", "cover_s", "cover_w", "cover_sun_path"}  # null: no orientation calibrated
    assert [set(o) for o in objs] == [{"file", "octas", "confidence", "probs", "flag", "light", "seen_light",
                                       "sun", "calibration", *sectors}] * 3
    assert objs[0]["file"] == str(imgs["overcast"]) and objs[0]["octas"] == 8 and objs[0]["flag"] is None
    assert len(objs[0]["probs"]) == 9 and abs(sum(objs[0]["probs"]) - 1) < 1e-3
    assert objs[0]["confidence"] == max(objs[0]["probs"])
    assert objs[1]["octas"] == 8  # PNG reads too
    assert objs[2] == {"file": str(imgs["dark"]), "octas": None, "confidence": None, "probs": None, "flag": "dark",
                       "light": None, "seen_light": None, "sun": None, "calibration": None,
                       **dict.fromkeys(sectors)}  # no time known
    assert all(objs[0][k] is None for k in sectors)


def test_unreadable_files_are_invalid_and_exit_1(tmp_path: Path):
    imgs = _images(tmp_path)
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(imgs["clear"].read_bytes()[:3000])
    html = tmp_path / "page.jpg"
    html.write_text("<html><body>error</body></html>")
    result = cielo("classify", "--json", str(truncated), str(html), str(tmp_path / "absent.jpg"),
                   str(imgs["clear"]))
    assert result.returncode == 1
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["flag"], o["octas"] is None) for o in objs] == [("invalid", True)] * 3 + [(None, False)]
    assert "No such file" in objs[2]["error"]
    plain = cielo("classify", str(html))
    assert plain.returncode == 1
    assert plain.stdout == f"{html}: invalid: not an image format cielo can read\ncalibration: none (model defaults)\n"


def test_night_rule_needs_a_known_time(tmp_path: Path):
    imgs = _images(tmp_path)
    cfg = write_config(tmp_path / "c.toml", {"device": {"latitude": 40.4, "longitude": -3.7}})
    night = cielo("classify", "--json", "--at", "2024-06-01T00:02Z", str(imgs["dim"]), config=cfg)
    assert json.loads(night.stdout)["flag"] == "night" and json.loads(night.stdout)["octas"] is None
    # A frame bright enough to judge at night (a long-exposure camera, like SWINSEG's) gets octas.
    lit = cielo("classify", "--json", "--at", "2024-06-01T00:02Z", str(imgs["overcast"]), config=cfg)
    assert json.loads(lit.stdout)["flag"] is None and json.loads(lit.stdout)["octas"] == 8
    day = cielo("classify", "--json", "--at", "2024-06-01T12:02Z", str(imgs["overcast"]), config=cfg)
    assert json.loads(day.stdout)["octas"] == 8
    untimed = cielo("classify", "--json", str(imgs["dim"]), config=cfg)  # file time is never used
    got = json.loads(untimed.stdout)
    assert got["flag"] in (None, "uncertain") and got["octas"] is not None  # judged, however weakly


def test_exif_time_enables_the_night_rule(tmp_path: Path):
    imgs = _images(tmp_path)
    im = Image.open(imgs["dim"])
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2024:06:01 02:02:00"  # DateTimeOriginal, local time
    exif.get_ifd(0x8769)[36881] = "+02:00"  # OffsetTimeOriginal
    tagged = tmp_path / "tagged.jpg"
    im.save(tagged, exif=exif)
    cfg = write_config(tmp_path / "c.toml", {"device": {"latitude": 40.4, "longitude": -3.7}})
    result = cielo("classify", "--json", str(tagged), config=cfg)
    assert json.loads(result.stdout)["flag"] == "night"


def test_exif_date_in_ifd0_is_the_frame_time(tmp_path: Path):
    """Pillow's own `Image.Exif` (tags set without `get_ifd`) and some cameras put DateTimeOriginal in IFD0, not in
    the Exif sub-IFD: it is still the frame's time (the night rule fires for the same dim frame as above)."""
    imgs = _images(tmp_path)
    exif = Image.Exif()
    exif[36867] = "2024:06:01 02:02:00"
    exif[36881] = "+02:00"
    tagged = tmp_path / "ifd0.jpg"
    Image.open(imgs["dim"]).save(tagged, exif=exif)
    assert not Image.open(tagged).getexif().get_ifd(0x8769)  # really not in the sub-IFD
    cfg = write_config(tmp_path / "c.toml", {"device": {"latitude": 40.4, "longitude": -3.7}})
    result = cielo("classify", "--json", str(tagged), str(imgs["dim"]), config=cfg)
    assert result.returncode == 0, result.stderr
    tagged_flag, untagged_flag = (json.loads(line)["flag"] for line in result.stdout.splitlines())
    assert tagged_flag == "night" and untagged_flag != "night"  # the untagged copy has no time


def test_bad_at_is_usage_error(tmp_path: Path):
    imgs = _images(tmp_path)
    result = cielo("classify", "--at", "tomorrow", str(imgs["clear"]))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--at" in result.stderr


def test_exif_date_stored_as_bytes_is_read_and_the_run_goes_on(tmp_path: Path):
    """Some cameras write DateTimeOriginal as bytes (EXIF type UNDEFINED), NUL-padded: it is still the frame's
    time, and it never ends the run."""
    imgs = _images(tmp_path)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = b"2024:06:01 02:02:00\x00"
    exif.get_ifd(0x8769)[36881] = b"+02:00\x00"
    tagged = tmp_path / "bytes.jpg"
    Image.open(imgs["dim"]).save(tagged, exif=exif)
    cfg = write_config(tmp_path / "c.toml", {"device": {"latitude": 40.4, "longitude": -3.7}})
    result = cielo("classify", "--json", str(tagged), str(imgs["overcast"]), config=cfg)
    assert result.returncode == 0, result.stderr
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["flag"] for o in objs] == ["night", None] and objs[1]["octas"] == 8


def test_overlay_draws_one_png_per_judged_frame(tmp_path: Path):
    imgs = _images(tmp_path)
    out = tmp_path / "seen"
    broken = tmp_path / "broken.jpg"
    broken.write_text("not an image")
    result = cielo("classify", "--overlay", str(out), str(imgs["clear"]), str(imgs["overcast"]), str(broken))
    assert result.returncode == 1 and f"{broken}: invalid" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["clear.png", "overcast.png"]

    def tinted(name: str) -> float:  # share of pixels drawn in the cloud tint (magenta: R and B high, G low)
        a = np.asarray(Image.open(out / name).convert("RGB"), dtype=np.int16)
        return float(((a[..., 0] - a[..., 1] > 60) & (a[..., 2] - a[..., 1] > 60)).mean())

    with Image.open(out / "overcast.png") as im:
        assert im.format == "PNG" and im.size == (640, 480)
    assert tinted("overcast.png") > 0.3 > 0.05 > tinted("clear.png")


def test_a_moonlit_night_answer_keeps_its_octas_and_says_its_light(tmp_path: Path):
    imgs = _images(tmp_path)
    cfg = write_config(tmp_path / "c.toml", {"device": {"latitude": 40.4, "longitude": -3.7}})
    # 2024-01-26 00:00 UTC: a full moon about 70 deg up over Madrid; 2024-06-01 12:00 UTC: midday
    moonlit = cielo("classify", "--json", "--at", "2024-01-26T00:00Z", str(imgs["overcast"]), config=cfg)
    day = cielo("classify", "--json", "--at", "2024-06-01T12:00Z", str(imgs["overcast"]), config=cfg)
    m, d = json.loads(moonlit.stdout), json.loads(day.stdout)
    assert m["octas"] == 8 and m["flag"] in (None, "uncertain")  # the starless bright sky stays overcast
    assert (d["flag"], d["octas"]) == (None, 8)


def test_twilight_reads_an_evenly_lit_blue_sky_as_overcast(tmp_path: Path):
    """At twilight an overcast sky is as blue as a clear one but evenly lit; by day the same colour is sky."""
    w, h = 640, 480
    yy, xx = np.mgrid[0:h, 0:w]
    disc = (xx - w / 2) ** 2 + (yy - h / 2) ** 2 <= 230**2
    rng = np.random.default_rng(3)
    rgb = np.zeros((h, w, 3)) + rng.normal(0, 2, (h, w, 1))
    rgb[disc] += [110.0, 140.0, 210.0]
    rgb[~disc] = 0
    frame = tmp_path / "even.jpg"
    Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(frame, quality=92)
    cfg = write_config(tmp_path / "c.toml", {"device": {"latitude": 40.4, "longitude": -3.7}})
    # 2024-06-01: sunset at Madrid about 19:45 UTC; at 20:15 the sun is about 5 deg below the horizon
    dusk = cielo("classify", "--json", "--at", "2024-06-01T20:15Z", str(frame), config=cfg)
    noon = cielo("classify", "--json", "--at", "2024-06-01T12:00Z", str(frame), config=cfg)
    assert json.loads(dusk.stdout)["octas"] == 8
    assert json.loads(noon.stdout)["octas"] <= 1
