#!/bin/bash
# lines of bench output that differ between off, feed and rule (all frames, then --cal-frames 50)
for p in bench bench50; do
  echo "== $p: off / feed / rule"
  for t in off feed rule; do [ -f scratch/${p}_$t.txt ] || continue; done
  paste -d'\n' scratch/${p}_off.txt scratch/${p}_feed.txt scratch/${p}_rule.txt 2>/dev/null | awk 'NR%3==1{a=$0} NR%3==2{b=$0} NR%3==0{if(a!=b||b!=$0){print "off  " a; print "feed " b; print "rule " $0}}'
done
