"""prospector: run the probe in the simulator (and, later, on a devboard or from a log).

    prospector run --scenario bennu-hover --seed 1 --out runs/first
    prospector scenarios

User mistakes end with one line on stderr and exit status 2; never a traceback.
"""

import argparse
import sys
from pathlib import Path

from prospector.args import fail as _fail
from prospector.args import seed as _seed
from prospector.hil_cli import register as register_hil_command
from prospector.log_cli import register as register_log_commands


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0.0:
        raise argparse.ArgumentTypeError(f"expected a duration > 0 s, got {text}")
    return value



def _parse_sets(items) -> dict:
    """--set KEY=VALUE pairs; VALUE is TOML (a number, "text", [..], {..}, true)."""
    import tomllib

    overrides = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set: expected KEY=VALUE, got {item!r}")
        try:
            overrides[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            raise ValueError(f"--set {key.strip()}: expected a TOML value (a number, "
                             f"\"text\", [array] or {{table}}), got {value!r}") from None
    return overrides


def _cmd_run(args) -> int:
    from sim.runner import RunConfigError, RunDirError, run_scenario
    from sim.scenario import ScenarioError, load_scenario

    try:
        overrides = _parse_sets(args.set)
    except ValueError as exc:
        return _fail(str(exc))
    if args.seed is not None:
        overrides["scenario.seed"] = args.seed
    if args.duration is not None:
        overrides["scenario.duration_s"] = args.duration
    try:
        scenario = load_scenario(args.scenario, overrides)
    except ScenarioError as exc:
        return _fail(str(exc))
    out = Path(args.out)
    try:
        summary = run_scenario(scenario, out, force=args.force,
                               timing_telemetry=args.timing_telemetry,
                               write_report=not args.no_report,
                               params_file=Path(args.params) if args.params else None)
    except (RunDirError, RunConfigError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.filename or out}: {exc.strerror}")
    print(f"run: {scenario.scenario.name} seed {scenario.scenario.seed}, "
          f"{summary['sim_duration_s']:.0f} s simulated in {summary['wall_duration_s']:.1f} s "
          f"({summary['realtime_factor']}x real time)")
    if "outcome" in summary:
        _print_tag(summary)
    else:
        print(f"hover error p50 {_fmt(summary['hover_error_m_p50'])} m, "
              f"p99 {_fmt(summary['hover_error_m_p99'])} m; "
              f"pointing error p99 {_fmt(summary['attitude_error_deg_p99'], digits=4)} deg; "
              f"final mode {summary['final_mode']}")
    print(f"flight log: {out / 'flight.tlog'} ({summary['messages_logged']} messages)")
    if not args.no_report:
        print(f"report: {out / 'report.html'}")
    return 0


def _fmt(value, scale=1.0, digits=3) -> str:
    return "n/a" if value is None else f"{value * scale:.{digits}f}"


def _print_tag(summary: dict) -> None:
    print(f"touch-and-go: {summary['outcome']} ({summary['outcome_reason']}); "
          f"miss {_fmt(summary['touchdown_miss_m'])} m, "
          f"contact speed {_fmt(summary['contact_speed_mps'])} m/s, "
          f"wave-offs {summary['waveoffs']['count']}")
    print(f"sample mass: true {_fmt(summary['sample_mass_true_kg'], 1000, 1)} g, "
          f"estimated {_fmt(summary['sample_mass_est_kg'], 1000, 1)} g "
          f"+- {_fmt(summary['sample_mass_3sigma_kg'], 1000, 1)} g (3 sigma); "
          f"final mode {summary['final_mode']}")


def _cmd_sweep(args) -> int:
    from sim.runner import RunConfigError, RunDirError
    from sim.scenario import ScenarioError
    from sim.sweep import SeedSpecError, parse_seeds, run_sweep

    try:
        seeds = parse_seeds(args.seeds)
        agg = run_sweep(args.scenario, seeds, Path(args.out), jobs=args.jobs, force=args.force,
                        overrides=_parse_sets(args.set))
    except (SeedSpecError, ScenarioError, RunDirError, RunConfigError, ValueError) as exc:
        return _fail(str(exc))
    print(f"sweep: {agg['scenario']}, {agg['runs']} runs on {agg['jobs']} processes in "
          f"{agg['wall_duration_s']:.0f} s; outcomes {agg['outcomes']}")
    for key in ("touchdown_miss_m", "contact_speed_mps", "sample_mass_error_in_3sigma",
                "sample_mass_3sigma_kg", "hover_error_m_p99", "realtime_factor"):
        fig = agg["figures"].get(key)
        if fig:
            print(f"  {key:<30} p50 {fig['p50']:.4g}  p99 {fig['p99']:.4g}  "
                  f"max {fig['max']:.4g}")
    print(f"aggregate: {Path(args.out) / 'aggregate.json'}; "
          f"scatter: {Path(args.out) / 'sweep.html'}")
    return 0


def _cmd_survey_sweep(args) -> int:
    from prospector.survey_sweep import run_survey_sweep
    from sim.runner import RunDirError, prepare_run_dir
    from sim.scenario import ScenarioError
    from sim.sweep import SeedSpecError, parse_seeds

    out = Path(args.out)
    try:
        seeds = parse_seeds(args.seeds)
        prepare_run_dir(out, args.force, kind="survey-sweep")
        path = out / "survey_sweep.json"
        agg = run_survey_sweep(args.scenario, seeds, path, jobs=args.jobs,
                               overrides=_parse_sets(args.set))
    except (SeedSpecError, ScenarioError, RunDirError, ValueError) as exc:
        return _fail(str(exc))
    except FileExistsError:
        return _fail(f"{out / 'survey_sweep.json'}: already holds a sweep; pass --force to "
                     f"replace it")
    fmt = lambda v: "n/a" if v is None else f"{v:.3g}"  # noqa: E731
    print(f"survey sweep: {agg['scenario']}, {agg['runs']} seeds on {agg['jobs']} processes in "
          f"{agg['wall_s']:.0f} s; errors {len(agg['errors'])}")
    print(f"  best safe site chosen {fmt(agg['best_site_fraction'])}, top 3 "
          f"{fmt(agg['top3_fraction'])}, unsafe {agg['unsafe_choices']}, worst rank "
          f"{agg['worst_rank']}, no choice {agg['no_choice']}")
    print(f"  coverage min {fmt(agg['coverage_min'])} p50 {fmt(agg['coverage_p50'])}; band "
          f"precision worst {fmt(agg['band_detection_precision_worst'])}, recall worst "
          f"{fmt(agg['band_detection_recall_worst'])}")
    print(f"sweep: {out / 'survey_sweep.json'}")
    return 0


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes, got {text!r}") \
            from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 process, got {value}")
    return value


