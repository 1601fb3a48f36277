#!/bin/bash
# glare23: camera_shift calibrated on 50 frames with lens.glare_cloud off (main's behaviour), the brief's looks
cd "$(dirname "$0")/.." && export PYTHONPATH=$PWD/daemon:$PWD
nice /work/main/.venv/bin/python -c "import sys,runpy; sys.path.insert(0,'research'); import cielo.sources.skycam.model as m; m.GLARE_CLOUD_TEST=False; sys.argv=['camera_shift.py']+sys.argv[1:]; runpy.run_path('research/camera_shift.py', run_name='__main__')" --tsi /work/data/tsi --lenghu /work/data/lenghu --calibrated --cal-frames 50 --only "original,exposure x0.6,exposure x1.5,gamma 0.8,gamma 1.25,wb warm,wb cool,auto levels,dusty dome,dusty dome (sun in lens)"
