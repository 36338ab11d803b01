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
