"""lens.find_sun(bloom=True)'s hit table per BLOOM_MARGIN (patched in-process; BLOOM_RADII was tried so too)."""
import sys
from pathlib import Path

sys.path.insert(0, "scratch/findsun21")
from hits import main_pick, table

from cielo.sources.skycam import lens

files = sorted(Path("/tmp/fs21").glob("*_20182019_20170524.npz"))
for margin in sys.argv[1:]:
    lens.BLOOM_MARGIN = float(margin)
    print("== margin", margin)
    table(lambda dark, area, px: lens.find_sun(dark, area, lens.CLIPPED_SUN, bloom=True), files)
