#!/bin/bash
# untransformed bench with lens.part_glow off (main's behaviour) and on; and the calibrated look table
cd "$(dirname "$0")/.." && export PYTHONPATH=$PWD/daemon:$PWD && PY=/work/main/.venv/bin/python
B="--tsi /work/data/tsi --lenghu /work/data/lenghu --part both --split 2020"
for flag in False True; do
  for cf in "" "--cal-frames 50"; do
    tag=$flag${cf:+_50}
    nice $PY -c "import sys,runpy; import cielo.sources.skycam.model as m; m.PART_GLOW_TEST=$flag; sys.argv=['x']+sys.argv[1:]; runpy.run_module('bench.classify_regimes', run_name='__main__')" $B $cf --json /tmp/b23/bench_$tag.json > /tmp/b23/bench_$tag.txt 2>&1
  done
done
