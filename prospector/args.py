"""Argument parsing and error reporting shared by the prospector subcommands."""

import argparse
import sys

EXIT_USAGE = 2


def fail(text: str) -> int:
    """One line on stderr for a user mistake; the exit status to return."""
    print(f"prospector: error: {text}", file=sys.stderr)
    return EXIT_USAGE


def seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text}")
    return value


def parse_sets(items) -> dict:
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


def positive_speedup(text: str) -> float:
    """--speedup N: times real time, a finite number > 0."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0 (times real time), "
                                         f"got {text!r}") from None
    if not (math.isfinite(value) and value > 0.0):
        raise argparse.ArgumentTypeError(f"expected a number > 0 (times real time), got {text}")
    return value


def add_ground_options(parser) -> None:
    """--ground CONN (repeatable) and --signing-key FILE, as `run` and `hil` take them."""
    g = parser.add_argument_group(
        "ground link", "operate the probe from MAVProxy, QGroundControl or a script")
    g.add_argument("--ground", action="append", metavar="CONN", default=None,
                   help="a ground link as a pymavlink connection string: tcpin:127.0.0.1:5760 "
                        "(the probe listens; connect with tcp:127.0.0.1:5760), "
                        "udpout:127.0.0.1:14550 (sends to a ground station listening there), "
                        "udpin:, tcp:; repeat for several ground stations")
    g.add_argument("--signing-key", metavar="FILE", default=None,
                   help="MAVLink 2 signing: a file (mode 600) holding the 32-byte key as 64 "
                        "hexadecimal characters; the probe then signs its downlink and obeys "
                        "only uplink signed with it")


def ground_options(args) -> tuple[tuple[str, ...], bytes | None]:
    """The connection strings (syntax checked) and the signing key of --ground and
    --signing-key; ValueError with the one-line message on bad input."""
    from flightsw.hal.ground_endpoint import GroundLinkError, parse_endpoint
    from flightsw.hal.signing_key import SigningKeyError, load_signing_key

    connections = tuple(args.ground or ())
    for text in connections:
        try:
            parse_endpoint(text)
        except GroundLinkError as exc:
            raise ValueError(f"--ground {exc}") from None
    key = None
    if args.signing_key is not None:
        try:
            key = load_signing_key(args.signing_key)
        except SigningKeyError as exc:
            raise ValueError(f"--signing-key {exc}") from None
    return connections, key


def terminate_as_interrupt(signum, frame):
    """A SIGTERM handler: stop as Ctrl-C does (the command keeps what it has flown)."""
    raise KeyboardInterrupt


def add_output_options(parser) -> None:
    """--json and --quiet (exclusive) on a command that prints a summary."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true",
                   help="print the summary as one JSON document on stdout (nothing else "
                        "there; warnings and errors still go to stderr)")
    g.add_argument("--quiet", action="store_true",
                   help="print nothing but errors (and no progress bar)")


def speaks(args) -> bool:
    """Whether the command prints its human summary (neither --json nor --quiet)."""
    return not (getattr(args, "json", False) or getattr(args, "quiet", False))


def strict_json(value):
    """`value` with every non-finite float as None: what strict JSON readers accept
    (summary.json writes NaN, which Python reads back but jq and browsers refuse)."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def print_json(value) -> None:
    """One JSON document on stdout, keys sorted, non-finite numbers as null."""
    import json

    print(json.dumps(strict_json(value), indent=2, sort_keys=True, default=str))


def version_text() -> str:
    """'prospector VERSION (ICD fingerprint XXXXXXXX)': the two things that must match
    between a run, its replay and a sweep's workers."""
    from flightsw.icd import icd_fingerprint
    from sim.history_dataset import software_version

    return f"prospector {software_version()} (ICD fingerprint {icd_fingerprint():08x})"


class VersionAction(argparse.Action):
    """--version: computed only when asked (the ICD is not imported for other commands)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="print the version and the ICD fingerprint, then exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit(0)
