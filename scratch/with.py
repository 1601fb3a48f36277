"""Run a module or script with model switches from the environment: FEED=0/1 (model.FEED_WHITE_CLOUD), then
python scratch/with.py -m bench.classify_regimes ... or python scratch/with.py research/camera_shift.py ..."""
import os
import runpy
import sys

sys.path.insert(0, os.getcwd())
sys.path.insert(0, os.getcwd() + "/research")
from cielo.sources.skycam import model as M  # noqa: E402

if "FEED" in os.environ:
    M.FEED_WHITE_CLOUD = os.environ["FEED"] == "1"
if "RULE" in os.environ and hasattr(M, "FEED_CLEAR_TEST"):
    M.FEED_CLEAR_TEST = os.environ["RULE"] == "1"
args = sys.argv[1:]
if args[0] == "-m":
    sys.argv = [args[1]] + args[2:]
    runpy.run_module(args[1], run_name="__main__", alter_sys=True)
else:
    sys.argv = args
    runpy.run_path(args[0], run_name="__main__")
