"""The octa model: decode images, run the ONNX graph in batches, and apply the night and dark rules.

Any ONNX file with the contract's I/O works (docs/contract.md, Octa model): input `image` float32 [N, 3, H, W] RGB
in 0..1, output `probs` float32 [N, 9]. H and W come from the model's input shape, else from its card
(the .json beside it). cielo decides `night` and `dark` itself, so a dropped-in model needs no such logic.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import warnings
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from cielo.astro import sun
from cielo.errors import CieloError
from cielo.sources.skycam import (
    confidence,
    daylight,
    haze,
    lens,
    lowsun,
    mono,
    night,
    orientation,
    ownsplit,
    regime,
    sectors,
    sunstate,
    twilight,
    veil,
)
from cielo.sources.skycam.calibration import (
    FRAME_WARM_SUN,
    NIGHT_CAST,
    Calibration,
    frame_cast,
    frame_lens,
    uncast_frame,
)
from cielo.sources.skycam.frame import Frame

# A frame whose brightest channel averages under this (0..1) is too dark to judge: a night frame, a closed
# dome, a dead camera. Daytime sky, even overcast, sits well above 0.15.
DARK_MEAN = 0.08

# With the sun below -6° a frame is judged only when it is at least this bright: a long-exposure night
# camera whose clouds glow with city light (SWINSEG: 0.25..0.54). Most cameras at night are far darker.
NIGHT_JUDGE_MEAN = 0.15

# A frame whose 99.9th-percentile chroma, max(R, G, B) - min(R, G, B) (0..255), is at most this has no
# colour: a monochrome camera (an astronomer's night camera: its JPEGs are exactly grey). The colour ratio
# says nothing there, so such a frame is never read by colour (a grey clear night would read 8): its point
# sources give octas marked uncertain (mono.py), and a frame without any is flagged `night`. Colour cameras,
# even overcast or at night, measure 8 or more at the 99th percentile (TSI, LenghuSky day and night, SWIMSEG,
# SWINSEG, HYTA); cloudynight measures 0; a synthetic grey overcast with sensor noise 5.
MONOCHROME_CHROMA = 2

# Images per onnxruntime call: each graph intermediate is N x H x W floats, so large batches cost memory.
# The graph of cielo 3 has ~70 full-frame intermediates: at 16 a capture grew 49 MB, at 4 it grows 24 MB
# (cielo 2 at 16: 23 MB), and the per-call overhead is small next to decoding and the lens fit. At 1 a
# 14-day backfill peaks ~8 MB under 4 for ~0.1 ms more per image (bench/backfill_process.py).
INFER_BATCH = 1

# Frames whose horizon fits (night.rises) one OctaModel keeps while judging a batch; judge() empties it.
RISE_MEMO = 64

# Pillow refuses bigger images by default (decompression bombs); a sky camera is far below this.
Image.MAX_IMAGE_PIXELS = 64_000_000


class ModelError(CieloError):
    pass


class ImageError(CieloError):
    """The bytes are not an image we can judge."""


@dataclass(frozen=True, slots=True)
class Verdict:
    octas: int | None
    confidence: float | None
    probs: list[float] | None
    flag: str | None  # None, "night", "dark", "invalid", or "uncertain" (octas kept: a weak answer)
    sun_elevation: float | None = None
    brightness: float | None = None
    light: str | None = None  # regime.REGIMES, from the frame's time; None: time unknown
    sky: sunstate.SunView | None = None  # the sun's state, the cloud around it, the motion field
    evidence: confidence.Evidence | None = None  # what the confidence was drawn from (not stored)
    seen_light: str | None = None  # time unknown: regime.DAY when judged by the day rules as the frame shows daylight

    @property
    def sun_state(self) -> str | None:
        return None if self.sky is None else self.sky.state

    def attrs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"flag": self.flag}
        if self.light is not None:
            out["light"] = self.light
        if self.seen_light is not None:
            out["seen_light"] = self.seen_light
        out.update(self.sky.attrs() if self.sky is not None else {"sun": None})
        if self.confidence is not None:
            out["confidence"] = round(self.confidence, 4)
        if self.probs is not None:
            out["probs"] = [round(p, 4) for p in self.probs]
        if self.sun_elevation is not None:
            out["sun_elevation"] = round(self.sun_elevation, 2)
        if self.brightness is not None:
            out["brightness"] = round(self.brightness, 4)
        return out


def bundled_model() -> Path:
    """The model shipped with cielo: inside the wheel, or models/ of a source checkout."""
    packaged = resources.files("cielo") / "_model" / "octas.onnx"
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[4] / "models" / "octas.onnx"


def _brightest(rgb: np.ndarray) -> np.ndarray:
    """uint8 [H, W]: max(R, G, B) of an [H, W, 3] image (per plane: numpy reduces a length-3 axis slowly)."""
    return np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])


def _halved(a: np.ndarray) -> np.ndarray:
    """float32 [h / 2, w / 2]: Pillow's BOX resize of a float32 image to half its size, bit for bit: Pillow averages
    each pair of columns, then each pair of rows, with weights of 0.5 (its double sum of two float32 halves is exact,
    then rounded to float32 as this float32 sum is), without an Image's round trip: 0.19 -> 0.04 ms at 240x320."""
    half = np.float32(0.5)
    cols = a[:, 0::2] + a[:, 1::2]
    cols *= half
    rows = cols[0::2] + cols[1::2]
    rows *= half
    return rows


