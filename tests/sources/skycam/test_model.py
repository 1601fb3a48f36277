from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from cielo.sources.skycam.model import ModelError, OctaModel, bundled_model
from tests.conftest import ROOT, cielo, write_config
from tests.support.camserver import sky_jpeg


def test_build_script_reproduces_the_committed_model(tmp_path: Path):
    subprocess.run([sys.executable, str(ROOT / "models" / "build_octas.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    assert (tmp_path / "octas.onnx").read_bytes() == (ROOT / "models" / "octas.onnx").read_bytes()
    assert (tmp_path / "octas.json").read_text() == (ROOT / "models" / "octas.json").read_text()


def test_model_io_matches_the_contract_and_card():
    model = onnx.load(str(ROOT / "models" / "octas.onnx"))
    card = json.loads((ROOT / "models" / "octas.json").read_text())
    initializers = {t.name for t in model.graph.initializer}
    (inp,) = [i for i in model.graph.input if i.name not in initializers]  # the rest are optional overrides
    assert inp.name == "image"
    dims = [d.dim_value or d.dim_param for d in inp.type.tensor_type.shape.dim]
    assert dims == ["N", 3, card["input"]["height"], card["input"]["width"]]
    assert [o.name for o in model.graph.output] == ["probs"]


def test_probs_are_distributions_for_any_batch():
    m = OctaModel()
    rng = np.random.default_rng(1)
    for n in (1, 5, 40):
        frames = [m.decode(sky_jpeg(float(c), seed=i)) for i, c in enumerate(rng.random(n))]
        probs = m.predict(frames)
        assert probs.shape == (n, 9)
        assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
        assert (probs >= 0).all()


def test_octas_follow_cloud_cover():
    m = OctaModel()
    frames = [m.decode(sky_jpeg(c, seed=3)) for c in (0.0, 0.5, 1.0)]
    verdicts = m.judge(frames, [None] * 3, 0.0, 0.0)
    octas = [v.octas for v in verdicts]
    assert octas[0] <= 1 and octas[2] >= 7 and octas[0] < octas[1] < octas[2], octas
    assert all(0 < v.confidence <= 1 for v in verdicts)
    # broken cloud is the answer most often wrong: the least sure, octas kept (test_confidence.py)
    assert verdicts[0].flag is None and verdicts[2].flag is None
    assert verdicts[1].confidence < min(verdicts[0].confidence, verdicts[2].confidence)


def test_dark_frame_has_no_octas():
    m = OctaModel()
    (v,) = m.judge([m.decode(sky_jpeg(0.5, seed=1, dark=True))], [None], 0.0, 0.0)
    assert (v.octas, v.flag, v.probs) == (None, "dark", None)


def _constant_model(path: Path, octa: int, dynamic: bool = False) -> Path:
    """Another model with the contract's I/O: always says `octa`; proves the model is replaceable."""
    h, w = ("H", "W") if dynamic else (64, 64)
    logits = [10.0 if k == octa else 0.0 for k in range(9)]
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["m"], keepdims=0, axes=[1, 2, 3]),
        helper.make_node("Unsqueeze", ["m", "ax"], ["m2"]),
        helper.make_node("Mul", ["m2", "zero"], ["z"]),
        helper.make_node("Add", ["z", "logits"], ["l"]),
        helper.make_node("Softmax", ["l"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "const",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, h, w])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 9])],
        [
            helper.make_tensor("ax", TensorProto.INT64, [1], [1]),
            helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("logits", TensorProto.FLOAT, [1, 9], logits),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, str(path))
    return path


def test_a_dropped_in_model_is_used(tmp_path: Path):
    _constant_model(tmp_path / "mine.onnx", 6)
    img = tmp_path / "sky.jpg"
    img.write_bytes(sky_jpeg(0.0, seed=2))
    cfg = write_config(tmp_path / "c.toml", {"skycam": {"model": "mine.onnx"}})
    result = cielo("classify", "--json", str(img), config=cfg)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["octas"] == 6


def test_dynamic_size_model_reads_its_card(tmp_path: Path):
    path = _constant_model(tmp_path / "dyn.onnx", 2, dynamic=True)
    with pytest.raises(ModelError, match="does not give it"):
        OctaModel(path)
    path.with_suffix(".json").write_text(json.dumps({"input": {"height": 48, "width": 64}}))
    m = OctaModel(path)
    assert (m.height, m.width) == (48, 64)
    assert m.judge([m.decode(sky_jpeg(0.3, seed=1))], [None], 0, 0)[0].octas == 2


