"""Reading a finished run directory's own files back, for the commands that make its data
products again (prospector run-data, prospector report): what could be read, and in words
what is missing or damaged, so a damaged run still gets what can be made of it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np


def read_history(path: Path) -> tuple[dict | None, str]:
    """history.npz: (the arrays that could be read, '' or what is missing or damaged)."""
    if not path.exists():
        return None, f"{path.name} missing"
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        return None, f"{path.name} damaged ({type(exc).__name__}: {exc})"
    hist, bad = {}, []
    with archive:
        for key in archive.files:
            try:
                hist[key] = archive[key]
            except (OSError, ValueError, EOFError, zipfile.BadZipFile):
                bad.append(key)
    note = f"{path.name}: arrays damaged, left out: {', '.join(bad)}" if bad else ""
    return hist, note


def read_json_object(path: Path) -> tuple[dict | None, str]:
    """A JSON object file (summary.json, flight_config.json): (the object, '' or what is
    missing or damaged, in words)."""
    if not path.exists():
        return None, f"{path.name} missing"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{path.name} damaged ({type(exc).__name__})"
    if not isinstance(summary, dict):
        return None, f"{path.name} damaged (expected a JSON object)"
    return summary, ""
