import sys
sys.path.insert(0, "tests/sources/skycam")
import numpy as np
from test_model_glow import _frame
from cielo.sources.skycam.model import OctaModel
from cielo.sources.skycam import model as M
m = OctaModel()
for args in ((False, True), (True, False)):
    f = m.decode(_frame(*args)); out = []
    m.predict([f], None, maps_out=out); g, mp = out[0]
    rho = g.rho()
    print(args, g, mp.sun, "valid share", (mp.valid > 0).mean(), "ring valid", (mp.valid[(rho > .75) & (rho < .84)] > 0).mean())
    for fw, ct in ((True, True), (True, False), (False, False)):
        M.FEED_WHITE_CLOUD, M.FEED_CLEAR_TEST = fw, ct
        (v,) = m.judge([f], [None], 0.0, 0.0); print("   ", fw, ct, v.octas)
    M.FEED_WHITE_CLOUD, M.FEED_CLEAR_TEST = True, True
