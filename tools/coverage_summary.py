"""The figures of issue 22's coverage target, from a combined coverage data file.

`make coverage` runs the suite under pytest-cov (subprocesses included), combines
the data and prints coverage's per-module report; this prints what the target is
judged on: line coverage of flightsw and of sim, and every module under 90 %.
Exit 1 when a package is under 95 % or a module under 85 % (issue 22's numbers).
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGES = ("flightsw", "sim")
PACKAGE_TARGET_PCT = 95.0
MODULE_FLOOR_PCT = 85.0
LISTED_BELOW_PCT = 90.0


def measured_lines(data_file: Path) -> dict[str, tuple[int, int]]:
    """{module path: (statements, statements executed)} from `coverage json`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        subprocess.run([sys.executable, "-m", "coverage", "json", "-q",
                        f"--data-file={data_file}", "-o", str(out)], check=True)
        files = json.loads(out.read_text())["files"]
    return {name: (f["summary"]["num_statements"], f["summary"]["covered_lines"])
            for name, f in files.items()}


def percent(covered: int, statements: int) -> float:
    return 100.0 * covered / statements if statements else 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-file", type=Path, default=Path(".cache/coverage/.coverage"))
    opts = parser.parse_args()
    modules = measured_lines(opts.data_file)
    met = True
    for package in PACKAGES:
        mine = {n: v for n, v in modules.items() if n.startswith(package + "/")}
        statements = sum(s for s, _ in mine.values())
        covered = sum(c for _, c in mine.values())
        pct = percent(covered, statements)
        met &= pct >= PACKAGE_TARGET_PCT
        print(f"{package:9s} {pct:5.1f} %  ({covered} of {statements} lines, "
              f"{len(mine)} modules; target {PACKAGE_TARGET_PCT:.0f} %)")
    low = sorted((percent(c, s), n, s - c) for n, (s, c) in modules.items()
                 if percent(c, s) < LISTED_BELOW_PCT)
    print(f"modules under {LISTED_BELOW_PCT:.0f} %: {len(low) or 'none'}")
    for pct, name, missed in low:
        print(f"  {pct:5.1f} %  {name}  ({missed} lines not run)")
    floor_broken = [n for pct, n, _ in low if pct < MODULE_FLOOR_PCT]
    met &= not floor_broken
    print("target met" if met else
          f"target NOT met (packages >= {PACKAGE_TARGET_PCT:.0f} %, "
          f"no module under {MODULE_FLOOR_PCT:.0f} %)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
