"""A frame judged without a calibration, read at its own split where its classes say the camera is bluer.

A bluer camera (more saturation, a stretched tone curve) draws its grey cloud and its blue sky apart by one
factor, and the split between them up with it; the model's threshold then reads its thin and broken cloud as sky.
Calibrated, the site's pooled split follows (calibration.BLUER_SPLIT); without a calibration the frame's own
classes are all there is: where they sit well over the reference camera's contrast apart (calibration.CONTRAST_REF)
and the frame's own split sits over the model's threshold, the threshold follows that split, no farther than the
contrast's factor carries it (docs/design.md, "A bluer camera judged blind").
"""

from __future__ import annotations

import numpy as np

from cielo.sources.skycam import calibration

OWN_SPLIT = True
# the cloud class (under the frame's split) must hold one octa of the counted pixels: a clear frame's own classes are
# its sky near the sun and horizon against its zenith (ARM TSI 2017-05-24 clear frames: 6-11 % under their split,
# classes up to 0.32 apart; read 1 octa with the threshold at their split)
MIN_CLOUD = 1.0 / 8.0


def frame_threshold(ratio: np.ndarray, valid: np.ndarray, default: float) -> float | None:
    """The threshold a frame's own classes carry (`ratio`: its NRBR, `valid`: the pixels counted), or None where
    the model's `default` stands: the frame does not split into cloud and clear sky, its classes are no farther
    apart than a reference camera's, or its split is not over the default by CLEAR_BAND."""
    if not OWN_SPLIT:
        return None
    values = ratio[valid]
    found = calibration.site_split(values)
    if found is None:
        return None
    split, contrast = found
    cap = calibration.bluer_cap(split, contrast, default)
    if cap is None or float(np.mean(values < split)) < MIN_CLOUD:
        return None
    # a split farther up than the contrast carries is partly the frame's weather: the contrast's factor, no more
    return min(split, cap)
