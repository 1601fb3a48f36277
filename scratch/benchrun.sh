#!/bin/bash
# glare23: untransformed bench with lens.glare_cloud off (main's behaviour) and on, all frames and 50
cd "$(dirname "$0")/.." && export PYTHONPATH=$PWD/daemon:$PWD && PY=/work/main/.venv/bin/python
mkdir -p /tmp/g23
B="--tsi /work/data/tsi --lenghu /work/data/lenghu --part both --split 2020"
for flag in True False; do
  for cf in "" "--cal-frames 50"; do
    tag=$flag${cf:+_50}
    nice $PY -c "import sys,runpy; import cielo.sources.skycam.model as m; m.GLARE_CLOUD_TEST=$flag; sys.argv=['x']+sys.argv[1:]; runpy.run_module('bench.classify_regimes', run_name='__main__')" $B $cf --json /tmp/g23/bench_$tag.json > /tmp/g23/bench_$tag.txt 2>&1
  done
done
