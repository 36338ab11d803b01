"""A sweep's directory as the store of its results: what was asked, and each run as it ends.

DIR/sweep.json               the manifest: scenario (name and the SHA-256 of its file),
                             --set overrides, declared dispersions, the seeds asked so far
DIR/results/seed-NNNN.json   one record per finished run (its outcome, error, dispersed
                             inputs, summary), written whole (temporary file, then renamed)
                             as soon as the run ends, so a sweep that dies keeps every run
                             it finished
DIR/seed-NNNN/               the run directory itself (flight log, summary, events)

`--resume` compares the manifest with what is asked now and refuses any difference of
scenario, file contents, settings or dispersions (one line naming the first); the seeds
with a record are skipped.  A run killed half-way leaves a seed directory without a
record: it is flown again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

MANIFEST = "sweep.json"
RESULTS_DIR = "results"
FORMAT = 1
_RECORD = re.compile(r"seed-(\d+)\.json")


class ResumeError(Exception):
    """--resume asked of a directory whose sweep differs from the one asked; one line."""


def seed_dir(out_dir: Path, seed: int) -> Path:
    return Path(out_dir) / f"seed-{seed:04d}"


def scenario_digest(source: str) -> str:
    """SHA-256 of the scenario file's bytes: an edited file is another scenario."""
    return hashlib.sha256(Path(source).read_bytes()).hexdigest()


def manifest(scenario: str, source: str, overrides: dict, dispersions: dict,
             seeds: list[int]) -> dict:
    return {"format": FORMAT, "scenario": scenario, "scenario_sha256": scenario_digest(source),
            "overrides": overrides, "dispersions": dispersions, "seeds": seeds}


def read_manifest(out_dir: Path) -> dict | None:
    try:
        data = json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def check_resumable(out_dir: Path, wanted: dict) -> dict:
    """The manifest of the sweep in out_dir if `wanted` may continue it, else ResumeError."""
    old = read_manifest(out_dir)
    if old is None:
        raise ResumeError(f"{out_dir}: --resume: no sweep to resume here (no readable "
                          f"{MANIFEST})")
    # JSON round trip: the manifest on disk holds lists where the wanted one may hold tuples.
    now = json.loads(json.dumps(wanted))
    for key, what in (("format", "the sweep format"), ("scenario", "the scenario"),
                      ("scenario_sha256", "the scenario file's contents"),
                      ("overrides", "the --set settings"), ("dispersions", "the dispersions")):
        if old.get(key) != now[key]:
            raise ResumeError(f"{out_dir}: --resume: {what} differ from the sweep there "
                              f"({_short(old.get(key))} there, {_short(now[key])} now); "
                              f"choose another --out or pass --force to replace it")
    return old


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def write_manifest(out_dir: Path, data: dict) -> None:
    _write_whole(Path(out_dir) / MANIFEST, data)


def write_record(out_dir: Path, record: dict) -> Path:
    """Store one run's record (atomically: a reader sees the old file or the new one)."""
    folder = Path(out_dir) / RESULTS_DIR
    folder.mkdir(exist_ok=True)
    path = folder / f"seed-{int(record['seed']):04d}.json"
    _write_whole(path, record)
    return path


def read_records(out_dir: Path) -> dict[int, dict]:
    """Every stored record by seed (a file that does not parse is no record: run again)."""
    folder = Path(out_dir) / RESULTS_DIR
    records: dict[int, dict] = {}
    if not folder.is_dir():
        return records
    for path in folder.iterdir():
        m = _RECORD.fullmatch(path.name)
        if not m:
            continue
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if isinstance(rec, dict) and rec.get("seed") == int(m.group(1)):
            records[int(m.group(1))] = rec
    return records


def clear_records(out_dir: Path) -> None:
    """--force: remove our records (by their name pattern only), nothing else."""
    folder = Path(out_dir) / RESULTS_DIR
    if not folder.is_dir() or folder.is_symlink():
        return
    for path in folder.iterdir():
        if (_RECORD.fullmatch(path.name) or path.name.endswith(".json.tmp")) and \
                path.is_file():
            path.unlink()
    if not any(folder.iterdir()):
        folder.rmdir()


def _write_whole(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True, default=_plain) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)


def _plain(value):
    """numpy scalars and arrays that reach a record: as plain JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
