"""Output directories of runs, sweeps and replays: created, recognised, replaced safely.

Every command that writes a directory first leaves a marker file in it
(`.prospector`, JSON: which kinds of output it holds).  `--force` replaces
only what our own commands wrote: in a directory carrying the marker it
removes the files of that kind by name (a run's flight.tlog, summary.json,
report plots ...) and nothing else; any other non-empty directory is refused
with one line and left untouched, whatever the flags.
"""

import json
import re
from collections.abc import Iterable
from pathlib import Path

MARKER = ".prospector"
WRITTEN_BY = "prospector"
# What each kind of output writes, by name; the report's plots are NN_name.png in report/.
OUTPUT_FILES: dict[str, tuple[str, ...]] = {
    "run": ("flight.tlog", "events.log", "summary.json", "history.npz", "report.html",
            "params.txt", "params.parm", "params.params", "flight_config.json",
            "link_stats.json", "history.nc", "summary.csv"),
    "sweep": ("aggregate.json", "sweep.html", "sweep_touchdowns.png", "runs.parquet",
              "runs.csv", "report.html"),
    "survey-sweep": ("survey_sweep.json",),
    "replay": ("replay.tlog", "replay_report.txt", "replay_summary.json"),
}
REPORT_DIR = "report"
_REPORT_PLOT = re.compile(r"\d\d_[a-z0-9_]+\.png")
_NOUN = {"run": "a run", "sweep": "a sweep", "survey-sweep": "a survey sweep",
         "replay": "a replay"}


class RunDirError(Exception):
    """The output directory cannot be used (exists, not ours, not writable); one line."""


def kinds_in(out_dir: Path) -> set[str] | None:
    """The kinds of output our marker says `out_dir` holds; None when it has no marker."""
    try:
        data = json.loads((Path(out_dir) / MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("written_by") != WRITTEN_BY:
        return None
    kinds = data.get("kinds")
    return {k for k in kinds if isinstance(k, str)} if isinstance(kinds, list) else set()


def check_out_dir(out_dir: Path, force: bool, kind: str, option: str = "--out") -> None:
    """Raise RunDirError if `out_dir` may not receive output of `kind`; touch nothing."""
    if kind not in OUTPUT_FILES:
        raise ValueError(f"unknown kind of output {kind!r}")
    out_dir = Path(out_dir)
    if out_dir.is_symlink() and not out_dir.exists():
        raise RunDirError(f"{out_dir}: a dangling symbolic link; choose another {option}")
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise RunDirError(f"{out_dir}: exists and is not a directory")
    try:
        empty = not any(out_dir.iterdir())
    except OSError as exc:
        raise RunDirError(f"{out_dir}: cannot list it: {exc.strerror}") from None
    if empty:
        return
    kinds = kinds_in(out_dir)
    if kinds is None:
        raise RunDirError(f"{out_dir}: not empty and not written by prospector (no {MARKER} "
                          f"marker); choose another {option} (nothing was touched)")
    if not force:
        holds = _NOUN[kind] if kind in kinds else "output of prospector"
        raise RunDirError(f"{out_dir}: already holds {holds}; choose another {option} or "
                          "pass --force to replace it")


def prepare_out_dir(out_dir: Path, force: bool, kind: str, option: str = "--out") -> None:
    """Check, then create `out_dir` (marked as ours) or clear our previous `kind` output."""
    check_out_dir(out_dir, force, kind, option)
    out_dir = Path(out_dir)
    kinds = kinds_in(out_dir) if out_dir.exists() else None
    if kinds is not None:
        _remove_outputs(out_dir, kind)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_marker(out_dir, (kinds or set()) | {kind})


def claim(out_dir: Path, kind: str) -> None:
    """Mark an existing directory as holding `kind` output of ours (tools and tests)."""
    _write_marker(Path(out_dir), (kinds_in(out_dir) or set()) | {kind})


def _write_marker(out_dir: Path, kinds: Iterable[str]) -> None:
    text = json.dumps({"written_by": WRITTEN_BY, "kinds": sorted(kinds)}) + "\n"
    (out_dir / MARKER).write_text(text, encoding="utf-8")


def _remove_outputs(out_dir: Path, kind: str) -> None:
    for name in OUTPUT_FILES[kind]:
        path = out_dir / name
        if path.is_file() or path.is_symlink():
            path.unlink()
    plots = out_dir / REPORT_DIR
    if kind == "run" and plots.is_dir() and not plots.is_symlink():
        for path in plots.iterdir():
            if _REPORT_PLOT.fullmatch(path.name) and (path.is_file() or path.is_symlink()):
                path.unlink()
        if not any(plots.iterdir()):
            plots.rmdir()
