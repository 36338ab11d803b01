"""The log commands: look into a flight log, export it, replay it.

    prospector log info runs/x/flight.tlog
    prospector log export runs/x/flight.tlog --format npz --out imu.npz --types HIGHRES_IMU
    prospector log export runs/x --format parquet --out runs/x/parquet   # pd.read_parquet
    prospector replay runs/x --out runs/x-replay [--param HOV_BW_RADPS=0.05] [--until 600]

Exit status: 0 done (replay: identical), 1 replay diverged, 2 bad input (one
line on stderr, never a traceback).
"""

import argparse
import json
import stat
import sys
from dataclasses import asdict
from pathlib import Path

from prospector.args import add_output_options, print_json, speaks
from prospector.args import fail as _fail

EXIT_DIVERGED = 1
PROGRESS_MIN_BYTES = 16 << 20  # show a progress bar for logs larger than this (on a terminal)



def _warn(text: str) -> None:
    print(f"prospector: warning: {text}", file=sys.stderr)


def _log_path(text: str) -> Path:
    path = Path(text)
    return path / "flight.tlog" if path.is_dir() else path


def _read(path: Path, types=None, quiet: bool = False):
    """(ColumnLog, None) or (None, exit status) after a one-line error."""
    from ground.logs.columns import read_columns
    from ground.logs.scan import LogFileError

    try:
        info = path.stat()
    except FileNotFoundError:
        return None, _fail(f"{path}: no such file")
    except OSError as exc:
        return None, _fail(f"{path}: cannot read: {exc.strerror}")
    size = info.st_size
    if path.is_dir():
        return None, _fail(f"{path}: is a directory without a flight.tlog")
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block the reader, a device never end
        return None, _fail(f"{path}: not a regular file (a FIFO, a device or a socket); "
                           "expected a .tlog")
    if size == 0:
        return None, _fail(f"{path}: empty file, expected a .tlog")
    bar = _bytes_bar(size, f"read {path.name}")
    try:
        log = read_columns(path, types=types,
                           progress=None if bar is None else _advance_to(bar))
    except LogFileError as exc:
        return None, _fail(str(exc))
    finally:
        if bar is not None:
            bar.close()
    report = log.report
    if report.frames == 0:
        if report.unknown_frames:
            return None, _fail(f"{path}: {report.unknown_frame_count} frames, all of message "
                               "ids this ICD does not know: a log of another MAVLink dialect?")
        return None, _fail(f"{path}: no MAVLink frames in {size} bytes; expected a .tlog "
                           "(an 8-byte timestamp before each MAVLink frame)")
    if not report.clean and not quiet:
        _warn(f"{path}: {report.describe()}")
    return log, None


def _bytes_bar(size: int, desc: str):
    if size < PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(total=size, unit="B", unit_scale=True, desc=desc, file=sys.stderr)


def _advance_to(bar):
    def progress(done: int) -> None:
        bar.update(done - bar.n)
    return progress


def _cmd_info(args) -> int:
    from ground.logs.info import format_info, log_info

    path = _log_path(args.log)
    log, status = _read(path)
    if log is None:
        return status
    info = log_info(log)
    if args.json:
        data = asdict(info)
        data["duration_s"] = info.duration_s
        data["log"] = str(path)
        data["bytes"] = path.stat().st_size
        print(json.dumps(data, indent=2))
    else:
        print(format_info(str(path), path.stat().st_size, info))
    return 0


