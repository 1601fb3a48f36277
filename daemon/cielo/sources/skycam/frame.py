"""A decoded camera image at the model's input size, with what the lens search found in it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cielo.sources.skycam import lens


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded image at the model's input size, ready for a batch."""

    pixels: np.ndarray  # uint8 [3, H, W]: 4x smaller than floats while frames wait for their batch
    brightness: float  # mean of max(R, G, B), 0..1
    lens: lens.Lens | None = None  # the lens ellipse found in this frame (None: not looked for)
    stars: np.ndarray | None = None  # float16 [H, W]: star density (lens.star_density), for night frames
    stop: np.ndarray | None = None  # bool [H, W]: lens.not_sky, found once for the lens fit
    bright: np.ndarray | None = None  # uint8 [h, w]: max(R, G, B) at the decoded size (night.py looks for stars)
    grey: np.ndarray | None = None  # uint8 [h, w]: a monochrome frame at mono.MONO_SIZE (its stars survive)
    # the stars' mean density, found once: the rules ask whether a frame is starry four times a judge() (a float16
    # mean is ~0.06 ms at 160x120, and TSI's sunlit frames have stars); dataclasses.replace finds it anew
    star_share: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        share = 0.0 if self.stars is None else float(self.stars.mean(dtype=np.float32))
        object.__setattr__(self, "star_share", share)

    def not_sky(self) -> np.ndarray:
        """lens.not_sky of the pixels: the one found at decoding when there is one."""
        return self.stop if self.stop is not None else lens.not_sky(self.pixels)

    @property
    def starry(self) -> bool:
        """Stars over much of the frame: a night sky that can be judged however dark it is."""
        return self.stars is not None and self.star_share > lens.STARRY_FRAME / 2
