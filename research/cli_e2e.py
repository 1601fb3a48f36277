#!/usr/bin/env python3
"""LenghuSky-8 through the real commands: `cielo calibrate --images` on a year's few frames, `cielo classify --json`.

The bench (`bench.classify_regimes --cal-frames 50`) fits and judges in one process on decoded frames; this runs
what a user runs, as subprocesses of the current interpreter (`python -m cielo`, the `cielo` this script imports):
each labelled frame written as a JPEG with its EXIF DateTimeOriginal and OffsetTimeOriginal (+08:00), bytes
otherwise as stored; per year, `calibrate --images` on `--cal-frames` of them; `classify --json` on the rest,
once with no calibration (time from EXIF: "timed") and once with the year's ("calibrated"). Scored on the same
frames: in-class share (truth <= 2 read <= 2, truth >= 6 read >= 6; the bar) and MAE (a frame with no octas
counts 8), per year and in total, split by regime (day / twilight / moonlit night / dark night: `regime.light` at
the frame's EXIF time and the config's site; the same regime classify --json prints as `light`).

Picks (`--pick`): `cli` (default) hands the whole year's folder to `calibrate --images --max-images N`, which
spreads its N evenly over the sorted files; those N (the same rule, recomputed here) are left out of the score.
`kth`: every k-th file of the year (k = files // N), the first N, in a folder of their own (the session 14-15
scripts). `stored`: what the daemon learns from: `backfill` replays the year from a folder camera into a
database (the daemon's capture path: a slot a minute, each frame's time from its name), `calibrate --from
--to --max-images N` spreads its N over the stored judged readings; `calibrate --auto` (the daily refit) is run
too, on a calibration file of its own, and only says what it did. Slow: minutes a year (every minute's slot).

Years 2018-2019 are the frames rules were chosen on, 2020 the check; 2021 is held out (`--heldout`, once).
No network: the config's camera is a loopback address no command contacts.

    PYTHONPATH=$PWD/daemon:$PWD nice python research/cli_e2e.py --lenghu LENGHU_DIR [--processes 2]
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import skydata

HELD_OUT = "2021"
SITE = (38.61, 93.90)  # Lenghu, the config's [device]; frames are named in UTC+8
ZONE = "Asia/Shanghai"
UTC8 = timezone(timedelta(hours=8))


def write_frames(lenghu: Path, years: list[str], out: Path) -> dict[str, dict]:
    """out/<year>/<name>.jpg for each labelled frame of `years` (only their JSONs are read); {name: truth}."""
    from PIL import Image

    from cielo.sources.skycam import regime

    picked = out / "json"
    picked.mkdir(parents=True, exist_ok=True)
    for path in sorted(lenghu.glob("*.json")):
        if path.name[:4] in years and not (picked / path.name).exists():
            (picked / path.name).symlink_to(path.resolve())
    truth = {}
    for s in skydata.load_lenghu(picked, twilight=True):
        local = s.extra["when"].astimezone(UTC8)
        ex = Image.Exif()
        sub = ex.get_ifd(0x8769)
        sub[36867] = local.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
        sub[36881] = "+08:00"  # OffsetTimeOriginal
        blob = b"Exif\x00\x00" + ex.tobytes()
        if s.jpeg[:2] != b"\xff\xd8":
            raise SystemExit(f"{s.name}: not a JPEG")
        app1 = b"\xff\xe1" + struct.pack(">H", len(blob) + 2) + blob
        name = s.name[:19]
        folder = out / name[:4]
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.jpg").write_bytes(s.jpeg[:2] + app1 + s.jpeg[2:])
        truth[name] = {"octas": int(s.octas), "regime": regime.light(s.extra["when"], *SITE).regime}
    return truth


def config(path: Path, calibration: Path, camera: str = 'base_url = "http://127.0.0.1:9/never-contacted"') -> Path:
    path.write_text(f"""[device]
