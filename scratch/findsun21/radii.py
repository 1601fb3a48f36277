"""lens.find_sun's hit table per BLOOM_RADII (patched in-process)."""
import sys
from pathlib import Path

sys.path.insert(0, "scratch/findsun21")
from hits import main_pick, table

from cielo.sources.skycam import lens

files = sorted(Path("/tmp/fs21").glob("*_20182019_20170524.npz"))
for radii in sys.argv[1:]:
    lens.BLOOM_RADII = tuple(int(r) for r in radii.split(","))
    print("==", radii)
    table(main_pick, files)
