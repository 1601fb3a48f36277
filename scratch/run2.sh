#!/bin/bash
cd /work/wt/calshift19
export PYTHONPATH=$PWD/daemon:$PWD
PY="nice /work/main/.venv/bin/python"
A="--tsi /work/data/tsi --lenghu /work/data/lenghu --calibrated --cal-frames 50"
OWN=1 RED=1 $PY scratch/shiftwrap.py $A --only "wb warm,wb cool,exposure x1.5,saturation 1.3,auto levels" > scratch/red.shift6.txt 2>&1
REST="original,gamma 0.8,gamma 1.25,exposure x0.6,saturation 0.7,jpeg q60,noise 4,scale 0.5,scale 2,vignette 30%,dusty dome"
OWN=1 RED=1 $PY scratch/shiftwrap.py $A --only "$REST" > scratch/red.rest.txt 2>&1
OWN=0 RED=0 $PY scratch/shiftwrap.py $A --only "$REST" > scratch/base.rest.txt 2>&1
echo done > scratch/run2.done