def test_wrong_model_is_one_line(tmp_path: Path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    img = tmp_path / "sky.jpg"
    Image.new("RGB", (64, 48), (90, 140, 230)).save(img)
    cfg = write_config(tmp_path / "c.toml", {"skycam": {"model": str(bad)}})
    result = cielo("classify", str(img), config=cfg)
    assert result.returncode == 1
    assert result.stderr.startswith("cielo: error: ") and result.stderr.count("\n") == 1
    assert "cannot load the octa model" in result.stderr


def test_bundled_model_exists():
    assert bundled_model().is_file()


def test_wheel_carries_the_model(tmp_path: Path):
    """An installed (non-editable) cielo finds its model inside the package."""
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(ROOT),
                    "-w", str(tmp_path)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("cielo-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"cielo/_model/octas.onnx", "cielo/_model/octas.json", "cielo/sources/skycam/source.py"} <= set(names)
    assert zipfile.ZipFile(wheel).read("cielo/_model/octas.onnx") == (ROOT / "models" / "octas.onnx").read_bytes()


def _brightness_model(path: Path) -> Path:
    """A contract model without calibration initializers: P(0 octas) grows with the image's mean."""
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["m"], keepdims=0, axes=[1, 2, 3]),
        helper.make_node("Unsqueeze", ["m", "ax"], ["m2"]),
        helper.make_node("Mul", ["m2", "first"], ["l"]),
        helper.make_node("Softmax", ["l"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "bright",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 48, 64])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 9])],
        [helper.make_tensor("ax", TensorProto.INT64, [1], [1]),
         helper.make_tensor("first", TensorProto.FLOAT, [1, 9], [10.0] + [0.0] * 8)],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


def test_calibration_reaches_any_model(tmp_path: Path):
    """The bundled model takes the site mask and threshold as overridable initializers (its only input stays
    `image`); a model without them gets the masked pixels as black."""
    from cielo.sources.skycam.calibration import Calibration

    mask = np.zeros((120, 160), dtype=bool)
    mask[:, :80] = True
    cal = Calibration(120, 160, mask, 0.1, 10, "2025-01-01T00:00:00Z", "test")
    bundled = OctaModel()
    assert {"site_mask", "sky_threshold"} <= set(bundled.overridable)
    assert [i.name for i in bundled.session.get_inputs()] == ["image"]
    other = OctaModel(_brightness_model(tmp_path / "b.onnx"))
    frame = other.decode(sky_jpeg(0.0, seed=1))
    plain = other.predict([frame])[0, 0]
    other.calibrate(cal)
    assert other.predict([frame])[0, 0] < plain  # half the frame now black: a darker mean
    # the bundled model: masking the half with all the cloud leaves a clear sky
    m = OctaModel()
    img = np.asarray(Image.open(__import__("io").BytesIO(sky_jpeg(0.0, seed=1))).convert("RGB")).copy()
    img[:, 320:] = (220, 220, 225)  # right half overcast
    buf = __import__("io").BytesIO()
    Image.fromarray(img).save(buf, "JPEG")
    cloudy = m.decode(buf.getvalue())
    assert m.judge([cloudy], [None], 0, 0)[0].octas >= 4
    m.calibrate(cal)
    assert m.judge([cloudy], [None], 0, 0)[0].octas <= 1


# --- whole frames: the lens circle, the clear sky with the sun in view, a starry night ----------------------

