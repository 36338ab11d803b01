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