latitude = {SITE[0]}
longitude = {SITE[1]}
timezone = "{ZONE}"
[storage]
database = "{path.parent / 'cielo.db'}"
[skycam]
{camera}
timezone = "{ZONE}"
calibration = "{calibration}"
""")
    return path


def cielo(args: list[str], env: dict[str, str], log: Path) -> str:
    """stdout of `python -m cielo ARGS`; stderr to `log`; a failure ends the run with its tail."""
    t = time.monotonic()
    with log.open("w") as err:
        done = subprocess.run([sys.executable, "-m", "cielo", *args], stdout=subprocess.PIPE, stderr=err,
                              text=True, env=env, cwd=log.parent)
    if done.returncode not in (0, 1):  # classify exits 1 when a file is invalid: scored, and said below
        raise SystemExit(f"cielo {' '.join(args[:3])} ... exited {done.returncode}:\n{log.read_text()[-2000:]}")
    log.with_suffix(".s").write_text(f"{time.monotonic() - t:.1f}\n")
    return done.stdout


def classify(cfg: Path, files: list[Path], processes: int, env: dict[str, str], tag: str, pool) -> dict[str, dict]:
    """{name: the classify --json line} over `processes` calls of `classify --json`, many files each."""
    chunks = [files[i::processes] for i in range(processes) if files[i::processes]]
    outs = pool.map(lambda ic: cielo(["--config", str(cfg), "classify", "--json", *map(str, ic[1])], env,
                                     cfg.parent / f"classify_{tag}_{ic[0]}.err"), enumerate(chunks))
    got = {}
    with (cfg.parent / f"classify_{tag}.jsonl").open("w") as keep:  # for diffing runs frame by frame
        for out in outs:
            keep.write(out)
            for line in out.splitlines():
                j = json.loads(line)
                got[Path(j["file"]).stem] = j
    missing = {f.stem for f in files} - set(got)
    if missing:
        raise SystemExit(f"classify {tag}: no line for {len(missing)} files, e.g. {sorted(missing)[0]}")
    return got


def pick(files: list[Path], n: int, how: str) -> list[Path]:
    if how == "kth":
        k = max(len(files) // n, 2)
        return files[::k][:n]
    from cielo.sources.skycam.samples import _spread  # what `calibrate --images --max-images` picks

    return _spread(files, n)


def fit_year(y: str, files: list[Path], n: int, how: str, work: Path, env: dict[str, str]) -> set[str]:
    """Runs the year's calibration (work/Y/cal.json, its output in calibrate.out); the names it learned from."""
    ydir = work / y
    if how != "stored":
        cfg = config(ydir / "cielo.toml", ydir / "cal.json")
        fit = pick(files, n, how)
        folder = files[0].parent
        if how == "kth":
            folder = ydir / "fit"
            folder.mkdir(exist_ok=True)
            for f in fit:
                if not (folder / f.name).exists():
                    (folder / f.name).symlink_to(f)
        out = cielo(["--config", str(cfg), "calibrate", "--images", str(folder), "--max-images", str(n)], env,
                    ydir / "calibrate.err")
        (ydir / "calibrate.out").write_text(out)
        return {f.stem for f in fit}
    # What the daemon itself would learn from: the year replayed into a database from a folder camera (the
    # frames' names give their times, a slot a minute), then calibrate from its stored judged readings.
    camera = (f'folder = "{files[0].parent.parent}"\npattern = "%Y/%Y-%m-%d-%H-%M-%S.jpg"\n'
              f"minutes = [{', '.join(map(str, range(60)))}]")
    cfg = config(ydir / "cielo.toml", ydir / "cal.json", camera)
    (ydir / "cielo.db").unlink(missing_ok=True)
    span = ["--from", files[0].stem[:10], "--to", f"{files[-1].stem[:10]}T23:59"]
    cielo(["--config", str(cfg), "backfill", *span, "--source", "skycam", "--processes", "0"], env,
          ydir / "backfill.err")
    out = cielo(["--config", str(cfg), "calibrate", *span, "--max-images", str(n)], env, ydir / "calibrate.err")
    # the daemon's daily refit, on a calibration path of its own: what it says (it learns from the last 30 days)
    auto = config(ydir / "auto.toml", ydir / "auto-cal.json", camera)
    out += cielo(["--config", str(auto), "calibrate", "--auto"], env, ydir / "auto.err")
    (ydir / "calibrate.out").write_text(out)
    from cielo.sources.skycam.samples import _spread
    from cielo.store import Store
    from cielo.timeutil import EARLIEST, LATEST, iso

    store = Store(ydir / "cielo.db")  # the slots `calibrate --from` picks among, each with its file
    try:
        slots = store.judged_slots("skycam.octas", EARLIEST, LATEST)
        urls = dict(store.query("SELECT ts, json_extract(attrs, '$.url') FROM readings WHERE series = ?",
                                ("skycam.octas",)))
    finally:
        store.close()
    return {Path(urls[iso(t)]).stem for t in _spread(slots, n)}


