"""install.sh and the systemd unit, as far as this machine allows: the appliance install into a scratch root
(no user, no systemctl), idempotence, uninstall/purge, the config it writes (absolute state paths, --camera,
--latitude/--longitude), the operator command, the pinned runtime, the 32-bit refusal, and the unit's exposure.
The same install on a booted Debian with systemd, and on arm64, is in tests/system/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.camserver import sky_jpeg


def install(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "install.sh"), *args], capture_output=True, text=True, timeout=300,
                          env=env or dict(os.environ))


@pytest.mark.slow  # a real venv with the pinned runtime, twice (~40 s each quiet): CI runs it as its own step
def test_appliance_install_into_a_scratch_root(tmp_path: Path):
    root = tmp_path / "root"
    first = install("--root", str(root), "--no-start")
    assert first.returncode == 0, first.stderr
    etc, opt, var = root / "etc/cielo", root / "opt/cielo", root / "var/lib/cielo"
    assert oct((etc / "config.toml").stat().st_mode & 0o777) == "0o640"
    assert oct((etc / "cielo.env").stat().st_mode & 0o777) == "0o600"
    assert oct(var.stat().st_mode & 0o777) == "0o750"
    assert (root / "etc/systemd/system/cielo.service").read_text() == (ROOT / "systemd/cielo.service").read_text()
    # The installed package is a real install (not the checkout) and carries its model.
    image = tmp_path / "sky.jpg"
    image.write_bytes(sky_jpeg(1.0, seed=1))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CIELO_CONFIG")}
    run = subprocess.run([str(opt / ".venv/bin/cielo"), "--config", str(etc / "config.toml"), "classify", str(image)],
                         capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0 and ": 8 octas" in run.stdout, run.stderr
    site = subprocess.run([str(opt / ".venv/bin/python"), "-c", "import cielo; print(cielo.__file__)"],
                          capture_output=True, text=True, cwd=tmp_path, env=env).stdout
    assert str(opt) in site
    # Absolute state paths: the CLI acts on the daemon's files from any directory.
    written = tomllib.loads((etc / "config.toml").read_text())
    assert written["storage"]["database"] == "/var/lib/cielo/cielo.db"
    assert written["skycam"]["images_dir"] == "/var/lib/cielo/images"
    assert written["skycam"]["calibration"] == "/var/lib/cielo/calibration.json"
    assert "base_url" not in written["skycam"]  # no --camera: the seed's, and the installer says so
    assert "seed's public camera" in first.stdout and "--camera" in first.stdout
    # Every other line of the seed config is kept (its comments are the reference).
    assert set((ROOT / "config.toml").read_text().splitlines()) <= set((etc / "config.toml").read_text().splitlines())
    # The operator command and the pinned runtime.
    assert (root / "usr/local/bin/cielo").read_text() == (ROOT / "systemd/cielo").read_text()
    assert os.access(root / "usr/local/bin/cielo", os.X_OK)
    frozen = subprocess.run([str(opt / ".venv/bin/python"), "-m", "pip", "freeze"], capture_output=True, text=True,
                            env=env).stdout.lower().replace("_", "-").splitlines()
    for pin in pins():
        assert pin in frozen, f"{pin} is not what install.sh installed"

    # --camera FOLDER: the folder a camera program writes, with the layout found in it (indi-allsky's ccd_*).
    config = etc / "config.toml"
    before = config.read_text()
    images = tmp_path / "www" / "allsky" / "images"
    (images / "ccd_0a1b" / "exposures").mkdir(parents=True)
    folder = install("--root", str(root), "--no-start", "--camera", str(images))
    assert folder.returncode == 0, folder.stderr
    written = tomllib.loads(config.read_text())["skycam"]
    assert (written["folder"], written["layout"]) == (str(images), "indi-allsky")
    assert "read access" in folder.stdout

    # --camera, --latitude, --longitude write into the installed config, in place, changing nothing else (a
    # camera URL replaces the folder set above).
    placed = install("--root", str(root), "--no-start", "--camera", "http://192.0.2.7/sky/", "--latitude", "40.4",
                     "--longitude", "-3.7")
    assert placed.returncode == 0, placed.stderr
    assert "set [skycam] base_url" in placed.stdout and "seed" not in placed.stdout
    assert "removed [skycam] folder" in placed.stdout and "removed [skycam] layout" in placed.stdout
    written = tomllib.loads(config.read_text())
    assert written["skycam"]["base_url"] == "http://192.0.2.7/sky"
    assert written["device"]["latitude"] == 40.4 and written["device"]["longitude"] == -3.7
    added = set(config.read_text().splitlines()) - set(before.splitlines())
    assert added == {'base_url = "http://192.0.2.7/sky"', "latitude = 40.4", "longitude = -3.7"}
    assert oct(config.stat().st_mode & 0o777) == "0o640"
    sources = subprocess.run([str(opt / ".venv/bin/cielo"), "--config", str(config), "sources"],
                             capture_output=True, text=True, cwd=tmp_path, env=env)
    assert sources.returncode == 0, sources.stderr  # valid for cielo, not only for TOML

    # Idempotent: the config an operator edited is never overwritten.
    edited = '[device]\nid = "edited"\n\n[storage]\ndatabase = "/srv/cielo.db"\nimages_dir = "/srv/img"\n' \
             '\n[skycam]\ncalibration = "/srv/cal.json"\n'
    (etc / "config.toml").write_text(edited)
    second = install("--root", str(root), "--no-start")
    assert second.returncode == 0 and "wrote" not in second.stdout and "installed /" not in second.stdout
    assert "set [" not in second.stdout and "seed" not in second.stdout
    assert (etc / "config.toml").read_text() == edited

    (var / "cielo.db").write_text("data")
    assert install("--root", str(root), "--uninstall").returncode == 0
    assert not opt.exists() and not (root / "etc/systemd/system/cielo.service").exists()
    assert not (root / "usr/local/bin/cielo").exists()
    assert (etc / "config.toml").exists() and (var / "cielo.db").exists()
    assert install("--root", str(root), "--purge").returncode == 0
    assert not etc.exists() and not var.exists()


def pins() -> list[str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return [x.strip().lower() for x in lines if x.strip() and not x.startswith("#")]


def test_runtime_is_pinned_past_the_pi_4_illegal_instruction():
    found = dict(pin.split("==") for pin in pins())
    assert {"onnxruntime", "numpy", "pillow"} <= found.keys()
    major, minor, *_ = (int(x) for x in found["onnxruntime"].split("."))
    assert (major, minor) >= (1, 22), "onnxruntime 1.21 dies with Illegal instruction on a Pi 4"
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:  # every runtime dependency is pinned
        name = dep.split(">")[0].split("<")[0].split("=")[0].strip().lower()
        assert name in found, f"{name} is not pinned in constraints.txt"
    assert '-c "$src/constraints.txt"' in (ROOT / "install.sh").read_text()


@pytest.mark.parametrize("args", [("--camera", "ftp://x/y"), ("--camera", "relative/folder"), ("--latitude", "north"),
                                  ("--longitude", "200"), ("--latitude", "91")])
def test_bad_camera_or_coordinates_are_refused_before_anything_is_installed(tmp_path: Path, args: tuple[str, str]):
    result = install("--root", str(tmp_path / "root"), *args)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "root").exists()


def test_32_bit_userland_on_a_64_bit_kernel_is_refused_with_the_reason(tmp_path: Path):
    """Raspberry Pi OS armhf on a 64-bit kernel: `uname -m` says aarch64, the Python is 32-bit."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "uname").write_text("#!/bin/sh\necho aarch64\n")
    real = shutil.which("python3")
    (fake / "python3").write_text(
        "#!/bin/sh\ncase \"$*\" in *calcsize*) echo 32 armv7l; exit 0 ;; esac\n" f'exec {real} "$@"\n')
    for f in fake.iterdir():
        f.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "PYTHON": str(fake / "python3")}
    result = install("--root", str(tmp_path / "root"), env=env)
    assert result.returncode == 1
    assert "32-bit" in result.stderr and "64-bit Raspberry Pi OS" in result.stderr
    assert not (tmp_path / "root/opt").exists()