def _cmd_scenarios(args) -> int:
    from sim.scenario import known_scenarios

    for name in known_scenarios():
        print(name)
    return 0


class _OneLineErrors(argparse.ArgumentParser):
    """A command-line mistake is one line naming the command and what was expected,
    exit status 2 (argparse would print the whole usage block first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrors(prog="prospector", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="fly a scenario in the simulator (SIL)")
    run.add_argument("--scenario", required=True, help="scenario name or path to a .toml file")
    run.add_argument("--seed", type=_seed, default=None, help="override the scenario's seed")
    run.add_argument("--duration", type=_positive_float, default=None,
                     help="override the simulated duration, s")
    run.add_argument("--out", required=True, help="run directory to create")
    run.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a scenario key, e.g. --set tag.target_latlon_deg=[8,-90]")
    run.add_argument("--force", action="store_true",
                     help="replace a previous run in --out (otherwise refused)")
    run.add_argument("--timing-telemetry", action="store_true",
                     help="log task execution times (makes the log differ between runs)")
    run.add_argument("--params", default=None,
                     help="flight-software parameter file (NAME = value lines, as params.txt "
                          "in a run directory), applied at t = 0 after the scenario's [params]")
    run.add_argument("--no-report", action="store_true", help="skip the HTML report")
    run.set_defaults(func=_cmd_run)
    for name, help_text, out_help, func in (
            ("sweep", "run many seeds of a scenario in parallel", "sweep directory to create",
             _cmd_sweep),
            ("survey-sweep", "site choice over many seeds: the survey alone, kinematic flight",
             "directory for survey_sweep.json", _cmd_survey_sweep)):
        sweep = sub.add_parser(name, help=help_text)
        sweep.add_argument("--scenario", required=True, help="scenario name or path")
        sweep.add_argument("--seeds", required=True, help="seeds, e.g. 1-50 or 1,3,7")
        sweep.add_argument("--out", required=True, help=out_help)
        sweep.add_argument("--jobs", type=_jobs, default=None,
                           help="parallel processes (default: one per core)")
        sweep.add_argument("--force", action="store_true",
                           help="replace a previous sweep in --out")
        sweep.add_argument("--set", action="append", metavar="KEY=VALUE",
                           help="override a scenario key for every seed (TOML value)")
        sweep.set_defaults(func=func)
    scen = sub.add_parser("scenarios", help="list the packaged scenarios")
    scen.set_defaults(func=_cmd_scenarios)
    register_log_commands(sub)  # log info, log export, replay (prospector/log_cli.py)
    register_hil_command(sub)  # hil (prospector/hil_cli.py)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("prospector: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
