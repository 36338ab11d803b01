"""prospector sweep-report DIR: write the sweep report (DIR/report.html) again from what a
sweep left in DIR (sim/sweep_report.py); every `prospector sweep` writes it at its end."""

from pathlib import Path

from prospector.args import fail


def register(sub) -> None:
    cmd = sub.add_parser("sweep-report", help="write a sweep's HTML report (DIR/report.html) "
                                              "again from its directory")
    cmd.add_argument("dir", help="the sweep directory (--out of prospector sweep)")
    cmd.set_defaults(func=_cmd_sweep_report)


def _cmd_sweep_report(args) -> int:
    from sim.sweep_report import SweepReportError, write_report_html

    try:
        path = write_report_html(Path(args.dir))
    except SweepReportError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"{exc.filename or args.dir}: {exc.strerror}")
    print(f"report: {path}")
    return 0
