"""Scratch copies of a cached root filesystem for the system tests, and ways to run commands in them:
a Debian 12 booted with systemd as PID 1 (systemd-nspawn --boot; commands through nsenter) and a chroot (for
arm64 under qemu-user). Each copy is an overlay over the cache, so the cache itself is never written."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.conftest import ROOT

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PIP_FILES = [Path("/etc/pip.conf"), Path("/etc/xdg/pip"), Path.home() / ".config/pip"]
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def pip_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("PIP_")}


def local_pip_dirs() -> list[Path]:
    """Local folders the host's pip settings name (find-links, file:// indexes): bound read-only inside."""
    text = " ".join(pip_env().values())
    for f in PIP_FILES:
        for p in ([f] if f.is_file() else sorted(f.glob("*")) if f.is_dir() else []):
            if p.is_file():
                text += " " + p.read_text(errors="replace")
    found = []
    for token in re.findall(r"(?:file://)?(/[^\s,;]+)", text):
        path = Path(token)
        if path.name == "simple":  # a PEP 503 index: its pages link to files beside it
            path = path.parent
        if path.is_dir() and not any(path == d or d in path.parents for d in found) and path != Path("/"):
            found.append(path)
    return found


class Scratch:
    """An overlay of `lower` (a cached root) with the checkout in /root/cielo and the host's pip settings."""

    def __init__(self, lower: Path, name: str):
        self.dir = Path(tempfile.mkdtemp(prefix=f"cielo-{name}-", dir="/var/tmp"))
        for d in ("upper", "work", "root"):
            (self.dir / d).mkdir()
        self.root = self.dir / "root"
        overlay = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                                  f"lowerdir={lower},upperdir={self.dir / 'upper'},workdir={self.dir / 'work'}",
                                  str(self.root)], capture_output=True)
        self.mounts = [self.root] if overlay.returncode == 0 else []
        if overlay.returncode != 0:  # no overlayfs here (e.g. /var/tmp itself on one): a full copy instead
            subprocess.run(["cp", "-a", "--reflink=auto", f"{lower}/.", str(self.root)], check=True)
        # The checkout as a fresh clone would have it (tracked and new files, not the ignored .venv).
        files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                               capture_output=True).stdout.decode().split("\0")
        dest = self.root / "root/cielo"
        for f in filter(None, files):
            if (ROOT / f).is_file():
                (dest / f).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / f, dest / f)
        # The host's way to the package index: its CA bundle and pip settings.
        if CA_BUNDLE.exists():
            (self.root / "etc/ssl/certs").mkdir(parents=True, exist_ok=True)
            shutil.copy2(CA_BUNDLE, self.root / "etc/ssl/certs/ca-certificates.crt")
        for f in PIP_FILES:
            target = self.root / ("root" / f.relative_to(Path.home()) if Path.home() in f.parents else
                                  f.relative_to("/"))
            if f.is_dir():
                shutil.copytree(f, target, dirs_exist_ok=True)
            elif f.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, target)
        if not (self.root / "etc/resolv.conf").is_symlink():
            shutil.copy2("/etc/resolv.conf", self.root / "etc/resolv.conf")

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    def env(self, **extra: str) -> list[str]:
        return ["env", "-i", f"PATH={PATH}", "HOME=/root", "LANG=C.UTF-8",
                *(f"{k}={v}" for k, v in {**pip_env(), **extra}.items())]

    def bind(self, source: Path, inside: str, ro: bool = True) -> None:
        target = self.path(inside)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        subprocess.run(["mount", "--bind", str(source), str(target)], check=True)
        if ro:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], check=True)
        self.mounts.append(target)

    def close(self) -> None:
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(m)], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class Booted(Scratch):
    """The copy booted with systemd as PID 1 (systemd-nspawn --boot), sharing the host's network."""

    def __init__(self, lower: Path, name: str = "nspawn"):
        super().__init__(lower, name)
        self.log = open(self.dir / "nspawn.log", "w")  # noqa: SIM115
        binds = [f"--bind-ro={d}" for d in local_pip_dirs()]
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--console=passive", "--link-journal=no",
             f"--machine={name}", "-D", str(self.root), *binds],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._boot()
        except BaseException:
            self.close()
            raise

    def _boot(self) -> None:
        self.leader = self._find_leader()
        deadline = time.monotonic() + 120
        while True:  # until systemd answers (its socket appears a moment after exec)
            booted = self.sh("systemctl is-system-running --wait", check=False, timeout=120)
            if booted.stdout.strip() in ("running", "degraded"):
                break
            assert time.monotonic() < deadline, booted.stdout + booted.stderr + self.nspawn_log()
            time.sleep(0.2)

    def _find_leader(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.nspawn_log()
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    text = status.read_text()
                except OSError:
                    continue
                ppid = re.search(r"^PPid:\s+(\d+)", text, re.M)
                nspid = re.search(r"^NSpid:\s+(\d+)\s+1$", text, re.M)
                name = re.search(r"^Name:\s+(\S+)", text, re.M)
                if ppid and nspid and int(ppid[1]) == self.proc.pid and name and name[1] == "systemd":
                    return int(nspid[1])
            time.sleep(0.2)
        raise AssertionError("the container's init did not start: " + self.nspawn_log())

    def nspawn_log(self) -> str:
        return (self.dir / "nspawn.log").read_text(errors="replace")

    def sh(self, command: str, check: bool = True, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
        """A shell command as root inside the container (its namespaces and root, a clean environment)."""
        result = subprocess.run(["nsenter", "-t", str(self.leader), "-a", *self.env(**env), "bash", "-c", command],
                                capture_output=True, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, f"{command}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result

    def show(self, unit: str, *props: str) -> dict[str, str]:
        out = self.sh(f"systemctl show {unit} " + " ".join(f"-p {p}" for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, unit: str | None = None) -> str:
        sel = f"-u {unit}" if unit else ""
        return self.sh(f"journalctl --no-pager -o short-precise {sel}", check=False).stdout

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # nspawn asks the container's systemd to power off
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.log.close()
        super().close()


class Chroot(Scratch):
    """The copy as a chroot with /proc, /dev and /sys (for arm64 under qemu-user: no boot, no user namespaces)."""

    def __init__(self, lower: Path, name: str, cpuinfo: str | None = None):
        super().__init__(lower, name)
        try:
            for fs, inside in (("proc", "proc"), ("sysfs", "sys")):
                subprocess.run(["mount", "-t", fs, fs, str(self.path(inside))], check=True)
                self.mounts.append(self.path(inside))
            self.bind(Path("/dev"), "dev", ro=False)
            # A Pi's /dev/shm (multiprocessing's semaphores: `cielo backfill` judges in worker processes); a bind
            # of /dev leaves out the tmpfs mounted on it. Private first: nothing mounted here reaches the host.
            subprocess.run(["mount", "--make-private", str(self.path("dev"))], check=True)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777,size=64m", "tmpfs", str(self.path("dev/shm"))],
                           check=True)
            self.mounts.append(self.path("dev/shm"))
            for d in local_pip_dirs():
                self.bind(d, str(d))
            if cpuinfo is not None:
                (self.dir / "cpuinfo").write_text(cpuinfo)
                self.bind(self.dir / "cpuinfo", "proc/cpuinfo")
        except BaseException:
            self.close()
            raise

    def sh(self, command: str, check: bool = True, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
        result = subprocess.run(["chroot", str(self.root), *self.env(**env), "bash", "-c", command],
                                capture_output=True, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, f"{command}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result
