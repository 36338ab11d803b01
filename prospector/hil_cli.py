"""`prospector hil`: fly a scenario with the flight software on a devboard's serial link.

    prospector hil --emulate --scenario bennu-hover --seed 1 --duration 120 --out runs/h1
    prospector hil --emulate --mode realtime --rate-hz 100 --duration 60 --out runs/rt100
    prospector hil --port /dev/ttyACM0 --stim-port /dev/ttyUSB0 --scenario bennu-hover --out runs/b
    prospector hil --emulate --mode realtime --fault kill-board@20 --duration 60 --out runs/loss

User mistakes (a port that does not exist or is busy, a bad option) end with one
line on stderr and exit status 2; never a traceback.
"""

import argparse
import signal
from pathlib import Path

from prospector.args import (
    add_ground_options,
    add_output_options,
    ground_options,
    parse_sets,
    print_json,
    speaks,
    terminate_as_interrupt,
)
from prospector.args import fail as _fail
from prospector.args import seed as _seed
from prospector.summary_lines import hover_line


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a value > 0, got {text}")
        return value
    return parse



def _fault(text: str):
    from hil.rig import Fault

    try:
        return Fault.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cmd_hil(args) -> int:
    from hil.rig import HilOptions, HilRunError, run_hil
    from sim.runner import RunConfigError, RunDirError
    from sim.scenario import ScenarioError, load_scenario

    if args.emulate == bool(args.port):
        return _fail("give either --emulate or --port (with --stim-port)")
    if args.port and not args.stim_port:
        return _fail("--port needs --stim-port (the board's stimulus UART)")
    try:
        overrides = parse_sets(args.set)
        ground, signing_key = ground_options(args)
    except ValueError as exc:
        return _fail(str(exc))
    if args.seed is not None:
        overrides["scenario.seed"] = args.seed
    if args.duration is not None:
        overrides["scenario.duration_s"] = args.duration
    if args.rate_hz is not None:
        overrides["scenario.sim_rate_hz"] = float(args.rate_hz)
        overrides["sensors.imu.rate_hz"] = float(args.rate_hz)
    try:
        scenario = load_scenario(args.scenario, overrides)
        options = HilOptions(
            mode=args.mode, emulate=args.emulate, flight_port=args.port,
            stim_port=args.stim_port, transport=args.transport, baudrate=args.baud,
            restart_board=not args.no_restart, faults=tuple(args.fault or ()),
            timing_telemetry=True if args.timing_telemetry else None,
            write_report=not args.no_report, ground=ground)
    except ScenarioError as exc:
        return _fail(str(exc))
    except ValueError as exc:
        return _fail(str(exc))
    out = Path(args.out)
    # SIGTERM ends the run like Ctrl-C: the run directory is written out, the emulator stopped.
    previous = signal.signal(signal.SIGTERM, terminate_as_interrupt)
    try:
        summary = run_hil(scenario, out, options, force=args.force,
                          params_file=Path(args.params) if args.params else None,
                          signing_key=signing_key, progress=False if args.quiet else None)
    except (HilRunError, RunDirError, RunConfigError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.filename or out}: {exc.strerror}")
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.json:
        print_json(summary)
    if not speaks(args):
        return 0
    hil = summary["hil"]
    print(f"hil {hil['mode']}: {scenario.scenario.name} seed {scenario.scenario.seed}, "
          f"{summary['sim_duration_s']:.0f} s at {hil['rate_hz']} Hz in "
          f"{summary['wall_duration_s']:.1f} s ({summary['realtime_factor']}x real time), "
          f"{'emulated board' if hil['emulated_board'] else hil['flight_port']}")
    print(hover_line(summary))
    link = hil["link_monitor"]
    line = (f"link: {hil['flight_link']['rx_frames_ok']} frames in, "
            f"{hil['flight_link']['frames_lost']} lost, {link['losses']} loss(es), "
            f"{link['board_resets']} board reset(s), cycle slips {hil['cycle_slips']}")
    if "wakeup_lateness_us" in hil and hil["wakeup_lateness_us"].get("n"):
        late = hil["wakeup_lateness_us"]
        line += f", wake-up lateness p50 {late['p50']:.0f} us p99 {late['p99']:.0f} us"
    if hil["round_trip_ms"].get("n"):
        line += f", round trip p99 {hil['round_trip_ms']['p99']:.2f} ms"
    print(line)
    print(f"flight log: {out / 'flight.tlog'} ({summary['messages_logged']} messages)")
    if not args.no_report:
        print(f"report: {out / 'report.html'}")
    return 0


def register(sub) -> None:
    """Add the `hil` subcommand to prospector's subparsers."""
    p = sub.add_parser("hil", help="fly a scenario with the flight software on a devboard "
                                   "(emulated, or real on two serial ports)")
    where = p.add_argument_group("board")
    where.add_argument("--emulate", action="store_true",
                       help="run the firmware on QEMU's emulated STM32F405 (builds it if needed)")
    where.add_argument("--port", default=None,
                       help="flight link of a real board: device path or pyserial URL")
    where.add_argument("--stim-port", default=None,
                       help="stimulus link of a real board: device path or pyserial URL")
    where.add_argument("--transport", choices=("pty", "tcp"), default="pty",
                       help="emulated board's serial ports: pseudo-terminals or TCP on 127.0.0.1")
    where.add_argument("--baud", type=_positive(int), default=115200, help="real board baud rate")
    where.add_argument("--no-restart", action="store_true",
                       help="do not restart the emulated board if it dies")
    p.add_argument("--scenario", required=True, help="scenario name or path to a .toml file")
    p.add_argument("--seed", type=_seed, default=None, help="override the scenario's seed")
    p.add_argument("--duration", type=_positive(float), default=None,
                   help="override the simulated duration, s")
    p.add_argument("--rate-hz", type=_positive(int), default=None,
                   help="control loop rate: the scenario's step rate and IMU rate, Hz")
    p.add_argument("--mode", choices=("lockstep", "realtime"), default="lockstep",
                   help="lockstep (deterministic, as fast as the link allows) or real time")
    p.add_argument("--fault", type=_fault, action="append", metavar="KIND@T[:ARG]",
                   help="inject a fault at mission time T s: kill-board, reset-board, "
                        "noise (ARG bytes of garbage every 10 ms on the flight link; 0 stops)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a scenario key (TOML value), e.g. --set 'faults=[{t_s=20.0, "
                        "kind=\"line_noise\", bytes_per_10ms=64, duration_s=5.0}]'; the "
                        "scenario's [[faults]] include the board's: kill_board, reset_board, "
                        "line_noise")
    p.add_argument("--out", required=True, help="run directory to create")
    p.add_argument("--force", action="store_true",
                   help="replace a previous run in --out (otherwise refused)")
    p.add_argument("--params", default=None, help="flight-software parameter file")
    p.add_argument("--timing-telemetry", action="store_true",
                   help="log task execution times (default: on in real time, off in lockstep)")
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    add_ground_options(p)
    add_output_options(p)
    p.set_defaults(func=_cmd_hil)
