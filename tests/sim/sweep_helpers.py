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
