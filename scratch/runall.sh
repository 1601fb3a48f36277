#!/bin/bash
W=/work/wt/daymiss20; M=/work/main; PY=/work/main/.venv/bin/python
cd $W
PYTHONPATH=$W/daemon:$W nice $PY research/misreads.py /work/data/lenghu --years 2018,2019,2020 --calibrated --cal-frames 50 > scratch/miss_after50.txt 2>&1
PYTHONPATH=$W/daemon:$W nice $PY research/misreads.py /work/data/lenghu --years 2018,2019,2020 --calibrated > scratch/miss_afterall.txt 2>&1
cd $M
PYTHONPATH=$M/daemon:$M nice $PY research/misreads.py /work/data/lenghu --years 2018,2019,2020 --calibrated --cal-frames 50 > $W/scratch/miss_before50.txt 2>&1
PYTHONPATH=$M/daemon:$M nice $PY research/misreads.py /work/data/lenghu --years 2018,2019,2020 --calibrated > $W/scratch/miss_beforeall.txt 2>&1
echo misreads done > $W/scratch/stage.txt
LOOKS="none,vignette 30%,gamma 0.8,exposure x0.6,scale 0.5"
cd $W; PYTHONPATH=$W/daemon:$W nice $PY research/camera_shift.py --tsi /work/data/tsi --lenghu /work/data/lenghu --calibrated --cal-frames 50 --only "$LOOKS" > scratch/cs_after50.txt 2>&1
cd $M; PYTHONPATH=$M/daemon:$M nice $PY research/camera_shift.py --tsi /work/data/tsi --lenghu /work/data/lenghu --calibrated --cal-frames 50 --only "$LOOKS" > $W/scratch/cs_before50.txt 2>&1
echo cs50 done >> $W/scratch/stage.txt
cd $W; PYTHONPATH=$W/daemon:$W nice $PY research/camera_shift.py --tsi /work/data/tsi --lenghu /work/data/lenghu --only "vignette 30%,gamma 0.8,wb warm" > scratch/cs_after_timed.txt 2>&1
cd $M; PYTHONPATH=$M/daemon:$M nice $PY research/camera_shift.py --tsi /work/data/tsi --lenghu /work/data/lenghu --only "vignette 30%,gamma 0.8,wb warm" > $W/scratch/cs_before_timed.txt 2>&1
echo all done >> $W/scratch/stage.txt
