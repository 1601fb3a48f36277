"""Run a module with the moonlit veil rule off (MOON_LIGHT = 0): the before of a bench (needs commit 8266e5a: moonveil.py)."""
import runpy, sys
from cielo.sources.skycam import moonveil
moonveil.MOON_LIGHT = 0.0
mod = sys.argv[1]; sys.argv = sys.argv[1:]
if mod.endswith(".py"):
    runpy.run_path(mod, run_name="__main__")
else:
    runpy.run_module(mod, run_name="__main__")
