"""The camera's own commands: `cielo classify` (local images) and `cielo calibrate` (the site, from its own
unlabelled frames). The CLI adds them through the registry; numpy and onnxruntime load only when they run,
and the config model (pydantic) only when one does: `cielo --help` builds this parser."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from cielo.errors import CieloError, UsageError
from cielo.timeutil import parse_cli_time

if TYPE_CHECKING:
    from cielo.config import Settings
    from cielo.sources.skycam.config import SkycamConfig

Handler = Callable[[argparse.Namespace, "Settings"], int]


def register(sub: argparse._SubParsersAction) -> dict[str, Handler]:
    c = sub.add_parser("classify", help="octas for local image files")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--json", action="store_true", help="one JSON object per line")
    c.add_argument("--at", metavar="T", help="when the images were taken (enables the night rule)")
    c.add_argument("--overlay", metavar="DIR", help="write DIR/<file stem>.png: the frame with the lens, the octa "
                   "area, the sun and its glare, obstructions and the pixels judged cloud drawn on it")

    k = sub.add_parser("calibrate", help="fit the site's camera (valid area, threshold) from unlabelled images")
    src = k.add_mutually_exclusive_group(required=True)
    src.add_argument("--images", metavar="DIR", help="a folder of the camera's images (JPEG, PNG, ...)")
    src.add_argument("--from", "--desde", dest="start", metavar="T", help="first instant of stored/camera images")
    src.add_argument("--auto", action="store_true",
                     help="what the daemon runs daily: refit from the latest stored judged frames when the "
                     "calibration is missing or older than [skycam].auto_calibrate_days, there are at least "
                     "[skycam].auto_calibrate_frames of them and the fit is sane; an event either way")
    k.add_argument("--to", "--hasta", dest="end", metavar="T", help="last instant, included (with --from)")
    k.add_argument("--max-images", type=int, default=400, metavar="N",
                   help="use at most N images, spread evenly over the range (default 400)")
    k.add_argument("--out", metavar="PATH", help="where to write it (default: [skycam].calibration)")
    return {"classify": classify, "calibrate": calibrate}


def _cfg(settings: Settings) -> SkycamConfig:
    from cielo.sources.skycam.config import SkycamConfig

    return settings.table(("skycam",), SkycamConfig)


def classify(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.sources.skycam import sectors
    from cielo.sources.skycam.calibration import load_site
    from cielo.sources.skycam.config import calibration_path
    from cielo.sources.skycam.model import ImageError, OctaModel, Verdict

    cfg = _cfg(settings)
    cal = load_site(calibration_path(settings, cfg))
    model = OctaModel(cfg.model, calibration=cal)
    cal_label = cal.label() if cal else "none (model defaults)"
    at = parse_cli_time(args.at, settings.device_tz, "--at") if args.at else None
    overlays = Path(args.overlay) if args.overlay else None
    if overlays is not None:
        try:
            overlays.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--overlay {overlays}: {exc.strerror or exc}") from None
    code = 0
    for name in args.files:
        path = Path(name)
        try:
            data = path.read_bytes()
            frame = model.decode(data)
            when = at or _exif_time(data, settings.device_tz)
            counted: dict = {}
            verdict = model.judge([frame], [when], settings.device.latitude, settings.device.longitude, counted)[0]
            error = None
            if overlays is not None:
                _write_overlay(model, data, frame, when, verdict, settings, overlays / f"{path.stem}.png",
                               counted.get(0))
        except (OSError, ImageError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            verdict, error, code = Verdict(None, None, None, "invalid"), reason, 1
        except (CieloError, MemoryError):
            raise  # no model, no memory: every file would fail alike
        except Exception as exc:  # one odd file (its EXIF, a decoder's surprise) is one line; the rest go on
            reason = f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            verdict, error, code = Verdict(None, None, None, "invalid"), reason, 1
        if args.json:
            out = {"file": name, "octas": verdict.octas,
                   "confidence": None if verdict.confidence is None else round(verdict.confidence, 4),
                   "probs": None if verdict.probs is None else [round(p, 4) for p in verdict.probs],
                   "flag": verdict.flag, "light": verdict.light, "seen_light": verdict.seen_light,
                   "sun": verdict.sun_state,
                   "calibration": cal.ident if cal else None,
                   **sectors.attrs(None if verdict.sky is None else verdict.sky.cover)}
            if error:
                out["error"] = error
            print(json.dumps(out), flush=True)
        elif error:
            print(f"{name}: invalid: {error}", flush=True)
        elif verdict.octas is None:
            extra = f" (sun {verdict.sun_elevation:.1f}°)" if verdict.flag == "night" else ""
            print(f"{name}: {verdict.flag}{extra}", flush=True)
        else:
            weak = ", uncertain" if verdict.flag == "uncertain" else ""
            sun = f", sun {verdict.sun_state}" if verdict.sun_state else ""
            print(f"{name}: {verdict.octas} octas (confidence {verdict.confidence:.2f}{weak}){sun}", flush=True)
    if not args.json:
        print(f"calibration: {cal_label}", flush=True)
    return code


def calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from cielo.sources.skycam import calibration, samples, veil
    from cielo.sources.skycam.config import calibration_path
    from cielo.sources.skycam.model import OctaModel

    cfg = _cfg(settings)
    model = OctaModel(cfg.model)
    if args.auto:
        return _auto(args, settings, cfg, model)
    times: list[datetime | None] = []
    if args.images:
        frames, source = samples.frames_from_folder(model, Path(args.images), args.max_images, times,
                                                    ZoneInfo(cfg.timezone))
    else:
        if not args.end:
            raise UsageError("calibrate: --from needs --to")
        tz = settings.device_tz
        start, end = parse_cli_time(args.start, tz, "--from"), parse_cli_time(args.end, tz, "--to")
        if end < start:
            raise UsageError("calibrate: --to is before --from")
        frames, source = samples.frames_from_camera(model, settings, start, end + timedelta(minutes=1),
                                                        args.max_images, times)
    threshold = float(model.defaults.get("sky_threshold", 0.25))
    altitudes = _altitudes(times, settings)
    cal = calibration.fit(frames, source, threshold, _daylit(altitudes), times, altitudes)
    calibration.learn_nights(cal, frames, times, settings.device.latitude, settings.device.longitude)
    veil.learn(cal, model, frames, times, settings.device.latitude, settings.device.longitude)
    used = calibration_path(settings, cfg)
    out = Path(args.out) if args.out else used
    cal.save(out)
    for line in calibration.describe(cal):
        print(line)
    _orient(model, frames, times, settings, out)
    if _same_file(out, used):
        print(f"wrote {out} ({cal.ident}); `cielo classify` and the sky camera use it from now on")
    else:  # written elsewhere: the camera keeps reading [skycam].calibration
        print(f"wrote {out} ({cal.ident}); not in use: `cielo classify` and the sky camera read {used} "
              f"([skycam].calibration); copy it there or set that key to use it")
    return 0


AUTO_SPAN = timedelta(days=30)  # the automatic refit learns from the stored frames of this span, newest first
AUTO_MIN_SKY = 0.1  # a fit leaving less of the frame as sky than this is not sane: the old one stays


def _auto(args: argparse.Namespace, settings: Settings, cfg: SkycamConfig, model: Any) -> int:
    """`calibrate --auto`: the daemon's daily refit (SkycamSource.maintenance). Writes the calibration only
    when it is due, enough judged frames are stored and the fit is sane; records an event when it acts."""
    from datetime import UTC

    from cielo.sources.skycam import calibration, samples, veil
    from cielo.sources.skycam.config import calibration_path
    from cielo.sources.skycam.source import SkycamSource
    from cielo.store import Store
    from cielo.timeutil import utcnow

    path = calibration_path(settings, cfg)
    db = settings.storage.database
    old = None
    try:
        old = calibration.load_site(path)
    except CieloError as exc:
        print(f"calibrate --auto: {exc}; fitting a new one")
    if old is not None:
        try:
            age = utcnow() - datetime.strptime(old.fitted_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            age = timedelta(days=10_000)
        if age < timedelta(days=cfg.auto_calibrate_days):
            print(f"calibrate --auto: {path} ({old.ident}) is {age.days} days old; next refit after "
                  f"{cfg.auto_calibrate_days} days")
            return 0
    if not db.is_file():
        print("calibrate --auto: no database yet; nothing to learn from")
        return 0
    series = SkycamSource.series[0].name
    with Store(db) as store:
        judged = store.judged_slots(series, datetime(1970, 1, 1, tzinfo=UTC), utcnow() + timedelta(days=1))
    if len(judged) < cfg.auto_calibrate_frames:
        print(f"calibrate --auto: {len(judged)} judged frames stored, {cfg.auto_calibrate_frames} needed; "
              f"calibration unchanged")
        return 0
    end = judged[-1] + timedelta(minutes=1)
    times: list[datetime | None] = []
    frames, source = samples.frames_from_camera(model, settings, end - AUTO_SPAN, end, args.max_images, times)
    problem = None
    cal = None
    if len(frames) < cfg.auto_calibrate_frames:
        problem = f"only {len(frames)} of the stored frames could be read again ({source})"
    else:
        try:
            altitudes = _altitudes(times, settings)
            cal = calibration.fit(frames, f"auto: {source}", float(model.defaults.get("sky_threshold", 0.25)),
                                  _daylit(altitudes), times, altitudes)
            calibration.learn_nights(cal, frames, times, settings.device.latitude, settings.device.longitude)
            veil.learn(cal, model, frames, times, settings.device.latitude, settings.device.longitude)
        except CieloError as exc:
            problem = str(exc)
        if cal is not None and cal.found.get("sky_share", 0) < AUTO_MIN_SKY:
            problem = f"the fit leaves {cal.found.get('sky_share', 0):.0%} of the frame as sky: not sane"
    with Store(db) as store:
        if problem is not None or cal is None:
            print(f"calibrate --auto: {problem}; calibration unchanged")
            store.add_event("calibration_kept", {"reason": problem, "path": str(path)}, level="warning",
                            source=SkycamSource.name)
            return 0
        cal.save(path)
        store.add_event("calibration_refreshed", {"path": str(path), "ident": cal.ident, "frames": cal.frames,
                                                  "previous": None if old is None else old.ident,
                                                  "sky_threshold": round(cal.sky_threshold, 4)},
                        source=SkycamSource.name)
    for line in calibration.describe(cal):
        print(line)
    _orient(model, frames, times, settings, path)
    print(f"calibrate --auto: wrote {path} ({cal.ident}) from {cal.frames} stored frames")
    return 0


def _daylit(altitudes: list[float | None]) -> list[bool | None]:
    """Per frame: the sun up at its time (None: time unknown); calibration learns the daytime sky from these."""
    from cielo.sources.skycam import regime

    return [None if a is None else a >= regime.DAY_SUN for a in altitudes]


def _altitudes(times: list[datetime | None], settings: Settings) -> list[float | None]:
    """Per frame: the sun's altitude at its time (None: time unknown); calibration reads the clear sky's blue at it."""
    from cielo.astro import sun

    dev = settings.device
    return [None if t is None else sun.elevation(t, dev.latitude, dev.longitude) for t in times]


def _orient(model: Any, frames: list, times: list[datetime | None], settings: Settings, out: Path) -> None:
    """The camera's orientation from the sun's track on these frames (orientation.py), saved beside the
    calibration; an old one goes when no fit is found (it may be another camera's, or the camera turned)."""
    from cielo.sources.skycam import orientation

    dev = settings.device
    found, discs = orientation.learn(model, frames, times, dev.latitude, dev.longitude)
    path = orientation.beside(out)
    if found is None:
        path.unlink(missing_ok=True)
        timed = sum(t is not None for t in times)
        print(f"orientation: not fitted: the sun's disc on {discs} of {timed} frames with a known time (needs "
              f"{orientation.MIN_POINTS} over {orientation.MIN_SPAN_DEG:.0f} deg of azimuth, a fit within "
              f"{orientation.MAX_RESIDUAL_DEG:.0f} deg); the sun state goes by what each frame shows")
        return
    found.save(path)
    for line in found.describe():
        print(line)
    print(f"wrote {path}")


def _write_overlay(model: Any, data: bytes, frame: Any, when: datetime | None, verdict: Any, settings: Settings,
                   out: Path, counted: tuple[Any, Any, Any] | None) -> None:
    """`counted`: the lens, maps and light the verdict's octas were counted on (the judge's); a frame with no octas
    (night, dark) is drawn with its time's light."""
    from PIL import Image

    from cielo.sources.skycam import overlay, regime

    width, height = Image.open(io.BytesIO(data)).size
    light = None if when is None else regime.light(when, settings.device.latitude, settings.device.longitude)
    if counted is not None:
        geom, maps, judged = counted
    else:
        geom, judged = model.geometry(frame), light
        maps = model.maps(model.as_read(frame, light), geom, light)
    # `judged` is the daylight the frame showed when its time is unknown (seen_light)
    caption = overlay.caption(verdict.octas, verdict.flag, judged, seen=light is None and judged is not None)
    image = overlay.render(frame, geom, maps, caption, width / height)
    tmp = out.with_name(f".{out.name}.part")
    image.save(tmp, "PNG")
    tmp.replace(out)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _exif_time(data: bytes, tz: ZoneInfo) -> datetime | None:
    from cielo.sources.skycam import exif  # here: `cielo --help` imports this module and no source

    taken = exif.taken(data, tz)
    return None if taken is None else taken.astimezone(UTC)