def stored_vs_classify(db: Path, timed: dict) -> str:
    """The readings the backfill stored against `classify --json` (no calibration) on the same files."""
    import sqlite3

    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT value, json_extract(attrs, '$.url'), json_extract(attrs, '$.flag') "
                         "FROM readings").fetchall()
    off = [Path(u).stem for v, u, f in rows if (timed[Path(u).stem]["octas"], timed[Path(u).stem]["flag"])
           != (None if v is None else round(v), f)]
    return (f"{len(rows)} readings stored, {len(off)} differ from classify --json (no calibration)"
            + (f", e.g. {off[0]}" if off else ""))


def score(names: list[str], truth: dict, got: dict) -> dict:
    inclass = [n for n in names if truth[n]["octas"] <= 2 or truth[n]["octas"] >= 6]

    def ok(n: str) -> bool:
        t, o = truth[n]["octas"], got[n]["octas"]
        return o is not None and ((t <= 2 and o <= 2) or (t >= 6 and o >= 6))

    err = [8 if got[n]["octas"] is None else abs(got[n]["octas"] - truth[n]["octas"]) for n in names]
    return {"frames": len(names), "n": len(inclass), "right": sum(map(ok, inclass)),
            "mae": sum(err) / len(err) if err else float("nan"),
            "none": sum(got[n]["octas"] is None for n in names)}


def cell(r: dict) -> str:
    share = f"{r['right'] / r['n']:6.1%}" if r["n"] else "     -"
    return f"{share} {r['right']:>3}/{r['n']:<3}"


