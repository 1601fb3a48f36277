import sys, io
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from PIL import Image, ImageDraw
from models import skydata
names = sys.argv[2].split(",")
ss = {s.name: s for s in skydata.load_lenghu(Path('/work/data/lenghu'), twilight=True) if s.name[:16] in [n[:16] for n in names]}
ims = []
for n in names:
    s = next(v for k, v in ss.items() if k.startswith(n))
    im = Image.open(io.BytesIO(s.jpeg)).convert("RGB").resize((320, 240))
    ImageDraw.Draw(im).text((4, 4), f"{s.name[:16]} t{s.octas}", fill=(255, 255, 0))
    ims.append(im)
cols = 4
W = Image.new("RGB", (320 * cols, 240 * ((len(ims) + cols - 1) // cols)))
for k, im in enumerate(ims):
    W.paste(im, ((k % cols) * 320, (k // cols) * 240))
W.save(sys.argv[1])
