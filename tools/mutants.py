"""make mutants: mutation testing of the mission-critical modules (docs/testing.md).

    .venv/bin/python tools/mutants.py [--max-children 1] [--report-only]
    .venv/bin/python tools/mutants.py --retest     # after adding tests: survivors only
    .venv/bin/python tools/mutants.py --retest flightsw.prospect.sites   # of one module

Copies the working tree's files (tracked and untracked, not ignored) to
.cache/mutants/tree, runs mutmut there (configuration: [tool.mutmut] in
pyproject.toml), then scores each module: killed over non-equivalent mutants,
where a timeout counts as killed and a mutant no selected test executes counts
as surviving.  Survivors listed in the equivalents table of docs/testing.md are
equivalent; every other survivor is printed with its diff.  The working tree
is never written to: mutmut's copy, its mutants and its results stay in .cache/.

--retest copies the working tree's tests/ over the last run's copy and re-runs only
its surviving mutants (mutmut collects which functions the new tests execute); the
flight code of the copy is left as it was, so the scores stay those of one source
tree.  --report-only scores the last run without running anything.  Exit status 1 when
the total score is below 90 % or an equivalent listed in the table was killed
(a stale entry), 0 otherwise.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".cache" / "mutants"
TREE = WORK / "tree"
EQUIVALENTS_DOC = ROOT / "docs" / "testing.md"
REQUIRED_SCORE = 0.90
MAX_DIFFS = 40

# mutmut's exit-code vocabulary (mutmut.stats.status_by_exit_code, 3.8.1).
KILLED_CODES = {1, 3}
TIMEOUT_CODES = {36, -24, 24, 152, 255}
SURVIVED_CODES = {0}
NO_TESTS_CODES = {5, 33}
EQUIVALENT_ROW = re.compile(r"^\|\s*`([\w.ǁ]+__mutmut_\d+)`\s*\|")


def copy_tree() -> int:
    """Copy the files git would see (tracked and untracked, not ignored) into TREE."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    n = 0
    for rel in filter(None, listed):
        src = ROOT / rel
        if not src.is_file():  # deleted in the working tree, or a submodule
            continue
        dst = TREE / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        n += 1
    return n


def run_mutmut(max_children: int, names: list[str] = ()) -> int:
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)]
    shown = " ".join(["python"] + cmd[1:]) + (f" <{len(names)} mutants>" if names else "")
    print("$ cd .cache/mutants/tree && " + shown, flush=True)
    return subprocess.run(cmd + list(names), cwd=TREE).returncode


def load_equivalents() -> dict[str, str]:
    """Mutant name -> reason, from the equivalents table of docs/testing.md."""
    out = {}
    if not EQUIVALENTS_DOC.exists():
        return out
    for line in EQUIVALENTS_DOC.read_text().splitlines():
        m = EQUIVALENT_ROW.match(line)
        if m:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            out[m.group(1)] = cells[-1]
    return out


def load_results() -> dict[str, dict[str, int | None]]:
    """Module path -> {mutant name: exit code} from mutmut's .meta files."""
    out = {}
    base = TREE / "mutants"
    for meta in sorted(base.rglob("*.py.meta")):
        module = str(meta.relative_to(base))[: -len(".meta")]
        out[module] = json.loads(meta.read_text())["exit_code_by_key"]
    return out


def classify(code: int | None) -> str:
    if code in KILLED_CODES:
        return "killed"
    if code in TIMEOUT_CODES:
        return "timeout"
    if code in SURVIVED_CODES:
        return "survived"
    if code in NO_TESTS_CODES:
        return "no tests"
    if code is None:
        return "not checked"
    return "other"


def mutant_diff(name: str) -> str:
    res = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=TREE,
                         capture_output=True, text=True)
    return "\n".join(line for line in res.stdout.splitlines() if not line.startswith("# "))