def monochrome(frame: Frame) -> bool:
    """No colour in the frame (MONOCHROME_CHROMA): the blue/red ratio cannot tell cloud from sky."""
    px = frame.pixels[:, ::2, ::2]
    chroma = np.maximum(np.maximum(px[0], px[1]), px[2]) - np.minimum(np.minimum(px[0], px[1]), px[2])
    # the percentile is settled by a count where it is plain (runs twice a frame): no pixel over the bar (under it),
    # or more pixels over it than the top 0.1 % and a pixel (over it); between the two, the percentile itself
    over = np.count_nonzero(chroma > MONOCHROME_CHROMA)
    if over == 0:
        return True
    if over > 0.001 * chroma.size + 1:
        return False
    return float(np.percentile(chroma, 99.9)) <= MONOCHROME_CHROMA


# The graph leaves out every pixel at white (min(R, G, B) >= 0.97, models/build_octas.py SATURATED) whatever
# site_mask says, so a white-clipped cloud the maps count (lens.white_cloud) was dropped again: a brighter camera's
# lit cloud not counted (TSI 2017-05-24 through research/camera_shift.py "exposure x1.5": truth 2-6 read 1-3 low).
# Such a pixel is fed just under the graph's white, neutral as it is clipped: cloud (docs/design.md, "A brighter
# camera's clipped cloud fed to the graph"). Only pixels the maps count: the sun's glare, a moon, a clipped star
# and every night pixel stay out as before.
FEED_WHITE_CLOUD = True
GRAPH_WHITE = 0.96
# ... but not a clipped region whose white runs on, uncounted, along its border: clear sky's glow (lens.glow_white)
FEED_CLEAR_TEST = True
# ... and a pale region with a channel clipped whose glow runs on into uncounted white is left out (lens.part_glow)
PART_GLOW_TEST = True
# ... and the sun's blob past its glare circle is counted as cloud where it goes on as grey cloud (lens.glare_cloud)
GLARE_CLOUD_TEST = True
GLARE_CLOUD_PALE = False  # ... also at a paler site (measured: the dusty dome loses)


