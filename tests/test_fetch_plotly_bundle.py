"""tools/fetch_plotly_bundle.py: without npm the report keeps the full bundle, said in one
line, and nothing is written under the bundle's name."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "fetch_plotly_bundle.py"


def test_without_npm_one_line_and_no_file(tmp_path):
    out = tmp_path / "assets" / "plotly-cartesian.min.js"
    done = subprocess.run([sys.executable, str(TOOL), "--spec",
                           "plotly.js-cartesian-dist-min@3.4.0", "--out", str(out)],
                          capture_output=True, text=True, env={"PATH": str(tmp_path)})
    assert done.returncode == 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "npm not found" in lines[0] and "full bundle" in lines[0]
    assert not out.exists() and not out.with_name(out.name + ".part").exists()


def test_a_spec_without_a_version_is_refused(tmp_path):
    done = subprocess.run([sys.executable, str(TOOL), "--spec", "plotly.js-cartesian-dist-min",
                           "--out", str(tmp_path / "x.js")], capture_output=True, text=True)
    assert done.returncode == 2 and "expected NAME@VERSION" in done.stderr
    assert "Traceback" not in done.stderr
