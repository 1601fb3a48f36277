import sys
sys.path.insert(0, "tests/sources/skycam")
from datetime import datetime, UTC
from test_sun import lit_from_above, frame
from cielo.sources.skycam import lowsun, regime
from cielo.sources.skycam.model import OctaModel
model = OctaModel()
for h, m in ((5, 15), (6, 15), (6, 30), (6, 45), (7, 0), (7, 15)):
    w = datetime(2024, 6, 1, h, m, tzinfo=UTC)
    print(h, m, round(regime.light(w, 40.4, -3.7).sun_altitude, 1))
def ratio(jpeg):
    f = model.decode(jpeg); geom = model.geometry(f)
    return lowsun.zenith_ratio(f.pixels, model.maps(f, geom).valid, geom)
for d in (0.2, 0.3, 0.4, 0.6):
    print(d, ratio(lit_from_above(d)))
print("clear", ratio(frame()))
