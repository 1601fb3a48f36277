"""cielo on 64-bit ARM: install.sh in an arm64 Debian 12 (a chroot under qemu-user), then `cielo classify` and a
short backfill against the loopback camera with the emulated CPU set to a Pi 3 / Zero 2 W's (Cortex-A53,
ARMv8.0) and a Pi 4's (Cortex-A72), through the operator command, with the runtime constraints.txt pins. The
results must equal x86-64's for the same images.

Emulation artefacts, not cielo's: a process under qemu-user reads the host's x86 /proc/cpuinfo, on which
onnxruntime >= 1.30 segfaults at import, so a Pi-like cpuinfo is bind-mounted over it; and user namespaces fail
under qemu-user, so the unit's PrivateUsers= and private /proc are tested on x86 (test_systemd.py), not here."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT, cielo, clean_env
from tests.support.camserver import CameraServer
from tests.system.conftest import TIMINGS, need, rootfs
from tests.system.machine import Chroot

CPUS = {  # QEMU_CPU -> the /proc/cpuinfo of a Pi with that core (part numbers: 0xd03 A53, 0xd08 A72)
    "cortex-a53": ("0xd03", "0x4", "Raspberry Pi 3 Model B Rev 1.2", "a02082"),
    "cortex-a72": ("0xd08", "0x3", "Raspberry Pi 4 Model B Rev 1.4", "c03114"),
}
HWCAP_FPHP, HWCAP_ASIMDHP, HWCAP_ASIMDDP = 1 << 9, 1 << 10, 1 << 20  # ARMv8.2 features an A53/A72 lacks
AUXV = ("import ctypes; libc = ctypes.CDLL(None); libc.getauxval.restype = ctypes.c_ulong; "
        "print(libc.getauxval(16))")


def cpuinfo(cpu: str) -> str:
    part, rev, model, revision = CPUS[cpu]
    core = ("BogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\n"
            f"CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: {part}\nCPU revision\t: {rev[-1]}\n")
    return ("".join(f"processor\t: {i}\n{core}\n" for i in range(4))
            + f"Hardware\t: BCM2835\nRevision\t: {revision}\nSerial\t\t: 100000001234abcd\nModel\t\t: {model}\n")


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Chroot, CameraServer, float]]:
    need("debootstrap", "qemu-aarch64-static", "update-binfmts")
    started = time.monotonic()
    lower = rootfs("arm64")
    TIMINGS["arm64 root filesystem (cached or built)"] = time.monotonic() - started
    start = datetime.now(UTC) - timedelta(hours=3)
    longitude = round(((12 - start.hour - start.minute / 60 - 1.5) * 15 + 180) % 360 - 180, 2)  # day all along
    with CameraServer() as camera:
        box = Chroot(lower, "arm64", cpuinfo=cpuinfo("cortex-a53"))
        try:
            started = time.monotonic()
            install = box.sh(f"cd /root/cielo && ./install.sh --camera {camera.base_url} --latitude -20 "
                             f"--longitude {longitude}", timeout=1500, QEMU_CPU="cortex-a53")
            TIMINGS["arm64: install.sh under qemu (cortex-a53)"] = time.monotonic() - started
            assert "systemd is not running here" in install.stdout  # a chroot: nothing started
            yield box, camera, longitude
        finally:
            box.close()


def test_install_resolved_the_pinned_aarch64_runtime(arm: tuple[Chroot, CameraServer, float]):
    box, _, _ = arm
    assert box.sh("/opt/cielo/.venv/bin/python -c 'import platform; print(platform.machine())'").stdout == "aarch64\n"
    frozen = box.sh("/opt/cielo/.venv/bin/python -m pip freeze").stdout.lower().replace("_", "-").splitlines()
    pins = [x.strip().lower() for x in (ROOT / "constraints.txt").read_text().splitlines()
            if x.strip() and not x.startswith("#")]
    for pin in pins:
        assert pin in frozen, f"{pin}: not what install.sh installed on arm64 ({frozen})"
    files = box.sh("ls /opt/cielo/.venv/lib/python3.11/site-packages/onnxruntime/capi/").stdout
    assert "aarch64" in files, files
    # No systemd in a chroot: the installer says so instead of starting anything.
    assert box.path("/etc/systemd/system/cielo.service").exists()
    assert box.path("/usr/local/bin/cielo").exists()


def x86_octas(paths: list[Path], cwd: Path) -> dict[str, tuple[int | None, float]]:
    result = cielo("classify", "--json", *map(str, paths), cwd=cwd, env=clean_env())
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {Path(r["file"]).name: (r["octas"], r["confidence"]) for r in rows}


@pytest.mark.parametrize("cpu", list(CPUS))
def test_classify_and_backfill_on_an_emulated_pi(arm: tuple[Chroot, CameraServer, float], cpu: str,
                                                tmp_path: Path):
    box, camera, _ = arm
    (box.dir / "cpuinfo").write_text(cpuinfo(cpu))  # what /proc/cpuinfo says inside, as on that Pi
    assert f"CPU part\t: {CPUS[cpu][0]}" in box.sh("cat /proc/cpuinfo").stdout
    # The emulated CPU is what QEMU_CPU says: no ARMv8.2 half-precision or dot product, as on a Pi 3/4
    # (onnxruntime 1.21.0's "Illegal instruction" on a Pi 4); the default (max) CPU has them.
    hwcap = int(box.sh(f"python3 -c '{AUXV}'", QEMU_CPU=cpu).stdout)
    assert hwcap & (HWCAP_FPHP | HWCAP_ASIMDHP | HWCAP_ASIMDDP) == 0, hex(hwcap)
    assert int(box.sh(f"python3 -c '{AUXV}'").stdout) & HWCAP_ASIMDDP

    # cielo classify: the camera's six kinds of sky, the same octas as on x86-64.
    images = box.path("/tmp/sky")
    images.mkdir(exist_ok=True)
    for i, data in enumerate(camera.images):
        (images / f"sky{i}.jpg").write_bytes(data)
        (tmp_path / f"sky{i}.jpg").write_bytes(data)
    expected = x86_octas(sorted(tmp_path.glob("sky*.jpg")), tmp_path)
    started = time.monotonic()
    out = box.sh("cd /tmp && cielo classify --json /tmp/sky/*.jpg", QEMU_CPU=cpu)
    TIMINGS[f"arm64 {cpu}: cielo classify, 6 images"] = time.monotonic() - started
    got = {Path(r["file"]).name: (r["octas"], r["confidence"]) for r in map(json.loads, out.stdout.splitlines())}
    assert got.keys() == expected.keys()
    for name, (octas, confidence) in got.items():
        assert octas == expected[name][0] and abs(confidence - expected[name][1]) < 0.01, (name, got, expected)
    assert min(o for o, _ in got.values()) <= 1 and max(o for o, _ in got.values()) == 8  # clear to overcast

    # A short backfill (one hour of the camera) through the operator command, as the service user.
    hours = {"cortex-a53": 3, "cortex-a72": 2}[cpu]
    frm = (datetime.now(UTC) - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
    to = frm + timedelta(minutes=59)
    started = time.monotonic()
    back = box.sh(f"cd / && cielo backfill --source skycam --from {frm:%Y-%m-%dT%H:%M}Z --to {to:%Y-%m-%dT%H:%M}Z",
                  QEMU_CPU=cpu, check=False)
    TIMINGS[f"arm64 {cpu}: cielo backfill, 1 hour"] = time.monotonic() - started
    assert back.returncode == 0, back.stdout + back.stderr
    assert "cannot start" not in back.stderr, back.stderr  # judged in its worker processes, as on a Pi
    assert re.search(r"^skycam: total=6 new=6 duplicates=0 failed=0$", back.stdout, re.M), back.stdout
    db = sqlite3.connect(f"file:{box.path('/var/lib/cielo/cielo.db')}?immutable=1", uri=True)
    stored = db.execute("SELECT value, json_extract(attrs, '$.url') FROM readings WHERE series = 'skycam.octas' "
                        "AND ts >= ? AND ts <= ?", (f"{frm:%Y-%m-%dT%H:%M}", f"{to:%Y-%m-%dT%H:%M}Z")).fetchall()
    db.close()
    assert len(stored) == 6
    for value, url in stored:
        served = camera.image_for(url.rsplit("/", 1)[1])
        assert value == expected[f"sky{camera.images.index(served)}.jpg"][0], (url, value)
    assert box.sh("find /var/lib/cielo ! -user cielo").stdout == ""


def test_the_emulated_pis_catch_the_runtime_that_broke_the_pi_4(arm: tuple[Chroot, CameraServer, float]):
    """The test above can fail for the reason the pin exists: onnxruntime 1.21.0 (the release that died with
    "Illegal instruction" on Raspberry Pi 4s) dies so here too on the emulated A53 and A72, and runs on qemu's
    default CPU (which has the ARMv8.2 instructions it assumed)."""
    box, _, _ = arm
    (box.dir / "cpuinfo").write_text(cpuinfo("cortex-a72"))
    box.sh("python3 -m venv /tmp/ort121 && /tmp/ort121/bin/pip install --quiet onnxruntime==1.21.0 "
           f"{next(p for p in (ROOT / 'constraints.txt').read_text().split() if p.startswith('numpy=='))}",
           timeout=1200)
    code = ("import numpy as np, onnxruntime as ort; s = ort.InferenceSession('/root/cielo/models/octas.onnx'); "
            "i = s.get_inputs()[0]; shape = [d if isinstance(d, int) else 1 for d in i.shape]; "
            "print(ort.__version__, s.run(None, {i.name: np.random.rand(*shape).astype('float32')})[0].shape)")
    for cpu in CPUS:
        died = box.sh(f'/tmp/ort121/bin/python -c "{code}"', check=False, QEMU_CPU=cpu)
        assert died.returncode in (-4, 132) and "Illegal instruction" in died.stderr, (cpu, died)
    ran = box.sh(f'/tmp/ort121/bin/python -c "{code}"')
    assert ran.stdout.strip() == "1.21.0 (1, 9)"