def _whole_frame(size=(640, 480), centre=(330, 236), radii=(228, 220), sun=(0.45, -0.3), cloud: float = 0.0,
                 mast: bool = True, seed: int = 0, glow: float = 0.18,
                 haze=(200.0, 215.0, 240.0)) -> bytes:
    """A fisheye frame made here: black surround, an elliptical lens (pixels not square), a clear sky whose
    NRBR falls toward the horizon and toward the sun (pale circumsolar sky around a saturated sun disc),
    optional grey cloud blobs covering `cloud` of the lens, and a dark mast at the lens edge. `glow`: how far
    (lens radii) the circumsolar paling reaches; `haze`: the colour the sky pales to."""
    w, h = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = (xx - centre[0]) / radii[0], (yy - centre[1]) / radii[1]
    rho = np.sqrt(u * u + v * v)
    gam = np.hypot(u - sun[0], v - sun[1])
    pale = np.clip(0.75 * rho**2 + 0.9 * np.exp(-gam / glow), 0, 1)[..., None]  # horizon haze, circumsolar
    deep, white = np.array([55.0, 110.0, 225.0]), np.array(haze)
    img = deep * (1 - pale) + white * pale
    img[gam < 0.05] = 255.0  # the sun's saturated disc
    if cloud > 0:
        # a whole cover at once: blobs centred within 0.8 take thousands of draws to reach the lens edge
        blobs = rho <= 1 if cloud >= 1 else np.zeros((h, w), dtype=bool)
        while (blobs & (rho <= 1)).sum() < cloud * (rho <= 1).sum():
            cx, cy = rng.uniform(-0.8, 0.8, 2)
            blobs |= np.hypot(u - cx, v - cy) < rng.uniform(0.1, 0.3)
        img[blobs] = rng.uniform(190, 225)
    if mast:
        img[(np.abs(u + 0.75) < 0.04) & (v > 0.3)] = (25.0, 25.0, 22.0)
    img[rho > 1] = 0.0
    img += rng.normal(0, 2.0, img.shape)
    buf = __import__("io").BytesIO()
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_lens_ellipse_is_found_from_the_black_surround():
    from cielo.sources.skycam import lens

    m = OctaModel()
    frame = m.decode(_whole_frame())
    g = frame.lens.scaled(640, 480)
    assert g.found
    assert abs(g.cx - 330) < 8 and abs(g.cy - 236) < 8, g
    assert abs(g.rx - 228) < 10 and abs(g.ry - 220) < 10, g
    # a frame with no surround (a plain camera or a crop) is all sky
    full = m.decode(_plain_sky())
    assert not full.lens.found and lens.all_sky(160, 120).rho().max() == 0


def _plain_sky() -> bytes:
    img = np.zeros((480, 640, 3), dtype=np.uint8)
    img[...] = (80, 140, 230)
    img[:, 320:] = (210, 210, 215)
    buf = __import__("io").BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_clear_whole_frame_with_the_sun_reads_clear():
    """The failure of cielo 2 on real cameras: a clear fisheye sky (pale horizon, pale circumsolar sky, sun
    in view, black surround, a mast) read 3-4 octas. It must read 0-1; and clouds still count."""
    m = OctaModel()
    for seed, sun in enumerate([(0.45, -0.3), (-0.2, 0.5), (0.0, 0.0), (0.7, 0.1)]):
        (v,) = m.judge([m.decode(_whole_frame(sun=sun, seed=seed))], [None], 0.0, 0.0)
        assert v.flag is None and v.octas is not None and v.octas <= 1, (sun, v.octas, v.probs)
    half = m.judge([m.decode(_whole_frame(cloud=0.5, seed=7))], [None], 0.0, 0.0)[0].octas
    full = m.judge([m.decode(_whole_frame(cloud=1.0, seed=8))], [None], 0.0, 0.0)[0].octas
    assert 2 <= half <= 6 and full >= 7, (half, full)


def test_low_sun_pale_half_of_a_clear_sky_reads_clear():
    """A morning sun at the lens edge pales half of a clear sky smoothly (LenghuSky-8: NRBR under the
    reference over the sun's half, far beyond the glare disc). One threshold read it 3-4 octas; the frame's
    own clear-sky surface reads it clear, while cloud on the same sky and a grey overcast still count."""
    from cielo.sources.skycam import lens

    m = OctaModel()
    pale = {"glow": 1.2, "haze": (215.0, 220.0, 230.0)}  # a low sun greys the sky over most of the lens
    frames = [m.decode(_whole_frame(sun=sun, seed=seed, **pale))
              for seed, sun in enumerate([(0.95, 0.0), (-0.9, 0.35), (0.2, -0.95)])]
    for frame in frames:
        maps = m.maps(frame)
        nrbr = lens.nrbr(frame.pixels)
        valid = maps.valid > 0
        assert (nrbr[valid] < m.reference.zenith).mean() > 0.25  # one threshold: 2-3 octas of cloud
        assert lens.clear_sky_surface(nrbr, valid, frame.lens.rho(), None) is not None
    for v in m.judge(frames, [None] * len(frames), 0.0, 0.0):
        assert v.octas is not None and v.octas <= 1, (v.octas, v.probs)
    half = m.judge([m.decode(_whole_frame(sun=(0.95, 0.0), cloud=0.5, seed=7, **pale))], [None], 0.0, 0.0)[0]
    full = m.judge([m.decode(_whole_frame(sun=(0.95, 0.0), cloud=1.0, seed=8, **pale))], [None], 0.0, 0.0)[0]
    assert 2 <= half.octas <= 6 and full.octas >= 7, (half.octas, full.octas)


