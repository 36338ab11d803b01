"""make fuzz: structure-aware fuzzing of every reader and entry point (tests/fuzz/fuzzing.py).

    .venv/bin/python tools/fuzz.py --inputs 1000000 [--targets tlog,stream] [--results FILE]

Runs hypothesis-generated cases of each target (random, not derandomized: each
run explores afresh) until the number of inputs is reached, shared among the
targets by their weights (cheap targets take more); every failure (traceback,
broken invariant, hang) is saved under tests/fuzz/cases/<target>/, where
`make test` replays it.  Prints a table of inputs, tracebacks, hangs and time
per target; --results appends it to a file (bench/RESULTS.md).  Exit status 1
when anything failed.
"""

import argparse
import hashlib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))

import fuzzing  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

# Share of the inputs per target (by cost: a tlog case runs the CLI up to five times).
WEIGHTS = {"tlog": 0.15, "stream": 0.35, "scenario": 0.35, "config": 0.15}
BATCH = 2000


def fuzz_target(name: str, inputs: int, tally: "fuzzing.Tally", progress: bool) -> None:
    strategy = fuzzing.TARGETS[name].strategy()

    def batch(size: int) -> None:
        @settings(max_examples=size, database=None, deadline=None, derandomize=False,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(strategy)
        def run(case):
            n = int(hashlib.sha1(fuzzing.encode(name, case)).hexdigest()[:8], 16)
            fuzzing.run_case(name, case, n, tally)
        run()

    start = time.perf_counter()
    while tally.inputs < inputs:
        try:
            batch(min(BATCH, inputs - tally.inputs))
        except Exception as exc:  # the generator itself failed: say so, go on
            tally.harness_errors += 1
            print(f"  {name}: harness error while generating: {exc!r}", file=sys.stderr)
            if tally.harness_errors > 10:
                raise
        if progress:
            rate = tally.inputs / (time.perf_counter() - start)
            print(f"  {name}: {tally.inputs}/{inputs} inputs, {tally.tracebacks} tracebacks, "
                  f"{tally.hangs} hangs ({rate:.0f}/s)", file=sys.stderr, flush=True)


def table(tallies: dict, wall_s: float) -> str:
    lines = ["| target | entry points | inputs | tracebacks | hangs | CPU s in cases |",
             "|---|---|---|---|---|---|"]
    what = {"tlog": "read_columns, frame_table, log info (text, --json), export, replay",
            "stream": "FrameReader, SerialBus on loop://",
            "scenario": "load_scenario",
            "config": "replay's load_recording, short replay"}
    for name, t in tallies.items():
        lines.append(f"| {name} | {what[name]} | {t.inputs:,} | {t.tracebacks} | {t.hangs} | "
                     f"{t.seconds:,.0f} |")
    total = sum(t.inputs for t in tallies.values())
    lines.append(f"| all | | {total:,} | {sum(t.tracebacks for t in tallies.values())} | "
                 f"{sum(t.hangs for t in tallies.values())} | {wall_s:,.0f} wall |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--targets", default=",".join(fuzzing.TARGETS))
    parser.add_argument("--results", default=None, help="append the table to this file")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    names = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in names if t not in fuzzing.TARGETS]
    if unknown or args.inputs < 1:
        parser.error(f"--targets: known {', '.join(fuzzing.TARGETS)}; --inputs >= 1")
    weight = sum(WEIGHTS[n] for n in names)
    tallies = {n: fuzzing.Tally() for n in names}
    wall0 = time.perf_counter()
    for n in names:
        fuzz_target(n, max(1, round(args.inputs * WEIGHTS[n] / weight)), tallies[n],
                    not args.quiet)
    wall_s = time.perf_counter() - wall0
    text = table(tallies, wall_s)
    print(text)
    saved = [p for t in tallies.values() for p in t.saved]
    for path in saved:
        print(f"saved: {path}")
    if args.results:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        with open(args.results, "a", encoding="utf-8") as out:
            out.write(f"\n## Fuzzing (issue 21) — `make fuzz FUZZ_INPUTS={args.inputs}`, "
                      f"{stamp}\n\n{text}\n")
    return 1 if saved else 0


if __name__ == "__main__":
    sys.exit(main())
