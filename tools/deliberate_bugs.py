"""Deliberate bugs, one at a time in a copy of the project: does a test catch each?

Issue 22 lists mission-level bugs that a green suite once let through.  For each bug
below this copies the project to a temporary directory (without .venv, .git, runs,
.cache, build), makes the one change as an exact text substitution (the old text must
occur exactly once in the named file), checks that the copy imports its own flightsw and
sim, runs the named tests there with this venv's Python, and reports whether they failed.
The same tests are first run on the unchanged copy: they must pass there, or a failure
under a bug would prove nothing.  Exit status 1 if any bug survives (or the baseline
fails), 0 if every one is caught.

    .venv/bin/python tools/deliberate_bugs.py              # the working tree
    .venv/bin/python tools/deliberate_bugs.py --ref HEAD   # a commit (git archive)
    .venv/bin/python tools/deliberate_bugs.py --source DIR # another tree of the project
    .venv/bin/python tools/deliberate_bugs.py --only wall-clock-in-control

The table is data: when code moves, update `file` and `old`/`new`; `tests` are pytest
node ids, and `why` is the behaviour the catching tests pin.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXCLUDE = (".venv", ".git", "runs", ".cache", "build", ".hypothesis", ".pytest_cache",
           "__pycache__", ".ruff_cache")


@dataclass(frozen=True)
class Bug:
    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    why: str


BUGS = (
    Bug("hazard-margin-sign",
        "flightsw/components/tag_sequence.py",
        "self.hazard_clearance_m < margin_m:",
        "self.hazard_clearance_m < -margin_m:",
        ("tests/flightsw/test_tag_waveoff.py",),
        "a predicted contact less than TAG_HAZ_MARGIN_M from a mapped hazard's edge "
        "(outside it, not only inside) waves the descent off"),
    Bug("campaign-chooses-rank-2",
        "flightsw/prospect/campaign.py",
        "self.choose(t_s, 1, plan=False)",
        "self.choose(t_s, 2, plan=False)",
        ("tests/flightsw/prospect/test_campaign.py",
         "tests/sim/test_mission_paths.py::test_the_survey_chooses_its_rank_one_candidate",
         "tests/test_cli.py::test_survey_sweep_scores_site_choice_and_never_overwrites"),
        "at the end of the scan the rank-1 candidate (best score, safe, deliverable) is "
        "handed to touch-and-go"),
    Bug("choose-site-no-upper-bound",
        "flightsw/prospect/campaign.py",
        "if rank < 1 or rank > len(self.candidates):",
        "if rank < 1:",
        ("tests/flightsw/prospect/test_campaign.py::"
         "test_choose_takes_any_ranked_candidate_and_nothing_beyond",
         "tests/sim/test_mission_paths.py::"
         "test_choose_site_beyond_the_candidates_is_refused_by_the_real_campaign"),
        "CHOOSE_SITE with a rank beyond the candidates is INVALID_PARAM and changes "
        "nothing"),
    Bug("choose-site-validator-no-upper-bound",
        "flightsw/icd/ground_commands.py",
        'Arg("rank", integer=True, low=1, high=MAX_SITE_RANK,',
        'Arg("rank", integer=True, low=1,',
        ("tests/flightsw/test_app.py::"
         "test_choose_site_that_is_no_rank_is_invalid_param_and_changes_nothing",),
        "CHOOSE_SITE's own check refuses a rank beyond 1..10 and says so"),
    Bug("regolith-pulls",
        "sim/contact.py",
        "f_n = max(0.0, self.k * depth - self.c * vn)",
        "f_n = self.k * depth - self.c * vn",
        ("tests/sim/test_contact.py",),
        "cohesionless regolith pushes the sampler head and never pulls it"),
    Bug("wall-clock-in-control",
        "flightsw/components/guidance_control.py",
        "    def task_control(self, t_us: int) -> None:\n        nav = self.navigation.nav\n",
        "    def task_control(self, t_us: int) -> None:\n        import time\n"
        "        self._started_s = time.monotonic()  # a wall-clock read in a flight task\n"
        "        nav = self.navigation.nav\n",
        ("tests/flightsw/test_app.py::test_no_wall_clock_in_the_tasks",),
        "flight tasks take time from the Clock only (a task that raised is reported by the "
        "scheduler and fails the test)"),
    Bug("band-threshold-0.005",
        "flightsw/prospect/bands.py",
        "DETECT_THRESHOLD = 0.02\n",
        "DETECT_THRESHOLD = 0.005\n",
        ("tests/flightsw/prospect/test_bands.py::"
         "test_detection_threshold_separates_absent_from_present_bands_at_high_snr",
         "tests/test_cli.py::test_survey_sweep_scores_site_choice_and_never_overwrites"),
        "at a co-added site's SNR a band below the absent depth (0.01) is not detected and "
        "one at the present depth (0.03) is; survey precision >= 0.9 per spectrum, 0.95 "
        "per site"),
)


def _copy_project(dest: Path, ref: str | None, source: Path = ROOT) -> None:
    if ref is None:
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns(*EXCLUDE), symlinks=True)
        return
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    for name in EXCLUDE:  # a commit may hold none of these, but be sure
        path = dest / name
        if path.is_dir():
            shutil.rmtree(path)


def _env(copy: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy)
    env.pop("CI", None)  # the HIL check is not what is measured here
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _check_imports(copy: Path, python: str) -> None:
    """The copy must import its own packages, not the editable install's originals."""
    out = subprocess.run(
        [python, "-c", "import flightsw, sim; print(flightsw.__file__); print(sim.__file__)"],
        cwd=copy, env=_env(copy), capture_output=True, text=True, check=True).stdout.split()
    for path in out:
        if not Path(path).resolve().is_relative_to(copy.resolve()):
            sys.exit(f"deliberate_bugs: the copy imports {path}, not its own code; "
                     f"set PYTHONPATH or the install mode")


