"""A model judged under a site calibration for the length of a `with` block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cielo.sources.skycam.calibration import Calibration
from cielo.sources.skycam.model import OctaModel


@contextmanager
def calibrated(model: OctaModel, cal: Calibration | None) -> Iterator[OctaModel]:
    """`model` under `cal` inside the block and back on the reference after it, whatever the block raised: a
    module's tests share one model, and a calibration left on would change every later test's answers."""
    model.calibrate(cal)
    try:
        yield model
    finally:
        model.calibrate(None)
