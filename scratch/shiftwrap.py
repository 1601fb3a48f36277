import os, runpy, sys
sys.path.insert(0, os.getcwd())
from cielo.sources.skycam import calibration
calibration.OWN_CAST = os.environ.get("OWN", "1") == "1"
calibration.RED_UNCOVERED = os.environ.get("RED", "0") == "1"
sys.argv = ["camera_shift.py", *sys.argv[1:]]
runpy.run_path("research/camera_shift.py", run_name="__main__")