def table(rows: list[tuple[str, str, list[str]]], truth: dict, timed: dict, calibrated: dict) -> None:
    print(f"{'years':<10} {'regime':<14} {'frames':>6}  {'timed <=2|>=6':>15}  {'calibrated':>15}  "
          f"{'MAE timed':>9} {'MAE cal':>8} {'no octas t/c':>12}")
    for label, reg, names in rows:
        if not names:
            continue
        t, c = score(names, truth, timed), score(names, truth, calibrated)
        print(f"{label:<10} {reg:<14} {t['frames']:>6}  {cell(t):>15}  {cell(c):>15}  {t['mae']:>9.3f} "
              f"{c['mae']:>8.3f} {t['none']:>6}/{c['none']:<5}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lenghu", type=Path, required=True, help="LenghuSky-8 LabelMe JSONs")
    p.add_argument("--years", default="2018,2019,2020")
    p.add_argument("--heldout", action="store_true", help=f"allow {HELD_OUT} (held out: report it once)")
    p.add_argument("--cal-frames", type=int, default=50, help="frames each year's calibration sees (default 50)")
    p.add_argument("--pick", choices=("cli", "kth", "stored"), default="cli")
    p.add_argument("--work", type=Path, help="where frames, configs and outputs go (default: a temp folder)")
    p.add_argument("--processes", type=int, default=1, help="cielo commands run at once (default 1)")
    args = p.parse_args()
    years = sorted({y.strip() for y in args.years.split(",") if y.strip()})
    if HELD_OUT in years:
        if not args.heldout:
            p.error(f"{HELD_OUT} is held out: only with --heldout, and reported once")
        print(f"WARNING: LenghuSky-8 {HELD_OUT} is held out: report it once, choose and tune nothing by it",
              file=sys.stderr)
    if not set(years) <= set(skydata.LENGHU_YEARS):
        p.error(f"--years: only {', '.join(skydata.LENGHU_YEARS)}")
    import os

    import cielo as pkg

    work = args.work or Path(tempfile.mkdtemp(prefix="cli_e2e."))
    work.mkdir(parents=True, exist_ok=True)
    work = work.resolve()
    env = dict(os.environ)
    here = str(Path(pkg.__file__).resolve().parents[1])  # the children run the `cielo` this script imports
    env["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [env.get("PYTHONPATH")])])
    start = time.monotonic()
    truth = write_frames(args.lenghu, years, work / "frames")
    version = subprocess.run([sys.executable, "-m", "cielo", "--version"], capture_output=True, text=True,
                             env=env).stdout.strip()
    print(f"{version} from {here}; work {work}; {len(truth)} frames written in {time.monotonic() - start:.0f} s; "
          f"pick {args.pick}, {args.cal_frames} frames a year; {args.processes} process(es)")

    plain = config(work / "plain.toml", work / "no-calibration.json")
    files_of = {y: sorted((work / "frames" / y).glob("*.jpg")) for y in years}
    for y in years:
        (work / y).mkdir(exist_ok=True)
    with ThreadPoolExecutor(max_workers=max(1, args.processes)) as pool:
        t = time.monotonic()
        fits = {y: pool.submit(fit_year, y, files_of[y], args.cal_frames, args.pick, work, env) for y in years}
        timed = classify(plain, [f for y in years for f in files_of[y]], args.processes, env, "timed", pool)
        rest_of = {y: [f for f in files_of[y] if f.stem not in fits[y].result()] for y in years}
        t_timed = time.monotonic() - t
        t = time.monotonic()
        calibrated = {}
        for y in years:
            calibrated |= classify(work / y / "cielo.toml", rest_of[y], args.processes, env, "cal", pool)
        t_cal = time.monotonic() - t
    for y in years:
        used = next((ln for ln in (work / y / "calibrate.out").read_text().splitlines()
                     if ln.startswith("frames used")), "frames used: ?")
        print(f"{y} calibrate: {used}")
        auto = [ln for ln in (work / y / "calibrate.out").read_text().splitlines() if ln.startswith("calibrate --auto")]
        if auto:
            print(f"{y} {auto[-1]}")
        if args.pick == "stored":
            print(f"{y} backfill: {stored_vs_classify(work / y / 'cielo.db', timed)}")
    bad = [j for j in (*timed.values(), *calibrated.values()) if j.get("error")]
    if bad:
        print(f"classify: {len(bad)} files invalid, e.g. {bad[0]['file']}: {bad[0]['error']}")
    print()
    from cielo.sources.skycam.regime import REGIMES

    rows = []
    dev = [y for y in years if y != HELD_OUT]
    for group in ([[y] for y in dev] + ([dev] if len(dev) > 1 else []) + ([[HELD_OUT]] if HELD_OUT in years else [])):
        names = [f.stem for y in group for f in rest_of[y]]
        label = group[0] if len(group) == 1 else f"{group[0]}-{group[-1]}"
        rows.append((label, "all", names))
        rows += [(label, r, [n for n in names if truth[n]["regime"] == r]) for r in REGIMES]
    table(rows, truth, timed, calibrated)
    print(f"\nruntime {time.monotonic() - start:.0f} s (calibrate + uncalibrated classify {t_timed:.0f} s, "
          f"calibrated classify {t_cal:.0f} s); outputs in {work}")


if __name__ == "__main__":
    main()
