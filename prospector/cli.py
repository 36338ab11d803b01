"""prospector: run the probe in the simulator (and, later, on a devboard or from a log).

    prospector run --scenario bennu-hover --seed 1 --out runs/first
    prospector scenarios

User mistakes end with one line on stderr and exit status 2; never a traceback.
"""

import argparse
import signal
import sys
from pathlib import Path

from prospector.args import (
    VersionAction,
    add_ground_options,
    add_output_options,
    ground_options,
    parse_sets,
    positive_speedup,
    print_json,
    speaks,
    terminate_as_interrupt,
)
from prospector.args import fail as _fail
from prospector.args import seed as _seed
from prospector.hil_cli import register as register_hil_command
from prospector.log_cli import register as register_log_commands
from prospector.run_data_cli import register as register_run_data
from prospector.summary_lines import hover_line
from prospector.sweep_report_cli import register as register_sweep_report


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0.0:
        raise argparse.ArgumentTypeError(f"expected a duration > 0 s, got {text}")
    return value



def _cmd_run(args) -> int:
    from sim.pacing import speedup_from_options
    from sim.runner import (
        RunConfigError,
        RunDirError,
        close_ground_links,
        open_ground_links,
        run_scenario,
    )
    from sim.scenario import ScenarioError, load_scenario

    try:
        overrides = parse_sets(args.set)
        ground, signing_key = ground_options(args)
    except ValueError as exc:
        return _fail(str(exc))
    if args.seed is not None:
        overrides["scenario.seed"] = args.seed
    if args.duration is not None:
        overrides["scenario.duration_s"] = args.duration
    try:
        scenario = load_scenario(args.scenario, overrides, dispersed=args.dispersed)
    except ScenarioError as exc:
        return _fail(str(exc))
    out = Path(args.out)
    speedup = speedup_from_options(args.realtime, args.speedup)  # parsed, exclusive: valid
    links = []
    # SIGTERM (a process manager's stop) ends the flight as Ctrl-C does: the run is kept.
    previous_sigterm = signal.signal(signal.SIGTERM, terminate_as_interrupt)
    try:
        links = open_ground_links(ground, signing_key)  # listening before the flight starts
        if links and speedup is None and not args.quiet:
            print("prospector: note: a ground link without --realtime or --speedup: the "
                  "simulation runs as fast as it can, faster than real time", file=sys.stderr)
        summary = run_scenario(scenario, out, force=args.force,
                               timing_telemetry=args.timing_telemetry,
                               write_report=not args.no_report,
                               params_file=Path(args.params) if args.params else None,
                               ground_links=links, signing_key=signing_key, speedup=speedup,
                               finish_on_interrupt=True, progress=False if args.quiet else None)
    except (RunDirError, RunConfigError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.filename or out}: {exc.strerror}")
    finally:
        close_ground_links(links)
        signal.signal(signal.SIGTERM, previous_sigterm)
    if "interrupted" in summary:
        print(f"prospector: interrupted at t = {summary['interrupted']['at_s']:.1f} s of "
              f"{summary['interrupted']['planned_s']:.0f} s; {out} holds the run up to then",
              file=sys.stderr)
        if args.json:
            print_json(summary)
        return 130
    if args.json:
        print_json(summary)
    if not speaks(args):
        return 0
    print(f"run: {scenario.scenario.name} seed {scenario.scenario.seed}, "
          f"{summary['sim_duration_s']:.0f} s simulated in {summary['wall_duration_s']:.1f} s "
          f"({summary['realtime_factor']}x real time)")
    if "outcome" in summary:
        _print_tag(summary)
    else:
        print(hover_line(summary))
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
    from sim.executors import ExecutorError
    from sim.runner import RunConfigError, RunDirError
    from sim.scenario import ScenarioError
    from sim.sweep import SeedSpecError, parse_seeds, run_sweep
    from sim.sweep_store import ResumeError

    if args.cluster is not None and args.jobs is not None:
        return _fail("--jobs: local processes; with --cluster the cluster's workers run the "
                     "seeds (not both)")
    if args.fault_campaign is not None:
        return _cmd_fault_campaign(args)
    given = [opt for opt, dest in _CAMPAIGN_OPTIONS if getattr(args, dest) not in (None, False)]
    if given:
        return _fail(f"{given[0]}: only with --fault-campaign")
    if args.scenario is None:
        return _fail("--scenario: required (or --fault-campaign, which flies its own)")
    try:
        seeds = parse_seeds(args.seeds)
        agg = run_sweep(args.scenario, seeds, Path(args.out), jobs=args.jobs, force=args.force,
                        overrides=parse_sets(args.set), cluster=args.cluster,
                        resume=args.resume, progress=False if args.quiet else None)
    except (SeedSpecError, ScenarioError, RunDirError, RunConfigError, ResumeError,
            ExecutorError, ValueError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        from sim.sweep_store import read_manifest, read_records
        if read_manifest(Path(args.out)) is None:  # stopped before the sweep began
            raise
        done = len(read_records(Path(args.out)))
        print(f"prospector: interrupted; {done} runs recorded in {args.out}; the same "
              f"command with --resume continues the sweep", file=sys.stderr)
        return 130
    if args.json:
        print_json(agg)
    if not speaks(args):
        return 0
    skipped = agg["skipped_already_done"]
    print(f"sweep: {agg['scenario']}, {agg['runs']} runs on {agg['executor']} in "
          f"{agg['wall_duration_s']:.0f} s" + (f" ({skipped} already done)" if skipped else "")
          + f"; outcomes {agg['outcomes']}")
    for key in ("touchdown_miss_m", "contact_speed_mps", "sample_mass_error_in_3sigma",
                "sample_mass_3sigma_kg", "hover_error_m_p99", "realtime_factor"):
        fig = agg["figures"].get(key)
        if fig:
            print(f"  {key:<30} p50 {fig['p50']:.4g}  p99 {fig['p99']:.4g}  "
                  f"max {fig['max']:.4g}")
    out = Path(args.out)
    print(f"table: {out / 'runs.parquet'} (and runs.csv); aggregate: "
          f"{out / 'aggregate.json'}; overview: {out / 'sweep.html'}")
    print(f"report: {out / 'report.html'}")
    return 0


_CAMPAIGN_OPTIONS = (("--kinds", "kinds"), ("--phases", "phases"),
                     ("--persistence", "persistence"), ("--transient-s", "transient_s"),
                     ("--post-s", "post_s"), ("--pick", "pick"), ("--hold-cases", "hold_cases"),
                     ("--hold-s", "hold_s"), ("--max-wall-min", "max_wall_min"),
                     ("--keep-logs", "keep_logs"),
                     ("--dry-run", "dry_run"))


def _cmd_fault_campaign(args) -> int:
    """prospector sweep --fault-campaign: every fault kind at every phase (issue 15)."""
    from sim import fault_campaign as fc
    from sim.executors import ExecutorError
    from sim.fault_campaign_run import run_campaign
    from sim.runner import RunConfigError, RunDirError
    from sim.scenario import ScenarioError
    from sim.sweep import SeedSpecError, parse_seeds

    if args.scenario is not None:
        return _fail("--scenario: the fault campaign flies its phases' own scenarios "
                     "(bennu-tag, bennu); leave it out")
    if args.resume and args.force:
        return _fail("--resume: keeps the runs already flown; --force replaces them (not both)")
    out = Path(args.out)
    try:
        seeds = parse_seeds(args.seeds)
        kinds = fc.parse_choice_list("all" if args.kinds is None else args.kinds,
                                     fc.CAMPAIGN_KINDS, "--kinds")
        phases = fc.parse_choice_list("all" if args.phases is None else args.phases,
                                      tuple(fc.PHASES), "--phases")
        hold = fc.parse_hold_cases("default" if args.hold_cases is None else args.hold_cases)
        data = run_campaign(
            out, kinds=kinds, phases=phases, seeds=seeds, what=args.fault_campaign,
            jobs=args.jobs, force=args.force, resume=args.resume,
            persistence=args.persistence or "alternate",
            transient_s=300.0 if args.transient_s is None else args.transient_s,
            post_s=1800.0 if args.post_s is None else args.post_s,
            pick=args.pick or "active", hold=hold,
            hold_s=86400.0 if args.hold_s is None else args.hold_s,
            overrides=parse_sets(args.set),
            max_wall_s=None if args.max_wall_min is None else args.max_wall_min * 60.0,
            keep_logs=args.keep_logs, dry_run=args.dry_run, progress=not args.quiet,
            cluster=args.cluster)
    except (SeedSpecError, ScenarioError, RunDirError, RunConfigError, ExecutorError,
            ValueError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        if not (out / "campaign.json").exists():  # stopped before any run was recorded
            raise
        print(f"prospector: interrupted; the runs flown are in {out / 'campaign.json'}; "
              f"the same command with --resume continues the campaign", file=sys.stderr)
        return 130
    if args.json:
        print_json(data)
    if not speaks(args):
        return 0
    if args.dry_run:
        print(f"fault campaign plan: {data['planned_runs']} runs, "
              f"{data['planned_sim_s']:.0f} s simulated; {out / 'plan.json'}")
        return 0
    c = data["counts"]
    print(f"fault campaign: {c['runs']} runs flown ({c['not_run']} not run) in "
          f"{data['wall_s'] / 60:.1f} min")
    for n in data["numbers"]:
        verdict = "n/a " if n["pass"] is None else ("PASS" if n["pass"] else "FAIL")
        print(f"  {verdict} {n['name']}: {n['measured']} (required {n['required']})")
    print(f"table: {out / 'campaign.md'}; records: {out / 'campaign.json'}")
    return 0


def _float_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def _add_campaign_options(sweep) -> None:
    g = sweep.add_argument_group(
        "fault campaign (issue 15)", "every fault kind at every mission phase, several seeds "
        "each; phases found in nominal reference runs of bennu-tag and bennu")
    g.add_argument("--fault-campaign", nargs="?", const="matrix", default=None,
                   choices=("matrix", "hold", "all"),
                   help="fly the campaign instead of one scenario: the kind x phase matrix "
                        "(default), the 24 h SAFE-hold runs, or both")
    g.add_argument("--kinds", default=None, help="fault kinds, comma list or 'all' (default)")
    g.add_argument("--phases", default=None,
                   help="phases, comma list or 'all' (default): transfer_to_station, station, "
                        "transfer_to_site, hover, descent_above, descent_below, contact, "
                        "backaway")
    g.add_argument("--persistence", default=None,
                   choices=("alternate", "transient", "permanent", "both"),
                   help="faults that can end: transient or permanent by turns over the seeds "
                        "(alternate, default), one of them, or both for every seed")
    g.add_argument("--transient-s", type=_float_arg, default=None,
                   help="how long a transient fault lasts, s (default 300; at most 600)")
    g.add_argument("--post-s", type=_float_arg, default=None,
                   help="simulated time after a fault the mission need not ride out, s "
                        "(default 1800)")
    g.add_argument("--pick", default=None, choices=("active", "rotate"),
                   help="which thruster or wheel fails: the one the nominal run uses most "
                        "(active, default) or by seed (rotate)")
    g.add_argument("--hold-cases", default=None, metavar="KIND@PHASE,...",
                   help="the SAFE-hold runs ('default': star_tracker_loss@station, "
                        "navcam_loss@hover, imu_loss@descent_below, undervoltage@descent_above)")
    g.add_argument("--hold-s", type=_float_arg, default=None,
                   help="SAFE time a hold run must show, s (default 86400)")
    g.add_argument("--max-wall-min", type=_float_arg, default=None,
                   help="start no new run after this many minutes (the rest: not run)")
    g.add_argument("--keep-logs", action="store_true",
                   help="keep every run's flight.tlog (default: only those of runs with a "
                        "problem)")
    g.add_argument("--dry-run", action="store_true",
                   help="fly the references and write plan.json, fly no fault run")


def _cmd_survey_sweep(args) -> int:
    from prospector.survey_sweep import run_survey_sweep
    from sim.executors import ExecutorError, parse_cluster
    from sim.runner import RunDirError, prepare_run_dir
    from sim.scenario import ScenarioError
    from sim.sweep import SeedSpecError, parse_seeds

    if args.cluster is not None and args.jobs is not None:
        return _fail("--jobs: local processes; with --cluster the cluster's workers run the "
                     "seeds (not both)")
    out = Path(args.out)
    try:
        seeds = parse_seeds(args.seeds)
        if args.cluster is not None:
            parse_cluster(args.cluster)  # a malformed address writes nothing
        prepare_run_dir(out, args.force, kind="survey-sweep")
        path = out / "survey_sweep.json"
        agg = run_survey_sweep(args.scenario, seeds, path, jobs=args.jobs,
                               overrides=parse_sets(args.set), cluster=args.cluster)
    except (SeedSpecError, ScenarioError, RunDirError, ExecutorError, ValueError) as exc:
        return _fail(str(exc))
    except FileExistsError:
        return _fail(f"{out / 'survey_sweep.json'}: already holds a sweep; pass --force to "
                     f"replace it")
    if args.json:
        print_json(agg)
    if not speaks(args):
        return 0
    fmt = lambda v: "n/a" if v is None else f"{v:.3g}"  # noqa: E731
    print(f"survey sweep: {agg['scenario']}, {agg['runs']} seeds on {agg['executor']} in "
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
    parser.add_argument("--version", action=VersionAction)
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
    run.add_argument("--dispersed", action="store_true",
                     help="apply the scenario's declared [dispersions] drawn from the seed, "
                          "as a sweep does (to fly one seed of a sweep again alone)")
    add_ground_options(run)
    add_output_options(run)
    pace = run.add_mutually_exclusive_group()
    pace.add_argument("--realtime", action="store_true",
                      help="pace the simulation to the wall clock (to operate from a ground "
                           "station); default: as fast as possible")
    pace.add_argument("--speedup", type=positive_speedup, default=None, metavar="N",
                      help="pace the simulation at N times real time (as SITL's --speedup)")
    run.set_defaults(func=_cmd_run)
    for name, help_text, out_help, func in (
            ("sweep", "run many seeds of a scenario in parallel", "sweep directory to create",
             _cmd_sweep),
            ("survey-sweep", "site choice over many seeds: the survey alone, kinematic flight",
             "directory for survey_sweep.json", _cmd_survey_sweep)):
        sweep = sub.add_parser(name, help=help_text)
        sweep.add_argument("--scenario", required=name != "sweep", default=None,
                           help="scenario name or path")
        sweep.add_argument("--seeds", required=True, help="seeds, e.g. 1-50 or 1,3,7")
        sweep.add_argument("--out", required=True, help=out_help)
        sweep.add_argument("--jobs", type=_jobs, default=None,
                           help="parallel processes (default: one per core)")
        sweep.add_argument("--force", action="store_true",
                           help="replace a previous sweep in --out")
        sweep.add_argument("--set", action="append", metavar="KEY=VALUE",
                           help="override a scenario key for every seed (TOML value)")
        sweep.set_defaults(func=func)
        add_output_options(sweep)
        sweep.add_argument("--cluster", default=None, metavar="local:N|tcp://HOST:PORT",
                           help="run the seeds (or the fault campaign's runs) on Dask: a "
                                "LocalCluster of N worker processes on 127.0.0.1, or the "
                                "scheduler at that address (default: local processes, --jobs)")
        if name == "sweep":
            sweep.add_argument("--resume", action="store_true",
                               help="continue the sweep (or fault campaign) in --out: same "
                                    "scenario, settings and dispersions; recorded seeds "
                                    "are skipped")
            _add_campaign_options(sweep)
    scen = sub.add_parser("scenarios", help="list the packaged scenarios")
    scen.set_defaults(func=_cmd_scenarios)
    register_log_commands(sub)  # log info, log export, replay (prospector/log_cli.py)
    register_hil_command(sub)  # hil (prospector/hil_cli.py)
    register_sweep_report(sub)  # sweep-report (prospector/sweep_report_cli.py)
    register_run_data(sub)  # run-data (prospector/run_data_cli.py)
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