def report(results, equivalents, wall_s: float | None, all_diffs: bool) -> int:
    rows, total = [], dict(killed=0, timeout=0, survived=0, equivalent=0, no_tests=0, other=0)
    unexplained, stale = [], []
    for module, codes in results.items():
        c = dict(killed=0, timeout=0, survived=0, equivalent=0, no_tests=0, other=0)
        for name, code in sorted(codes.items()):
            status = classify(code)
            if name in equivalents:
                if status in ("killed", "timeout"):
                    stale.append(name)
                else:
                    c["equivalent"] += 1
                    continue
            key = {"no tests": "no_tests", "not checked": "other"}.get(status, status)
            c[key] += 1
            if status in ("survived", "no tests", "not checked", "other"):
                unexplained.append((name, status))
        for k in total:
            total[k] += c[k]
        rows.append((module, c))
    rows.append(("**total**", total))

    def score(c):
        live = sum(c.values()) - c["equivalent"]
        return (c["killed"] + c["timeout"]) / live if live else 1.0

    print()
    print(f"Mutation score, {date.today().isoformat()} (killed + timeout over non-equivalent)")
    print()
    print("| module | mutants | killed | timeout | survived | no tests | equivalent | score |")
    print("|---|---|---|---|---|---|---|---|")
    for module, c in rows:
        n = sum(c.values())
        print(f"| {module} | {n} | {c['killed']} | {c['timeout']} | {c['survived']} | "
              f"{c['no_tests'] + c['other']} | {c['equivalent']} | {100 * score(c):.1f} % |")
    if wall_s is not None:
        print(f"\nwall time {wall_s / 60:.1f} min")
    if unexplained:
        print(f"\n{len(unexplained)} surviving mutants, neither killed nor listed as equivalent "
              "in docs/testing.md:")
        # A diff costs a mutmut start (about a second): all of them only for a short list.
        diffs = all_diffs or len(unexplained) <= MAX_DIFFS
        for name, status in unexplained:
            print(f"\n--- {name} ({status})" if diffs else f"  {name} ({status})")
            if diffs:
                print(mutant_diff(name))
        if not diffs:
            print(f"(diffs: `mutmut show NAME` in {TREE.relative_to(ROOT)}, or --diffs)")
    if stale:
        print("\nListed as equivalent in docs/testing.md but killed now (remove the rows):")
        for name in stale:
            print(f"  {name}")
    ok = score(total) >= REQUIRED_SCORE and not stale
    print(f"\ntotal score {100 * score(total):.1f} % (required {100 * REQUIRED_SCORE:.0f} %): "
          f"{'ok' if ok else 'NOT MET' if stale == [] else 'stale equivalents'}")
    return 0 if ok else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-children", type=int, default=1,
                    help="mutants tested at once (default 1: the machine is shared)")
    ap.add_argument("--retest", nargs="*", metavar="MODULE",
                    help="re-run the last run's survivors against the working tree's tests "
                         "(only those of the modules named, e.g. flightsw.prospect.sites)")
    ap.add_argument("--report-only", action="store_true", help="score the last run only")
    ap.add_argument("--diffs", action="store_true",
                    help=f"print every survivor's diff (by default only up to {MAX_DIFFS})")
    args = ap.parse_args(argv)
    wall_s = None
    if args.retest is not None:
        start = time.monotonic()
        survivors = [name for codes in load_results().values() for name, code in codes.items()
                     if classify(code) in ("survived", "no tests", "not checked", "other")
                     and (not args.retest or any(name.startswith(m + ".")
                                                 for m in args.retest))]
        shutil.rmtree(TREE / "tests")
        shutil.copytree(ROOT / "tests", TREE / "tests",
                        ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        print(f"re-testing {len(survivors)} surviving mutants", flush=True)
        rc = run_mutmut(args.max_children, survivors) if survivors else 0
        wall_s = time.monotonic() - start
        if rc != 0:
            print(f"mutmut run failed (exit status {rc})", file=sys.stderr)
            return rc
    elif not args.report_only:
        start = time.monotonic()
        if TREE.exists():
            shutil.rmtree(TREE)
        n = copy_tree()
        print(f"copied {n} files to {TREE.relative_to(ROOT)}", flush=True)
        rc = run_mutmut(args.max_children)
        wall_s = time.monotonic() - start
        if rc != 0:
            print(f"mutmut run failed (exit status {rc})", file=sys.stderr)
            return rc
    return report(load_results(), load_equivalents(), wall_s, args.diffs)


if __name__ == "__main__":
    sys.exit(main())
