"""glare23: sweep lens.glare_cloud's constants through scratch/tsical.py (env GE, GB, GS, GU, LOOKS)."""
import os, runpy, sys
sys.path.insert(0, os.getcwd() + "/daemon")
from cielo.sources.skycam import lens
from cielo.sources.skycam import model as M
lens.GREY_EDGE = float(os.environ.get("GE", lens.GREY_EDGE))
lens.GREY_BORDER = float(os.environ.get("GB", lens.GREY_BORDER))
lens.GREY_STEPS = int(os.environ.get("GS", lens.GREY_STEPS))
lens.GREY_FRAME = float(os.environ.get("GF", lens.GREY_FRAME))
M.GLARE_CLOUD_TEST = os.environ.get("GC", "1") == "1"
sys.argv = ["tsical.py"] + os.environ.get("LOOKS", "exposure x1.5").split(",")
runpy.run_path("scratch/tsical.py", run_name="__main__")