def _night_frame(cloud: float, seed: int = 0) -> bytes:
    """An astronomer's long exposure: a dark sky full of stars in a black surround; grey lit cloud hides the
    stars over `cloud` of the lens (the left part)."""
    w, h = 640, 480
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    rho = np.hypot((xx - 320) / 225, (yy - 240) / 225)
    img = np.zeros((h, w, 3)) + np.array([28.0, 30.0, 38.0])
    stars = rng.random((h, w)) < 0.012
    img[stars] = rng.uniform(150, 255, (int(stars.sum()), 1))
    if cloud > 0:
        edge = np.quantile(xx[rho <= 0.85], cloud)
        lit = (xx < edge) & (rho <= 1)
        img[lit] = np.array([95.0, 92.0, 88.0]) + rng.normal(0, 3, (int(lit.sum()), 3))
    img[rho > 1] = 0
    buf = __import__("io").BytesIO()
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_starry_night_is_judged_not_flagged():
    m = OctaModel()
    clear, half, covered = (m.decode(_night_frame(c, seed=i)) for i, c in enumerate((0.0, 0.5, 1.0)))
    verdicts = m.judge([clear, half, covered], [None] * 3, 0.0, 0.0)
    octas = [v.octas for v in verdicts]
    assert all(v.flag in (None, "uncertain") and v.octas is not None for v in verdicts), verdicts  # judged
    assert octas[0] <= 1 and 2 <= octas[1] <= 6 and octas[2] >= 7, octas


def _grey(jpeg: bytes) -> bytes:
    buf = __import__("io").BytesIO()
    Image.open(__import__("io").BytesIO(jpeg)).convert("L").convert("RGB").save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_monochrome_frame_by_day_is_flagged_never_a_confident_8():
    """A monochrome camera (cloudynight: every grey clear night read 8 by colour) has no colour to judge by,
    and by day no stars: a grey frame with the sun up is flagged `night` with no octas, clear or overcast;
    without a time it is never a confident answer; a colour frame still reads."""
    m = OctaModel()
    grey = [m.decode(_grey(_whole_frame(cloud=1.0, seed=4))), m.decode(_grey(_whole_frame(seed=5)))]
    noon = datetime(2024, 6, 21, 12, 0, tzinfo=UTC)
    for v in m.judge(grey, [noon] * 2, 0.0, 0.0):
        assert (v.octas, v.flag, v.probs) == (None, "night", None), v
    for v in m.judge(grey, [None] * 2, 0.0, 0.0):
        assert v.flag in ("night", "uncertain"), v
    (colour,) = m.judge([m.decode(_whole_frame(seed=5))], [None], 0.0, 0.0)
    assert colour.flag is None and colour.octas is not None and colour.octas <= 1


def test_monochrome_starry_night_reads_octas_from_its_stars_marked_uncertain():
    """A monochrome night frame with stars over half its sky and a smooth lit patch over the other reads
    about half cloudy; a starry one clear, a covered one overcast; always `uncertain`, with octas. The patch
    covers 55 %: a cell with any star is clear, and a sliver of stars beside an edge through the lens centre
    (a cell boundary) would clear the cells along it."""
    m = OctaModel()
    frames = [m.decode(_grey(_night_frame(c, seed=10 + i))) for i, c in enumerate((0.0, 0.55, 1.0))]
    assert all(f.grey is not None for f in frames)  # read at a size where the stars survive
    clear, half, covered = m.judge(frames, [None] * 3, 0.0, 0.0)
    for v in (clear, half, covered):
        assert v.flag == "uncertain" and v.octas is not None and v.probs is not None, v
        assert v.confidence == v.probs[v.octas] and abs(sum(v.probs) - 1) < 1e-6
    assert clear.octas <= 1 and 3 <= half.octas <= 5 and covered.octas >= 7, (clear.octas, half.octas, covered.octas)
