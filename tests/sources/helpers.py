"""Helpers the source tests share."""

from __future__ import annotations

import re

AUTUMN = ("--from", "2021-10-31T00:00+02:00", "--to", "2021-10-31T23:59+01:00")  # Madrid's 25-hour day
SPRING = ("--from", "2022-03-27T00:00+01:00", "--to", "2022-03-27T23:59+02:00")  # Madrid's 23-hour day
SUMMARY = re.compile(r"^(\w+): total=(\d+) new=(\d+) duplicates=(\d+) failed=(\d+)$", re.M)


def summary(stdout: str) -> dict[str, tuple[int, ...]]:
    return {m[1]: tuple(int(x) for x in m.groups()[1:]) for m in SUMMARY.finditer(stdout)}
