"""Write a generated document, or check that the committed one is current."""

import argparse
from collections.abc import Callable
from pathlib import Path


def write_or_check(description: str, out: Path, root: Path, render: Callable[[], str],
                   tool: str) -> int:
    """`tool [--check]`: rewrite `out` from render(), or exit 1 when it differs."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 if out of date")
    opts = parser.parse_args()
    text = render()
    name = out.relative_to(root)
    if opts.check:
        if not out.exists() or out.read_text() != text:
            print(f"{name}: out of date; run python tools/{tool}")
            return 1
        return 0
    out.write_text(text)
    print(f"wrote {name}")
    return 0
