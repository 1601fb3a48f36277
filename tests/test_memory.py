"""The allocator settings of processes that load the model (cielo.service.memory): the arena cap must be in
force before the process's threads first allocate, or it does not bind them."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from cielo.service.memory import ARENAS
from tests.conftest import clean_env

# Runs in a child (an arena, once made, lives as long as the process): `cielo ARGS...` in-process, then
# glibc's own account of its arenas (malloc_info: one <heap nr=...> per arena) into the file argv[1].
COUNT_ARENAS = """
import ctypes, sys
from cielo.cli import main
{before}
rc = main(sys.argv[2:]) if sys.argv[2:] else 0
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
f = libc.fopen(sys.argv[1].encode(), b"w")
libc.malloc_info(0, f)
libc.fclose(f)
sys.exit(rc)
"""

THREADS = """
import threading
from cielo.service.memory import lean_malloc
{cap}
held = []
gate = threading.Barrier(9)
def work():
    held.append(bytearray(4000))  # over pymalloc's 512 bytes: from this thread's malloc arena
    gate.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
gate.wait()
for t in threads: t.join()
"""


def arenas(tmp_path: Path, before: str, *argv: str) -> int:
    out = tmp_path / "malloc_info.xml"
    code = COUNT_ARENAS.format(before=before)
    result = subprocess.run([sys.executable, "-c", code, str(out), *argv], capture_output=True, text=True,
                            timeout=120, env=clean_env())
    assert result.returncode == 0, result.stderr
    return out.read_text().count("<heap nr=")


@pytest.fixture(autouse=True)
def glibc_only():
    if platform.libc_ver()[0] != "glibc":  # musl and others: neither glibc's arenas nor its malloc_info
        pytest.skip("glibc's malloc only")


def test_the_cap_binds_threads_that_start_after_it(tmp_path: Path):
    uncapped = arenas(tmp_path, THREADS.format(cap=""))
    capped = arenas(tmp_path, THREADS.format(cap="assert lean_malloc()"))
    assert uncapped > ARENAS  # eight threads alive at once make their own arenas when nothing caps them ...
    assert capped <= ARENAS  # ... and share the capped ones when the cap came first


def test_a_camera_backfill_runs_on_the_capped_arenas(tmp_path: Path, config):
    # The model loads in the first fetch thread, after the runner's and the fetch pool's threads exist: the
    # cap the model's loader sets would come too late for them (five arenas for four fetch threads).
    n = arenas(tmp_path, "", "--config", str(config()), "backfill", "--from", "2024-06-01T00:00Z",
               "--to", "2024-06-01T05:59Z", "--workers", "4")
    assert n <= ARENAS