class OctaModel:
    def __init__(self, path: Path | None = None, threads: int = 1, calibration: Calibration | None = None):
        import onnxruntime as ort  # heavy: imported only by commands that classify

        self.path = path or bundled_model()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.enable_cpu_mem_arena = False  # keeps the idle daemon small; the graph is tiny
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{self.path}: cannot load the octa model: {str(exc).splitlines()[0]}") from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if [i.name for i in inputs] != ["image"] or "probs" not in [o.name for o in outputs]:
            raise ModelError(f"{self.path}: expected input 'image' and output 'probs' (docs/contract.md, Octa model)")
        self.height, self.width = self._input_size(inputs[0].shape)
        meta = self.session.get_modelmeta()
        self.version = meta.custom_metadata_map.get("cielo.version") or f"{self.path.stem}-v{meta.version}"
        self.overridable = {i.name: len(i.shape) for i in self.session.get_overridable_initializers()}
        self.defaults = self._card().get("parameters", {})
        self.calibration: Calibration | None = None
        self.overrides: dict[str, np.ndarray] = {}  # extra feeds (build tooling: sigma_base, sigma_gain)
        self.reference = self._default_reference()
        self._model_reference = self.reference
        self._site_lens: lens.Lens | None = None
        self._site_mask: np.ndarray | None = None
        self._site_bar: np.ndarray | None = None
        self.orientation: orientation.Orientation | None = None
        self._rise_memo: dict[tuple[int, int, int], tuple[Any, ...]] = {}
        if calibration is not None:
            self.calibrate(calibration)

    def _default_reference(self) -> lens.Reference:
        ref = self.defaults.get("clear_sky_reference", {})
        keys = ("zenith", "horizon", "sun", "sun_scale")
        return lens.Reference(**{k: float(ref[k]) for k in keys if k in ref})

    def calibrate(self, cal: Calibration | None) -> None:
        """Use a site calibration from now on (None: the model's defaults): its lens ellipse replaces the
        per-frame one, its obstruction mask is left out, and its clear-sky reference replaces the model's.
        A model with the overridable initializers `site_mask` / `sky_threshold` gets them per frame; any
        other model sees the pixels outside the octa area as black."""
        self.calibration = cal
        self._rise_memo.clear()  # its rises were read on the last calibration's rim (night.unvignetted)
        self.reference = self._model_reference
        self._site_lens, self._site_mask = None, None
        self._site_bar = None
        # where the sun must be in each frame, when `cielo calibrate` learned the camera's orientation
        self.orientation = None if cal is None or cal.path is None else orientation.load(orientation.beside(cal.path))
        if cal is None:
            return
        self._site_mask = cal.mask_at(self.height, self.width)
        if cal.lens is not None:
            self._site_lens = lens.Lens.from_dict(cal.lens, self.width, self.height)
            if cal.night is not None:  # the site's star bar per pixel: its lens is fixed, so once
                self._site_bar = cal.night.bar_map(self._site_lens.rho())
        if cal.reference is not None:  # with the site's clear sky's blue for the day bars (calibration.clear_scale)
            self.reference = dataclasses.replace(cal.reference, clear_scale=cal.clear_scale)

    def geometry(self, frame: Frame, light: regime.Light | None = None) -> lens.Lens:
        """The lens ellipse used for a frame: the site's when calibrated (a dark night's own where it found one,
        calibration.frame_lens; `light`: the frame's regime when its time is known), else the frame's own."""
        if self._site_lens is not None:
            return frame_lens(self._site_lens, frame, None if light is None else light.regime)
        return frame.lens if frame.lens is not None else lens.find_lens(frame.pixels)

    def maps(self, frame: Frame, geom: lens.Lens | None = None, light: regime.Light | None = None,
             hazy: bool = False) -> lens.Maps:
        stars = None if frame.stars is None else frame.stars.astype(np.float32)
        geom = geom or self.geometry(frame, light)
        ref = self.reference
        if self.calibration is not None and ref is not self._model_reference and (
                not self._daylike(frame, geom) or (light is not None and light.regime != regime.DAY)):
            # the site's clear-sky colour was learned on day-like frames (calibration.NIGHT_CAST), by day
            # where their times were known: a yellow-cast night frame, and a frame known to be out of
            # daylight, keep the model's reference
            ref = self._model_reference
            cal = self.calibration
            if cal.clear_paler and light is not None and light.regime != regime.DAY:
                # but a paler camera's glare (a dusty dome: its day levels read paler) draws its colour toward grey
                # in every light: out of daylight the model's threshold is scaled as calibration.fit scales it
                # where a site's split is not pinned (docs/design.md, "A dusty dome's twilights")
                ref = dataclasses.replace(ref, zenith=ref.zenith * cal.clear_scale, clear_scale=cal.clear_scale)
        daylit = light is not None and light.regime == regime.DAY
        site_night = self._site_night
        bar = None
        if site_night is not None and stars is not None:
            bar = self._site_bar if geom is self._site_lens and self._site_bar is not None \
                else site_night.bar_map(geom.rho())
        # without its time a frame's sun is only its brightest spot: the one that blooms all round (lens._bloomiest)
        seen = lens.counted(frame.pixels, geom, self._site_mask, daylit, bloom=light is None)
        out = lens.maps(frame.pixels, geom, ref, self._site_mask, stars, daylit=daylit, star_bar=bar,
                        starry_share=None if site_night is None else site_night.starry_share, hazy=hazy, seen=seen)
        own = self._own_split(frame, geom, light, seen)
        if own is not None:  # the same pixels count: only the threshold moves
            out = lens.maps(frame.pixels, geom, dataclasses.replace(ref, zenith=own), self._site_mask, stars,
                            daylit=daylit, star_bar=bar, hazy=hazy, seen=seen)
        if light is not None and self._overcast_by_light(frame, geom, light, out.valid):
            out = lens.Maps(out.valid, np.full_like(out.threshold, 2.0), out.sun)
        return out

    def _own_split(self, frame: Frame, geom: lens.Lens, light: regime.Light | None, seen: lens.Counted
                   ) -> float | None:
        """Without a calibration, a day-like frame's own split where its classes say a bluer camera (ownsplit.py);
        never a frame out of daylight at its known time, a starry night, or one without a lens circle."""
        if self.calibration is not None or not geom.found or (frame.starry and frame.brightness < lens.SUNLIT_MEAN):
            return None
        if light is not None and light.regime != regime.DAY:
            return None
        if not self._daylike(frame, geom, seen.ratio(), seen.rho):
            return None
        return ownsplit.frame_threshold(seen.ratio(), seen.valid, self.reference.zenith)

    def _overcast_by_light(self, frame: Frame, geom: lens.Lens, light: regime.Light, valid: np.ndarray) -> bool:
        """A sky the sun still lights, overcast by its light: at twilight a clear sky keeps a gradient from the glow
        on the sun's side to a deep blue zenith and brightens toward the horizon, an overcast one is evenly lit,
        dims toward the horizon and is just as blue (its colour reads clear); early and late in the night
        (night.SUN_GLOW) a starless frame by the horizon's light alone."""
        if light.regime == regime.TWILIGHT:
            return lens.uniform_sky(frame.pixels, valid) or night.rises_overcast(self._rises(frame, valid, geom))
        return (light.regime in (regime.DARK, regime.MOONLIT) and light.sun_altitude >= night.SUN_GLOW
                and not self._starry(frame) and night.rises_overcast(self._rises(frame, valid, geom)))

    def _rises(self, frame: Frame, valid: np.ndarray, geom: lens.Lens) -> tuple[float | None, float | None]:
        """night.rises, once per frame within a judge() call: its twilight rule and its confidence both read them
        (the memo holds the arrays it was keyed on, so their ids cannot be reused while it lives)."""
        key = (id(frame.pixels), id(valid), id(geom))
        hit = self._rise_memo.get(key)
        if hit is None:
            if len(self._rise_memo) >= RISE_MEMO:  # maps() called outside judge() (tools): never grows
                self._rise_memo.clear()
            site_night = self._site_night
            measured = night.rises(frame.pixels, valid, geom)
            hit = (frame.pixels, valid, geom, night.unvignetted(measured, None if site_night is None
                                                                else site_night.rim))
            self._rise_memo[key] = hit
        return hit[3]

    @staticmethod
    def _daylike(frame: Frame, geom: lens.Lens, ratio: np.ndarray | None = None, rho: np.ndarray | None = None
                 ) -> bool:
        """`ratio`, `rho`: the frame's lens.nrbr and the lens's rho when already computed."""
        area = ((geom.rho() if rho is None else rho) <= lens.OCTA_RADIUS) & ~frame.not_sky()
        if not area.any():
            return False
        return lens.median_at_least((lens.nrbr(frame.pixels) if ratio is None else ratio)[area], NIGHT_CAST)

    def _card(self) -> dict[str, Any]:
        try:
            card = json.loads(self.path.with_suffix(".json").read_text(encoding="utf-8"))
            return card if isinstance(card, dict) else {}
        except (OSError, ValueError):
            return {}

    def _input_size(self, shape: list[Any]) -> tuple[int, int]:
        if len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int):
            return shape[2], shape[3]
        card = self.path.with_suffix(".json")
        try:
            spec = json.loads(card.read_text(encoding="utf-8"))["input"]
            return int(spec["height"]), int(spec["width"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ModelError(f"{self.path}: input size is not fixed and {card.name} does not give it") from None

    def decode(self, data: bytes) -> Frame:
        """Bytes of any format Pillow reads → a frame; JPEGs decode at a reduced scale (draft mode)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im = Image.open(io.BytesIO(data))
                im.draft("RGB", (self.width, self.height))
                im.load()
                if im.mode != "RGB":  # (convert to its own mode is a copy)
                    im = im.convert("RGB")
                full_bright = None  # stars are measured at the decoded size, before resizing
                if im.size != (self.width, self.height):
                    full_bright = _brightest(np.asarray(im, dtype=np.uint8))
                    im = im.resize((self.width, self.height), Image.Resampling.BILINEAR)
            frame = self.frame(im, full_bright)
            if monochrome(frame):  # only a monochrome frame pays for a large decode: stars survive there
                big = Image.open(io.BytesIO(data))
                big.draft("L", mono.MONO_SIZE)
                frame = dataclasses.replace(frame, grey=np.asarray(big.convert("L"), dtype=np.uint8))
        except UnidentifiedImageError:
            raise ImageError("not an image format cielo can read") from None
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageError(f"not a readable image: {str(exc).splitlines()[0] or type(exc).__name__}") from None
        return frame

    def frame(self, im: Image.Image, full_bright: np.ndarray | None = None) -> Frame:
        """An RGB image at the model's size → a frame, with its lens and stars found. `full_bright`: the
        brightness (max of R, G, B) at the size it was decoded, when larger (the stars are looked for there)."""
        pixels = np.ascontiguousarray(np.asarray(im, dtype=np.uint8).transpose(2, 0, 1))
        # Max over planes, not over the last axis: numpy reduces a length-3 axis ~20x slower.
        bright = np.maximum(np.maximum(pixels[0], pixels[1]), pixels[2])
        stars = self._stars(bright if full_bright is None else full_bright)
        stop = lens.not_sky(pixels)
        return Frame(pixels, float(bright.mean()) / 255.0, lens.find_lens(pixels, stop), stars, stop,
                     bright if full_bright is None else full_bright)

    def _stars(self, bright: np.ndarray, camera: float = 1.0) -> np.ndarray | None:
        """Star density at the model's size, measured on the decoded frame's brightness (uint8 [h, w]: stars
        are single pixels there); None when the frame has (almost) no star at all (any daytime frame)."""
        density = lens.star_density(bright, camera)
        if density is None or not density.any():
            return None
        if density.shape == (2 * self.height, 2 * self.width):  # a 640x480 camera's draft: the model's size twice
            density = _halved(density)
        elif density.shape != (self.height, self.width):
            density = np.asarray(Image.fromarray(density, mode="F").resize((self.width, self.height),
                                                                             Image.Resampling.BOX))
        return density.astype(np.float16)

    @property
    def _site_night(self) -> night.NightSite | None:
        """The calibration's night side (calibration.learn_nights), None without one."""
        return None if self.calibration is None else self.calibration.night

    def _camera_stars(self, frames: list[Frame], elevations: list[float | None], gain: float | None
                      ) -> list[Frame]:
        """A darker camera's frames (`gain`: night.site_gain) out of daylight with their stars found again on its own
        steps; every other site's as decoded."""
        if gain is None:
            return frames
        return [f if f.bright is None or (e is not None and e >= 0) or monochrome(f)
                else dataclasses.replace(f, stars=self._stars(f.bright, gain))
                for f, e in zip(frames, elevations, strict=True)]

    def predict(self, frames: list[Frame], lights: list[regime.Light | None] | None = None,
                maps_out: list[tuple[lens.Lens, lens.Maps]] | None = None, hazy: bool = False) -> np.ndarray:
        """probs [N, 9] for a batch of frames (`lights`: each frame's regime, when its time is known);
        `maps_out` gets each frame's lens and maps; `hazy`: read by their own sky (haze.py)."""
        if not frames:
            return np.zeros((0, 9), dtype=np.float32)
        lights = lights or [None] * len(frames)
        parts = []
        for i in range(0, len(frames), INFER_BATCH):
            chunk = frames[i : i + INFER_BATCH]
            batch = np.stack([f.pixels for f in chunk]).astype(np.float32)
            batch *= np.float32(1.0 / 255.0)
            geoms = [self.geometry(f, li) for f, li in zip(chunk, lights[i : i + INFER_BATCH], strict=True)]
            per_frame = [self.maps(f, g, li, hazy) for f, g, li in zip(chunk, geoms, lights[i : i + INFER_BATCH],
                                                                        strict=True)]
            if maps_out is not None:
                maps_out.extend(zip(geoms, per_frame, strict=True))
            valid = np.stack([m.valid for m in per_frame])[:, None]
            if FEED_WHITE_CLOUD:
                top = np.float32(GRAPH_WHITE)
                darkest = batch.min(axis=1, keepdims=True)
                clipped = (darkest >= top) & (valid > 0)
                # white the maps do not count (lens.counted's SATURATED): past the octa circle, the sun's blob
                uncounted = (darkest >= np.float32((int(lens.SATURATED * 255) - 0.5) / 255.0)) & (valid == 0)
                if FEED_CLEAR_TEST and clipped.any():
                    for k in np.nonzero(clipped.any(axis=(1, 2, 3)))[0]:
                        clipped[k, 0] &= ~lens.glow_white(clipped[k, 0], uncounted[k, 0])
                if PART_GLOW_TEST:
                    part = (batch.max(axis=1, keepdims=True) >= np.float32(lens.PART_WHITE)) & (darkest < top)
                    part &= valid > 0
                    for k in np.nonzero(part.any(axis=(1, 2, 3)))[0]:
                        glow = lens.part_glow(batch[k], part[k, 0], per_frame[k].threshold, uncounted[k, 0])
                        if glow.any():
                            valid[k, 0] = np.where(glow, np.float32(0), valid[k, 0])
                if GLARE_CLOUD_TEST:
                    self._glare_cloud(batch, valid, clipped, uncounted, geoms, per_frame,
                                      lights[i : i + INFER_BATCH], chunk)
                if clipped.any():
                    batch = np.where(clipped, np.minimum(batch, top), batch)
            feeds: dict[str, np.ndarray] = {}
            if "site_mask" in self.overridable:
                feeds["site_mask"] = valid
            else:
                batch *= valid
            if self.overridable.get("sky_threshold") == 4:  # a threshold per pixel
                feeds["sky_threshold"] = np.stack([m.threshold for m in per_frame])[:, None]
            elif "sky_threshold" in self.overridable:  # a model of cielo 2 (hybrid): one number, the site's
                feeds["sky_threshold"] = np.array(self.reference.zenith, dtype=np.float32)
            if "adaptive" in self.overridable:  # the per-frame split, for frames without a lens circle only
                feeds["adaptive"] = np.array([0.0 if g.found else 1.0 for g in geoms], dtype=np.float32)
            parts.append(self.session.run(["probs"], {"image": batch, **feeds, **self.overrides})[0])
        probs = np.concatenate(parts)
        if probs.shape != (len(frames), 9):
            raise ModelError(f"{self.path}: 'probs' has shape {probs.shape}, expected ({len(frames)}, 9)")
        return probs

    def _glare_cloud(self, batch: np.ndarray, valid: np.ndarray, clipped: np.ndarray, uncounted: np.ndarray,
                     geoms: list[lens.Lens], per_frame: list[lens.Maps], lights: list[regime.Light | None],
                     frames: list[Frame]) -> None:
        """Counts and feeds (in place) the sun's blob past its glare circle where it goes on as grey cloud; not at a
        site whose clear sky was learned paler (lens.whole_sky_reach: a dusty dome, whose veiling glare greys the sky
        round the sun's blob as cloud would: TSI "dusty dome" calibrated on 50 frames 0.530 -> 0.597 without this)."""
        if not GLARE_CLOUD_PALE and lens.whole_sky_reach(self.reference):
            return
        for k, (g, m, li, f) in enumerate(zip(geoms, per_frame, lights, frames, strict=True)):
            # the time known only: blind, the found sun may be a clipped patch and its "blob" a lit cloud's or a
            # horizon's (lens.find_sun); there the rule lost (TSI x1.5 check 0.662 -> 0.695, dusty dome chose 2.116
            # -> 2.384)
            if li is None or m.sun is None or not g.found or not uncounted[k, 0].any():
                continue
            if not (li.regime == regime.DAY or lens.sunlit(f.pixels, m.sun)):
                continue
            blob = uncounted[k, 0] & (g.rho() <= lens.OCTA_RADIUS)
            if self._site_mask is not None:
                blob &= self._site_mask
            if not blob.any():
                continue
            blob &= lens.sun_distance(g, m.sun) > lens.SUN_GLARE
            cloud = lens.glare_cloud(batch[k], blob, m.threshold, valid[k, 0] > 0)
            if cloud.any():
                valid[k, 0] = np.where(cloud, np.float32(1), valid[k, 0])
                clipped[k, 0] |= cloud

    def as_judged(self, frame: Frame) -> Frame:
        """The frame with the site's colour cast taken off (calibration.site_cast), as every rule and the graph
        read it; the frame itself without a calibration or a cast."""
        return frame if self.calibration is None else uncast_frame(frame, self.calibration.cast)

    def as_read(self, frame: Frame, light: regime.Light | None) -> Frame:
        """as_judged, and without a calibration (or with one that keeps it: Calibration.frame_cast, blue side only)
        a cast the frame shows by itself taken off (calibration.frame_cast:
        a cloud cover bluer than any of the reference cameras', or with the sun up at the frame's known time
        greyest pixels redder than its light), by day or at an unknown time; never a starry
        night (a dark frame with stars; TSI's sunlit day frames look starry, lens.SUNLIT_MEAN)."""
        cal = self.calibration
        if cal is not None and not cal.frame_cast:
            return self.as_judged(frame)
        if (light is not None and light.regime != regime.DAY) or (frame.starry and
                                                                    frame.brightness < lens.SUNLIT_MEAN):
            return frame
        # a calibration that keeps the frames' own cast (Calibration.frame_cast) keeps its blue side only
        sun_up = cal is None and light is not None and light.sun_altitude >= FRAME_WARM_SUN
        cast = frame_cast(frame.pixels, self.geometry(frame, light), frame.not_sky(), sun_up)
        return uncast_frame(frame, cast, clipped_white=True)

    def _starry(self, frame: Frame) -> bool:
        """Frame.starry, at the site's own share of star pixels when the calibration learned one."""
        site_night = self._site_night
        if site_night is None or site_night.starry is None or frame.stars is None:
            return frame.starry
        return frame.star_share > site_night.starry / 2

    def _moonlit(self, frame: Frame, light: regime.Light, probs: np.ndarray, geom: lens.Lens, valid: np.ndarray
                 ) -> tuple[np.ndarray, bool, float]:
        """A moonlit frame that looks clear is read by its stars (night.moonlit_read): only ever fewer octas
        than the colour reading, whose distribution moves down by the difference. Also: whether the gate was
        unsure, and how near its bar it sat (confidence.Evidence.rule_near). `geom`, `valid`: the lens and counted
        pixels the colour reading had (maps() again would give the same, at the cost of a second night.rises)."""
        site_night = self._site_night
        starred, p = night.moonlit_read(frame, geom, valid, site_night)
        unsure = night.gate_unsure(p)
        near = confidence.near_bar(confidence.gate_log_odds(p), confidence.gate_log_odds(night.GATE_CLEAR),
                                   confidence.GATE_SPAN)
        shift = int(probs.argmax()) - (starred if starred is not None else 9)
        if shift <= 0:
            return probs, unsure, near
        moved = np.zeros_like(probs)
        moved[: probs.size - shift] = probs[shift:]
        moved[0] += probs[:shift].sum()
        return moved, unsure, near

    def _monochrome(self, frame: Frame, elev: float | None, light: regime.Light | None) -> Verdict:
        """Octas of a monochrome frame from its point sources (mono.py), always weak; `night` without any, or
        with the sun above civil twilight at a known time."""
        if elev is not None and elev >= sun.CIVIL_TWILIGHT_DEG:  # no stars show by day: nothing to read
            return Verdict(None, None, None, "night", elev, frame.brightness)
        grey = frame.grey
        if grey is None:  # a frame not decoded from bytes: its stars at the size it has
            grey = frame.bright if frame.bright is not None else _brightest(frame.pixels.transpose(1, 2, 0))
        share = mono.cloud_share(grey, self.geometry(frame, light))
        if share is None:
            return Verdict(None, None, None, "night", elev, frame.brightness)
        p = mono.probs(share)
        octas = math.floor(share * 8 + 0.5)
        return Verdict(octas, p[octas], p, "uncertain", elev, frame.brightness,
                       None if light is None else light.regime)

    def seen_light(self, frame: Frame) -> regime.Light | None:
        """For a frame whose time is unknown: daylight when the frame itself shows it (daylight.py), the sun where
        the image puts it and the moon down; else None (judged blind)."""
        up = daylight.seen(frame.pixels, self.geometry(frame), frame.bright)
        return None if up is None else regime.Light(regime.DAY, up, -90.0, 0.0)

    def judge(self, frames: list[Frame], times: list[datetime | None], latitude: float, longitude: float,
              counted: dict[int, tuple[lens.Lens, lens.Maps, regime.Light | None]] | None = None) -> list[Verdict]:
        """Verdicts for a batch: night (sun below -6° at a known time, unless the frame is bright enough to
        judge or shows stars; or a monochrome frame without point sources or by day) and dark frames
        (too dark to judge, no stars) carry no octas. `counted` gets, per index of a frame read by colour, the lens
        and maps its octas were counted on and the light it was judged in (what `classify --overlay` draws)."""
        timed = [None if t is None else regime.light(t, latitude, longitude) for t in times]
        elevations = [None if li is None else li.sun_altitude for li in timed]
        # a darker camera (night.site_gain): its stars on its own steps, its night too dark to judge by its own light
        site_night = self._site_night
        gain = None if site_night is None else site_night.gain
        camera = 1.0 if gain is None else gain
        frames = self._camera_stars(frames, elevations, gain)
        # the light each frame is judged in: its time's, or daylight the frame itself shows (daylight.py)
        lights = list(timed)
        verdicts: list[Verdict | None] = [None] * len(frames)
        to_run: list[int] = []
        for i, (frame, elev) in enumerate(zip(frames, elevations, strict=True)):
            if monochrome(frame):  # no colour to judge by: its point sources, whatever the time
                verdicts[i] = self._monochrome(frame, elev, lights[i])
            elif self._starry(frame):  # a dark sky full of stars can be judged: clear where the stars are
                to_run.append(i)
            elif elev is not None and elev < sun.CIVIL_TWILIGHT_DEG and frame.brightness < NIGHT_JUDGE_MEAN * camera:
                verdicts[i] = Verdict(None, None, None, "night", elev, frame.brightness)
            elif frame.brightness < DARK_MEAN:
                verdicts[i] = Verdict(None, None, None, "dark", elev, frame.brightness)
            else:
                if elev is None:
                    lights[i] = self.seen_light(frame)
                to_run.append(i)
        if to_run:
            # the warm frame cast reads only a known time's sun: with the image's sun it cost LenghuSky 2018-2019
            # blind day frames a little (docs/design.md, "A daylit frame without its time")
            run = {i: self.as_read(frames[i], timed[i]) for i in to_run}
            seen: list[tuple[lens.Lens, lens.Maps]] = []
            probs = self.predict([run[i] for i in to_run], [lights[i] for i in to_run], seen)
            # the site's veil bar and the tone curve it reads (a bar from few clear days serves the veil alone);
            # uncalibrated the glow is read against the disc's standout (veil.FLAT_FOR_DISC)
            cal = self.calibration
            glow_bar = None if cal is None else cal.glow
            tone = veil.tone(glow_bar if cal is not None and cal.glow_tone else None)
            for row, i, (geom, maps) in zip(probs, to_run, seen, strict=True):
                name = None if lights[i] is None else lights[i].regime
                seen_light = name if timed[i] is None else None
                # the rules' sun: the time's, or the image's; the verdict reports the time's alone
                sun_up = None if lights[i] is None else lights[i].sun_altitude
                row = row.astype(np.float64)
                unsure, colour_octas, near = False, int(row.argmax()), 0.0
                if name == regime.MOONLIT:
                    row, unsure, near = self._moonlit(run[i], lights[i], row, geom, maps.valid)
                elif name == regime.TWILIGHT:  # the horizon's rise decided between clear and overcast
                    near = confidence.near_bar(self._rises(run[i], maps.valid, geom)[0], night.HORIZON_RISE,
                                               confidence.RISE_SPAN)
                evidence = confidence.Evidence.of(row, maps, unsure, int(row.argmax()) < colour_octas,
                                                  self.calibration is not None, near, run[i].brightness)
                p, weak = confidence.shaped(row, name, evidence)
                octas = int(p.argmax())
                flag = "uncertain" if weak else None
                f, t = run[i], times[i]
                o = self.orientation
                expected = None if o is None or t is None else o.sun_at(t, latitude, longitude, self.width,
                                                                         self.height)
                # the cloud by compass quarter and in the sun's sector, once the orientation is known
                quarters = None if o is None else sectors.quarter_masks(o, self.width, self.height)
                bearing = None if o is None else sectors.bearings(o, self.width, self.height)
                path = None if o is None or t is None else sectors.sun_path(t, latitude, longitude)
                view = sunstate.assess(f.pixels, geom, maps, f.not_sky(), sun_up, f.brightness, f.starry,
                                       expected, quarters=quarters, bearing=bearing, path=path, tone=tone)
                hazy = haze.hazy(name, octas, view, sun_up, tone)
                # uncalibrated, a pale camera's clear sky by its Rayleigh minimum (haze.pale); a calibration learns
                # the camera's paler blue itself (calibration.clear_scale)
                pale = not hazy and cal is None and haze.pale(name, octas, view, sun_up) and haze.deep_minimum(
                    lowsun.antisolar_ratio(f.pixels, maps.valid, geom, lowsun.seen_at(view)))
                if hazy or pale:
                    # read again by its own sky; kept only where that sky says it is not overcast, and then weak
                    again: list[tuple[lens.Lens, lens.Maps]] = []
                    row = self.predict([f], [lights[i]], again, hazy=True)[0].astype(np.float64)
                    hazy_ev = confidence.Evidence.of(row, again[0][1], False, False, self.calibration is not None, 0.0,
                                                     f.brightness)
                    hazy_p, _ = confidence.shaped(row, name, hazy_ev)
                    if int(hazy_p.argmax()) < haze.OVERCAST_READ and (hazy or int(hazy_p.argmax()) <= haze.PALE_READ):
                        (geom, maps), evidence, p = again[0], hazy_ev, hazy_p
                        octas, flag = int(p.argmax()), "uncertain"
                        view = sunstate.assess(f.pixels, geom, maps, f.not_sky(), sun_up, f.brightness,
                                               f.starry, expected, quarters=quarters, bearing=bearing, path=path,
                                               tone=tone)
                elif veil.veiled(name, octas, view, sun_up, glow_bar, uncalibrated=cal is None):
                    # the light round the disc says a veil the colour missed (the site's bar): overcast, and weak
                    p = veil.moved_up(p)
                    octas, flag = int(p.argmax()), "uncertain"
                elif lowsun.applies(name, octas, sun_up) and (lowsun.overcast(
                        lowsun.zenith_ratio(f.pixels, maps.valid, geom), sun_up) or (
                        lowsun.no_minimum(lowsun.antisolar_ratio(f.pixels, maps.valid, geom, lowsun.seen_at(view)),
                                          sun_up))):
                    # the sun low, the sky dimming toward the horizon as a lit deck does, or no clear sky's
                    # darkest band 90 degrees from it: overcast, and weak
                    p = veil.moved_up(p)
                    octas, flag = int(p.argmax()), "uncertain"
                elif twilight.applies(name, octas) and twilight.lumpy(twilight.roughness(f.pixels, maps.valid, geom)):
                    # twilight cloud lit in cells (rough in light or colour) that the horizon's rise read clear
                    p = veil.moved_up(p)
                    octas, flag = int(p.argmax()), "uncertain"
                verdicts[i] = Verdict(octas, float(p[octas]), p.tolist(), flag, elevations[i], f.brightness,
                                      None if timed[i] is None else name, view, evidence, seen_light)
                if counted is not None:
                    counted[i] = (geom, maps, lights[i])
        self._rise_memo.clear()
        return [v for v in verdicts if v is not None]
