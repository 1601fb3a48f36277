#!/bin/bash
# tag FEED [RULE]: the four-look camera_shift blind and cal-50, and classify_regimes all and cal-50
tag=$1; export FEED=$2; export RULE=${3:-0}
PY=/work/main/.venv/bin/python; export PYTHONPATH=$PWD/daemon:$PWD
O="exposure x1.5,none,dusty dome,original"
nice $PY scratch/with.py research/camera_shift.py --tsi /work/data/tsi --lenghu /work/data/lenghu --only "$O" > scratch/shift_blind_$tag.txt 2>&1
nice $PY scratch/with.py research/camera_shift.py --tsi /work/data/tsi --lenghu /work/data/lenghu --only "$O" --calibrated --cal-frames 50 > scratch/shift_cal50_$tag.txt 2>&1
nice $PY scratch/with.py -m bench.classify_regimes --tsi /work/data/tsi --lenghu /work/data/lenghu --part both --split 2020 > scratch/bench_$tag.txt 2>&1
nice $PY scratch/with.py -m bench.classify_regimes --tsi /work/data/tsi --lenghu /work/data/lenghu --part both --split 2020 --cal-frames 50 > scratch/bench50_$tag.txt 2>&1
