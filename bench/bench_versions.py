"""Real-time factor of this tree against an earlier version, measured in one run.

Checks the earlier version out into a temporary git worktree and flies the same
scenario and seed with both, alternating A, B, A, B so that a machine that gets
busier or quieter part-way hurts both alike.  Prints each run's figure and the
ratio of the medians; never pass/fail.

    python bench/bench_versions.py                       # against 094ecdf (before issue 14)
    python bench/bench_versions.py --base HEAD~5 --scenario bennu-hover --duration 3600
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE_ISSUE_14 = "094ecdf"


def _fly(tree: Path, scenario: str, seed: int, duration: float | None, out: Path) -> dict:
    cmd = [sys.executable, "-m", "prospector.cli", "run", "--scenario", scenario,
           "--seed", str(seed), "--out", str(out), "--no-report"]
    if duration is not None:
        cmd += ["--duration", str(duration)]
    # The tree's own packages first: the venv's editable install points at this checkout.
    env = dict(os.environ, PYTHONPATH=str(tree))
    subprocess.run(cmd, cwd=tree, env=env, check=True, capture_output=True, text=True)
    return json.loads((out / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=BEFORE_ISSUE_14, help="the earlier revision")
    parser.add_argument("--scenario", default="bennu-tag")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base_tree = tmp / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                        str(base_tree), args.base], check=True)
        try:
            factors = {"this tree": [], args.base: []}
            for k in range(args.rounds):
                for name, tree in (("this tree", ROOT), (args.base, base_tree)):
                    s = _fly(tree, args.scenario, args.seed, args.duration,
                             tmp / f"{k}-{name.replace(' ', '_')}")
                    factors[name].append(s["realtime_factor"])
                    print(f"{name:>10}: {s['realtime_factor']:7.1f}x real time "
                          f"({s['sim_duration_s']:.0f} s simulated)", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(base_tree)], check=False)
    now, then = (statistics.median(factors[n]) for n in ("this tree", args.base))
    print(f"{args.scenario} seed {args.seed}: this tree {now:.1f}x, {args.base} {then:.1f}x "
          f"(medians of {args.rounds}): ratio {now / then:.3f}")


if __name__ == "__main__":
    main()
