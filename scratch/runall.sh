#!/bin/bash
# $1: tag
cd /work/wt/calshift19
export PYTHONPATH=$PWD/daemon:$PWD
PY="nice /work/main/.venv/bin/python"
$PY research/camera_shift.py --tsi /work/data/tsi --lenghu /work/data/lenghu --calibrated --cal-frames 50 --only "none,wb warm,wb cool,exposure x1.5,saturation 1.3,auto levels" > scratch/$1.shift.txt 2>&1
$PY -m bench.classify_regimes --tsi /work/data/tsi --lenghu /work/data/lenghu --part both --split 2020 --cal-frames 50 > scratch/$1.b50.txt 2>&1
$PY -m bench.classify_regimes --tsi /work/data/tsi --lenghu /work/data/lenghu --part both --split 2020 --cal-frames 50 --cal-pick random --cal-seed 1 > scratch/$1.rand1.txt 2>&1
$PY -m bench.classify_regimes --tsi /work/data/tsi --lenghu /work/data/lenghu --part both --split 2020 --cal-frames 50 --cal-pick window --cal-start 0.5 > scratch/$1.win5.txt 2>&1
echo done > scratch/$1.done
