"""install.sh and the systemd unit, as far as this machine allows: the appliance install into a scratch root
(no user, no systemctl), idempotence, uninstall/purge, the 32-bit refusal, and the unit's exposure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.camserver import sky_jpeg


def install(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "install.sh"), *args], capture_output=True, text=True, timeout=300,
                          env=env or dict(os.environ))


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

    # Idempotent: the config an operator edited is never overwritten.
    (etc / "config.toml").write_text("[device]\nid = \"edited\"\n")
    second = install("--root", str(root), "--no-start")
    assert second.returncode == 0 and "wrote" not in second.stdout and "installed /" not in second.stdout
    assert (etc / "config.toml").read_text() == "[device]\nid = \"edited\"\n"

    (var / "cielo.db").write_text("data")
    assert install("--root", str(root), "--uninstall").returncode == 0
    assert not opt.exists() and not (root / "etc/systemd/system/cielo.service").exists()
    assert (etc / "config.toml").exists() and (var / "cielo.db").exists()
    assert install("--root", str(root), "--purge").returncode == 0
    assert not etc.exists() and not var.exists()


def test_32_bit_arm_is_refused_with_the_reason(tmp_path: Path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "uname").write_text("#!/bin/sh\necho armv7l\n")
    (fake / "uname").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    result = install("--root", str(tmp_path / "root"), env=env)
    assert result.returncode == 1
    assert "32-bit" in result.stderr and "64-bit Raspberry Pi OS" in result.stderr
    assert not (tmp_path / "root/opt").exists()


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