def _apply(copy: Path, bug: Bug) -> None:
    path = copy / bug.file
    text = path.read_text()
    count = text.count(bug.old)
    if count != 1:
        sys.exit(f"deliberate_bugs: {bug.name}: expected the old text exactly once in "
                 f"{bug.file}, found it {count} times; update the table")
    path.write_text(text.replace(bug.old, bug.new))


def _run_tests(copy: Path, python: str, tests) -> tuple[int, list[str], float]:
    t0 = time.perf_counter()
    proc = subprocess.run([python, "-m", "pytest", *tests, "-q", "-rf", "-p", "no:cacheprovider"],
                          cwd=copy, env=_env(copy), capture_output=True, text=True)
    failed = [line.split(" ", 1)[1].split(" - ")[0] for line in proc.stdout.splitlines()
              if line.startswith("FAILED ") or line.startswith("ERROR ")]
    if proc.returncode not in (0, 1):  # 2-5: interrupted, internal error, usage, nothing run
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        sys.exit(f"deliberate_bugs: pytest could not run {tests} (exit {proc.returncode}):\n"
                 f"{tail}")
    return proc.returncode, failed, time.perf_counter() - t0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ref", help="copy this commit (git archive) instead of the "
                                      "working tree")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="copy this tree instead of the one holding this script")
    parser.add_argument("--only", action="append", choices=[b.name for b in BUGS],
                        help="this bug only (repeatable)")
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"),
                        help="the Python that runs the tests (default: this project's venv)")
    args = parser.parse_args(argv)
    bugs = [b for b in BUGS if not args.only or b.name in args.only]
    with tempfile.TemporaryDirectory(prefix="deliberate-bugs-") as tmp:
        base = Path(tmp) / "base"
        _copy_project(base, args.ref, args.source)
        _check_imports(base, args.python)
        tests = sorted({t for b in bugs for t in b.tests})
        code, failed, took = _run_tests(base, args.python, tests)
        print(f"baseline: {len(tests)} test selections, {'pass' if code == 0 else 'FAIL'} "
              f"({took:.0f} s)")
        if code != 0:
            print("  failing without any bug: " + ", ".join(failed))
            return 1
        survived = []
        for bug in bugs:
            copy = Path(tmp) / bug.name
            shutil.copytree(base, copy, symlinks=True)
            _apply(copy, bug)
            _check_imports(copy, args.python)
            code, failed, took = _run_tests(copy, args.python, bug.tests)
            caught = code == 1
            print(f"{bug.name:40s} {'caught' if caught else 'NOT CAUGHT':10s} ({took:.0f} s) "
                  f"{bug.file}")
            print(f"  pins: {bug.why}")
            for node in failed:
                print(f"  failed: {node}")
            if not caught:
                survived.append(bug.name)
            shutil.rmtree(copy)
    print(f"{len(bugs) - len(survived)} of {len(bugs)} deliberate bugs caught" +
          (f"; survived: {', '.join(survived)}" if survived else ""))
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
