"""`prospector run-data RUN_DIR`: write a run's history.nc and summary.csv (again) from its
history.npz and summary.json, for a run flown before they existed or whose files were
lost (sim/history_dataset.py; every run writes them at its end).

Exit status: 0 both written; 1 written with something missing or damaged (one warning
line says what); 2 nothing written (one error line).  An existing history.nc or
summary.csv is replaced only with --force.
"""

from __future__ import annotations

import sys
from pathlib import Path

from prospector.args import fail
from sim.run_files import read_history, read_json_object

EXIT_PARTIAL = 1


def register(sub) -> None:
    cmd = sub.add_parser("run-data", help="write a run's history.nc (xarray) and summary.csv "
                                          "again from history.npz and summary.json")
    cmd.add_argument("run_dir", help="a run directory (--out of prospector run or hil)")
    cmd.add_argument("--force", action="store_true",
                     help="replace an existing history.nc and summary.csv")
    cmd.add_argument("--quiet", action="store_true", help="print nothing but errors and "
                                                          "the line saying what is missing")
    cmd.set_defaults(func=_cmd_run_data)

    rep = sub.add_parser("report", help="make a run's report.html again from its own files "
                                        "(history.npz, summary.json, events.log)")
    rep.add_argument("run_dir", help="a run directory (--out of prospector run or hil)")
    rep.add_argument("--force", action="store_true", help="replace an existing report.html")
    rep.add_argument("--quiet", action="store_true", help="print nothing but errors and "
                                                         "the line saying what is missing")
    rep.set_defaults(func=_cmd_report)


def _cmd_run_data(args) -> int:
    from sim.history_dataset import (
        HISTORY_NC,
        SUMMARY_CSV,
        history_dataset,
        run_attributes,
        save_dataset,
        software_version,
        write_summary_csv,
    )

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        return _not_a_run_dir(run_dir)
    hist, hist_note = read_history(run_dir / "history.npz")
    summary, summary_note = read_json_object(run_dir / "summary.json")
    targets = ([run_dir / HISTORY_NC] if hist is not None else []) + \
        ([run_dir / SUMMARY_CSV] if summary is not None else [])
    if not targets:
        return fail(f"{run_dir}: nothing to write: {hist_note}; {summary_note}")
    taken = [p for p in targets if p.exists()]
    if taken and not args.force:
        return fail(f"{taken[0]}: exists; pass --force to replace it")
    notes = [n for n in (hist_note, summary_note) if n]
    written = []
    try:
        if hist is not None:
            try:
                ds = history_dataset(hist, run_attributes(summary or {}, software_version()))
                if ds.attrs["irregular_keys"] != "none":
                    notes.append(f"history.npz keys of unexpected shape, kept as they are: "
                                 f"{ds.attrs['irregular_keys']}")
                written.append(save_dataset(ds, run_dir / HISTORY_NC))
            except (TypeError, ValueError) as exc:  # arrays netCDF cannot hold
                notes.append(f"history.npz not written as {HISTORY_NC}: "
                             f"{type(exc).__name__}: {exc}")
        if summary is not None:
            written.append(write_summary_csv(run_dir / SUMMARY_CSV, summary))
    except OSError as exc:
        return fail(f"{exc.filename or run_dir}: cannot write: {exc.strerror or exc}")
    return _done("run-data", run_dir, written, notes, args.quiet)


def _cmd_report(args) -> int:
    from sim.report import REPORT_NAME, write_run_dir_report

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        return _not_a_run_dir(run_dir)
    target = run_dir / REPORT_NAME
    if target.exists() and not args.force:
        return fail(f"{target}: exists; pass --force to replace it")
    try:
        out, problems = write_run_dir_report(run_dir)
    except OSError as exc:
        return fail(f"{exc.filename or target}: cannot write: {exc.strerror or exc}")
    return _done("report", run_dir, [out], problems, args.quiet)


def _not_a_run_dir(run_dir: Path) -> int:
    return fail(f"{run_dir}: not a run directory (expected the --out of prospector run)")


def _done(command: str, run_dir: Path, written: list, notes: list[str], quiet: bool) -> int:
    """One warning line naming what was missing or damaged (exit 1), else exit 0; the
    files written unless --quiet."""
    if notes:
        print(f"prospector: warning: {run_dir}: {'; '.join(notes)}", file=sys.stderr)
    if not quiet:
        print(f"{command}: {', '.join(str(p) for p in written)}")
    return EXIT_PARTIAL if notes else 0
