"""Run functions the sweep tests hand to the executors: importable by name (spawned processes
and Dask workers import this module; sys.path carries tests/sim to them), never a test."""

import os
import signal
from pathlib import Path


def dies_for_some_seeds(fly, task: dict) -> dict:
    """Kill this worker process (SIGKILL: no clean-up, as the out-of-memory killer does)
    while running a seed of task["die_once"] the first time only (a marker file remembers),
    or a seed of task["die_always"] every time; otherwise fly the seed with `fly`."""
    seed = task["seed"]
    marker = Path(task["marker_dir"]) / f"died-{seed}"
    if seed in task.get("die_always", ()) or (seed in task.get("die_once", ())
                                              and not marker.exists()):
        marker.write_text("killed")
        os.kill(os.getpid(), signal.SIGKILL)
    return fly(task)


def sleeps(task: dict) -> dict:
    """Sleep task["sleep_s"], then say which task this was (and that it ran).  With
    "started_file", that file is made first: a test knows the run is under way."""
    import pathlib
    import time

    if task.get("started_file"):
        pathlib.Path(task["started_file"]).touch()
    time.sleep(task.get("sleep_s", 0.0))
    return {"seed": task.get("seed"), "name": task["name"], "ran": True}


def pretend_icd_fingerprint(value: int | None) -> None:
    """On a Dask worker (client.run): flightsw.icd.icd_fingerprint returns `value` from
    now on, as an ICD other than this checkout's would (None: the real one again)."""
    import flightsw.icd as icd

    real = icd.__dict__.setdefault("_real_icd_fingerprint", icd.icd_fingerprint)
    icd.icd_fingerprint = real if value is None else (lambda: value)


def pretend_version(value: str | None) -> None:
    """On a Dask worker (client.run): the installed prospector reads as version `value`
    (None: the real one again)."""
    import importlib.metadata as md

    real = md.__dict__.setdefault("_real_version", md.version)
    md.version = real if value is None else (
        lambda name: value if name == "prospector" else real(name))