def test_operator_command_runs_the_cli_as_the_service_user(tmp_path: Path):
    """The wrapper as root: drops to user cielo through runuser with the installed config and the service's
    secrets (a fake runuser records what it was asked)."""
    script = (ROOT / "systemd/cielo").read_text()
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "cielo.env").write_text('# secrets\nCIELO_MQTT_PASSWORD="s3cret"\n\nCIELO_AEMET_API_KEY=k=1\n')
    wrapper = tmp_path / "cielo"
    wrapper.write_text(script.replace("/etc/cielo/cielo.env", str(etc / "cielo.env")))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "runuser").write_text('#!/bin/sh\necho "args: $*"; echo "pw: $CIELO_MQTT_PASSWORD";'
                                  ' echo "key: $CIELO_AEMET_API_KEY"; echo "umask: $(umask)"\n')
    (fake / "id").write_text('#!/bin/sh\n[ "$1" = -u ] && echo 0 || echo root\n')
    for f in (*fake.iterdir(), wrapper):
        f.chmod(0o755)
    out = subprocess.run([str(wrapper), "status", "--json"], capture_output=True, text=True,
                         env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    assert out.returncode == 0, out.stderr
    assert "args: -u cielo -- /opt/cielo/.venv/bin/cielo --config /etc/cielo/config.toml status --json" in out.stdout
    assert "pw: s3cret" in out.stdout and "key: k=1" in out.stdout and "umask: 0027" in out.stdout


def test_bad_option_is_one_line_exit_2():
    result = install("--frobnicate")
    assert result.returncode == 2 and result.stderr.count("\n") == 1


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_unit_exposure_is_at_most_2():
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", str(ROOT / "systemd/cielo.service")],
                            capture_output=True, text=True)
    match = re.search(r"Overall exposure level for cielo\.service: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0


def test_unit_keeps_what_cielo_needs():
    unit = (ROOT / "systemd/cielo.service").read_text()
    for line in ("Type=notify", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "StateDirectory=cielo",
                 "EnvironmentFile=-/etc/cielo/cielo.env", "Restart=on-failure", "After=network-online.target "
                 "time-sync.target", "WatchdogSec="):
        assert line in unit
    assert "PrivateNetwork=yes" not in unit  # outbound HTTP and MQTT
