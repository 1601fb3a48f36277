"""What the classifier saw in a frame, drawn on it (`cielo classify --overlay DIR`): the lens ellipse, the
octa area (OCTA_RADIUS of the lens), the sun and its glare disc, obstructions, the pixels judged cloud tinted,
and the light and octas written on it. A number people can see is one they can trust or debug: a lens fit
off the mirror or a threshold that calls blue sky cloud shows at a glance."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from cielo.sources.skycam import lens
from cielo.sources.skycam.frame import Frame
from cielo.sources.skycam.regime import Light

SCALE = 4  # drawn at 4x the model's input (640x480 for 160x120)
CLOUD_TINT = np.array([255, 40, 200], dtype=np.float32)  # magenta: no sky or cloud is this colour
OBSTRUCTION_TINT = np.array([255, 140, 0], dtype=np.float32)  # orange: inside the lens, not counted
LENS_COLOUR, AREA_COLOUR, SUN_COLOUR, TEXT_COLOUR = (255, 255, 0), (0, 255, 255), (255, 60, 60), (255, 255, 255)


def cloud_pixels(frame: Frame, maps: lens.Maps) -> np.ndarray:
    """bool [H, W]: counted pixels under the clear-sky threshold, as the graph judges them."""
    return (maps.valid > 0) & (lens.nrbr(frame.pixels) < maps.threshold)


def render(frame: Frame, geom: lens.Lens, maps: lens.Maps, caption: str,
           aspect: float | None = None) -> Image.Image:
    """The drawing, SCALE times the model's input; `aspect` (the image's width / height as the camera served
    it): drawn in that shape again, not in the model's 4:3."""
    rgb = frame.pixels.transpose(1, 2, 0).astype(np.float32)
    cloud = cloud_pixels(frame, maps)
    rho = geom.rho() if geom.found else np.zeros(cloud.shape, dtype=np.float32)
    inside = rho <= lens.OCTA_RADIUS
    if maps.sun is not None:
        inside &= lens.sun_distance(geom, maps.sun) > lens.SUN_GLARE
    blocked = inside & (maps.valid <= 0)
    rgb[cloud] = 0.45 * rgb[cloud] + 0.55 * CLOUD_TINT
    rgb[blocked] = 0.5 * rgb[blocked] + 0.5 * OBSTRUCTION_TINT
    h, w = cloud.shape
    sx = sy = float(SCALE)
    if aspect is not None and aspect > 0:
        sy = sx * w / (aspect * h)
    size = (round(w * sx), round(h * sy))
    im = Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).resize(size, Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(im)

    def ellipse(cx: float, cy: float, rx: float, ry: float, colour: tuple[int, int, int], width: int = 2) -> None:
        x, y = (cx + 0.5) * sx, (cy + 0.5) * sy
        draw.ellipse((x - rx * sx, y - ry * sy, x + rx * sx, y + ry * sy), outline=colour, width=width)

    if geom.found:
        ellipse(geom.cx, geom.cy, geom.rx, geom.ry, LENS_COLOUR)
        ellipse(geom.cx, geom.cy, geom.rx * lens.OCTA_RADIUS, geom.ry * lens.OCTA_RADIUS, AREA_COLOUR)
    if maps.sun is not None:
        sx, sy = maps.sun
        ellipse(sx, sy, 1.5, 1.5, SUN_COLOUR, 3)
        ellipse(sx, sy, geom.rx * lens.SUN_GLARE, geom.ry * lens.SUN_GLARE, SUN_COLOUR)
    for i, line in enumerate(caption.splitlines()):
        x, y = 6, 6 + 14 * i
        draw.text((x + 1, y + 1), line, fill=(0, 0, 0))
        draw.text((x, y), line, fill=TEXT_COLOUR)
    return im


def caption(octas: int | None, flag: str | None, light: Light | None, seen: bool = False) -> str:
    """`seen`: the time unknown, `light` the daylight the frame itself showed (daylight.py)."""
    verdict = f"{octas} octas" if octas is not None else "no octas"
    if flag:
        verdict += f" ({flag})"
    if light is None:
        return f"{verdict}\nlight: time unknown"
    if seen:
        return f"{verdict}\nlight: {light.regime}, seen in the frame (sun {light.sun_altitude:.0f} deg); time unknown"
    return (f"{verdict}\nlight: {light.regime} (sun {light.sun_altitude:.1f} deg, moon {light.moon_altitude:.1f} "
            f"deg, {light.moon_illuminated:.0%} lit)")
