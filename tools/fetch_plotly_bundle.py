"""Fetch plotly.js's cartesian bundle for the run report (sim/report.py inlines it).

    python tools/fetch_plotly_bundle.py --spec plotly.js-cartesian-dist-min@3.4.0 \
        --out sim/report_assets/plotly-cartesian.min.js

The report draws only scatter, bar and heatmap traces, all in the cartesian bundle
(1.4 MB against the full bundle's 4.8 MB, which the plotly Python package ships): a
browser started to open a whole-mission report compiles it about 0.75 s sooner.  Fetched
with `npm pack` (npm checks the package against the registry's integrity hash).  Without
npm, or when the fetch fails, one line says so and the report keeps the full bundle: the
page is the same, only slower to open.  Exit 0 either way; 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

BUNDLE_IN_PACKAGE = "package/plotly-cartesian.min.js"


def fetch(spec: str, out: Path) -> str | None:
    """Write the bundle to ``out``; None on success, else why not (one line)."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm not found"
    version = spec.rpartition("@")[2]
    with tempfile.TemporaryDirectory(prefix="plotly-bundle-") as tmp:
        done = subprocess.run([npm, "pack", spec, "--pack-destination", tmp, "--silent"],
                              capture_output=True, text=True, timeout=300)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            last = (done.stderr.strip().splitlines() or ["no tarball"])[-1]
            return f"npm pack {spec} failed: {last}"
        with tarfile.open(tarballs[0]) as tar:
            member = tar.extractfile(BUNDLE_IN_PACKAGE)
            if member is None:
                return f"{spec}: no {BUNDLE_IN_PACKAGE} in the package"
            text = member.read().decode("utf-8")
    head = text[:300]
    if not re.search(rf"plotly\.js \(cartesian - minified\) v{re.escape(version)}\b", head):
        return f"{spec}: the bundle's header does not name cartesian v{version}"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(out)  # never a half-written bundle under the real name
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True, help="npm package@version")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    if "@" not in args.spec.lstrip("@"):
        parser.error(f"--spec {args.spec!r}: expected NAME@VERSION")
    try:
        why = fetch(args.spec, args.out)
    except (OSError, subprocess.SubprocessError, tarfile.TarError, UnicodeDecodeError) as exc:
        why = f"{type(exc).__name__}: {exc}"
    if why:
        print(f"report: plotly.js cartesian bundle not fetched ({why}); reports inline the "
              f"full bundle (slower to open)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
