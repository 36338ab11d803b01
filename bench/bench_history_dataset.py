"""What history.nc and summary.csv cost a run: size and write time (sim/history_dataset.py).

    .venv/bin/python bench/bench_history_dataset.py RUN_DIR     # a finished run directory
    .venv/bin/python bench/bench_history_dataset.py --fly        # flies bennu (40,000 s) first

Reads RUN_DIR's history.npz and summary.json, writes the two files three times into a
temporary directory and prints the best time, the sizes beside history.npz's, and the
write time as a share of the run's own wall time (summary.json).  Figures, not pass/fail.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.history_dataset import HISTORY_NC, SUMMARY_CSV, write_data_products  # noqa: E402

REPEATS = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", nargs="?", help="a run directory (history.npz, summary.json)")
    parser.add_argument("--fly", action="store_true", help="fly the bennu mission first")
    args = parser.parse_args()
    if args.fly:
        from sim.runner import run_scenario
        from sim.scenario import load_scenario

        run_dir = Path(tempfile.mkdtemp(prefix="bench-history-")) / "run"
        run_scenario(load_scenario("bennu"), run_dir, write_report=False, progress=False)
    elif args.run_dir:
        run_dir = Path(args.run_dir)
    else:
        parser.error("give a run directory or --fly")
    with np.load(run_dir / "history.npz") as z:
        hist = {k: z[k] for k in z.files}
    summary = json.loads((run_dir / "summary.json").read_text())
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(REPEATS):
            for name in (HISTORY_NC, SUMMARY_CSV):
                (Path(tmp) / name).unlink(missing_ok=True)
            start = time.perf_counter()
            write_data_products(Path(tmp), hist, summary)
            best = min(best, time.perf_counter() - start)
        nc_mb = (Path(tmp) / HISTORY_NC).stat().st_size / 1e6
        csv_kb = (Path(tmp) / SUMMARY_CSV).stat().st_size / 1e3
    npz_mb = (run_dir / "history.npz").stat().st_size / 1e6
    wall_s = summary.get("wall_duration_s") or float("nan")
    samples = len(hist.get("t_s", ()))
    print(f"{summary.get('scenario')} {summary.get('sim_duration_s', 0):.0f} s simulated, "
          f"{samples} samples: history.nc {nc_mb:.2f} MB (history.npz {npz_mb:.2f} MB), "
          f"summary.csv {csv_kb:.1f} kB, written in {best:.3f} s (best of {REPEATS}) = "
          f"{100 * best / wall_s:.2f} % of the run's {wall_s:.0f} s wall time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
