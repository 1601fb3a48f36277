import sys
from pathlib import Path
sys.path.insert(0, "research")
import tone_loss
from models import skydata
from cielo.sources.skycam.model import OctaModel
tone_loss.install_spies()
model = OctaModel(None)
site = skydata.LENGHU_SITE
every = skydata.load_lenghu(Path("/work/data/lenghu"), twilight=True)
samples = [s for s in every if s.name[:4] in ("2018", "2019", "2020")]
out = tone_loss.verdicts(model, samples, site, 50)
want = set(sys.argv[1].split(","))
for s, (v, rule, reg) in zip(samples, out):
    if s.name in want:
        print(s.name, reg, s.octas, v.octas, rule)