def _types(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [t.strip().upper() for t in text.split(",") if t.strip()]


def _cmd_export(args) -> int:
    from ground.logs.export import ExportError, export_csv, export_npz
    from ground.logs.layout import icd_catalogue
    from prospector.log_parquet import export_parquet

    path = _log_path(args.log)
    types = _types(args.types)
    if types is not None:
        known = icd_catalogue().by_name
        unknown = [t for t in types if t not in known]
        if unknown:
            return _fail(f"--types: not messages of the ICD: {', '.join(unknown)}")
        if not types:
            return _fail("--types: expected message names separated by commas")
    log, status = _read(path, types, quiet=args.quiet)
    if log is None:
        return status
    for name in types or []:
        if name not in log and not args.quiet:
            _warn(f"{path}: no {name} messages in the log")
    if not log.messages:
        return _fail(f"{path}: none of the requested message types is in the log")
    out = Path(args.out)
    say = print if not args.quiet else (lambda text: None)
    try:
        if args.format == "npz":
            n = export_npz(log, out, force=args.force)
            say(f"export: {n} arrays of {len(log.messages)} message types to {out}")
        elif args.format == "parquet":
            files = export_parquet(log, out, force=args.force)
            rows = sum(len(m) for m in log.messages.values())
            say(f"export: {len(files)} Parquet files ({rows} rows) in {out}")
        else:
            rows = sum(len(m) for m in log.messages.values())
            bar = None
            if rows > 200_000 and sys.stderr.isatty() and not args.quiet:
                from tqdm import tqdm
                bar = tqdm(total=rows, unit="row", unit_scale=True, desc="csv", file=sys.stderr)
            try:
                files = export_csv(log, out, force=args.force,
                                   progress=None if bar is None else bar.update)
            finally:
                if bar is not None:
                    bar.close()
            say(f"export: {len(files)} CSV files ({rows} rows) in {out}")
    except ExportError as exc:
        return _fail(str(exc))
    return 0


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0.0:
        raise argparse.ArgumentTypeError(f"expected a mission time >= 0 s, got {text}")
    return value


def _cmd_replay(args) -> int:
    from flightsw.hal.signing_key import SigningKeyError, load_signing_key
    from ground.replay import ReplayError, load_recording, param_overrides, replay

    try:
        overrides = param_overrides(args.param or [])
        key = None if args.signing_key is None else load_signing_key(args.signing_key)
        rec = load_recording(args.log, args.config)
        result = replay(rec, Path(args.out), overrides, args.until, force=args.force,
                        signing_key=key)
    except (ReplayError, SigningKeyError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.filename or args.out}: {exc.strerror}")
    if args.json:
        print_json(json.loads((Path(args.out) / "replay_summary.json").read_text()))
    elif speaks(args):
        print(result.report(str(rec.log_path)))
        print(f"replay: {Path(args.out) / 'replay.tlog'}, report in "
              f"{Path(args.out) / 'replay_report.txt'}")
    return 0 if result.identical else EXIT_DIVERGED


def register(sub) -> None:
    """Add `log info`, `log export` and `replay` to the CLI's subcommands."""
    log = sub.add_parser("log", help="look into a flight log (.tlog): info, export")
    log_sub = log.add_subparsers(dest="log_command", required=True)
    info = log_sub.add_parser("info", help="duration, messages per type, rates, gaps, damage")
    info.add_argument("log", help="a .tlog, or a run directory holding flight.tlog")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.set_defaults(func=_cmd_info)
    export = log_sub.add_parser("export", help="message columns to CSV or Parquet files (one "
                                               "per message type) or one .npz")
    export.add_argument("log", help="a .tlog, or a run directory holding flight.tlog")
    export.add_argument("--format", choices=("csv", "parquet", "npz"), required=True)
    export.add_argument("--types", default=None,
                        help="message names separated by commas (default: all in the log)")
    export.add_argument("--out", required=True,
                        help="the .npz file, or the directory for the CSV or Parquet files")
    export.add_argument("--force", action="store_true", help="replace existing output files")
    export.add_argument("--quiet", action="store_true", help="print nothing but errors")
    export.set_defaults(func=_cmd_export)

    rep = sub.add_parser("replay", help="re-run the flight software over a recorded log and "
                                        "compare its output bit for bit")
    rep.add_argument("log", help="a run directory, or its flight.tlog")
    rep.add_argument("--out", required=True, help="directory for replay.tlog and the report")
    rep.add_argument("--param", action="append", metavar="NAME=VALUE",
                     help="override a flight-software parameter for the whole replay "
                          "(repeatable)")
    rep.add_argument("--until", type=_positive_seconds, default=None, metavar="T",
                     help="stop at mission time T seconds")
    rep.add_argument("--config", default=None,
                     help="flight_config.json (default: the one next to the log)")
    rep.add_argument("--force", action="store_true",
                     help="replace a previous replay in --out")
    rep.add_argument("--signing-key", default=None, metavar="FILE",
                     help="the signing key the run was flown with (64 hex digits), for a "
                          "run whose uplink was signed: the uplink guard re-judges it")
    add_output_options(rep)
    rep.set_defaults(func=_cmd_replay)
