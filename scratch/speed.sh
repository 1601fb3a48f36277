#!/bin/bash
# bench.judge_speed with lens.part_glow off (main's path) and on, back to back, twice
cd "$(dirname "$0")/.." && export PYTHONPATH=$PWD/daemon:$PWD
for round in 1 2; do for flag in False True; do
  echo "== PART_GLOW_TEST=$flag round $round"
  nice /work/main/.venv/bin/python -c "import sys,runpy; import cielo.sources.skycam.model as m; m.PART_GLOW_TEST=$flag; sys.argv=['x']+sys.argv[1:]; runpy.run_module('bench.judge_speed', run_name='__main__')" --tsi /work/data/tsi --lenghu /work/data/lenghu 2>&1 | tail -8
done; done
