"""Installing the project makes `--dialect prospector` work in pymavlink's tools.

setup.py's build_py writes the tree a wheel installs into site-packages; this
test builds that tree from a copy of the checkout (offline, no wheel needed),
makes it a site directory (so Python runs its .pth as at start-up) and asks
stock pymavlink for the dialect by name: mavutil.set_dialect,
mavlink_connection(..., dialect=...) on a golden log, and mavlogdump.py.  The
module found must be the tree's, not a copy tools/install_dialect.py may have
left in pymavlink's folders.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_LOG = ROOT / "tests" / "golden" / "hover-60s" / "flight.tlog"
SOURCES = ("pyproject.toml", "setup.py", "prospector_dialect.py", "README.md",
           "flightsw", "sim", "hil", "ground", "prospector")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    """The build tree a wheel of this checkout would install, as a site directory."""
    work = tmp_path_factory.mktemp("dialect")
    checkout, build_lib = work / "checkout", work / "site"
    checkout.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, checkout / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, checkout / name)
    done = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(build_lib)],
        cwd=checkout, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return build_lib


def run_in_site(site_dir: Path, code: str, env_extra: dict | None = None):
    """Run `code` in a fresh interpreter where `site_dir` is a site directory."""
    prelude = f"import site; site.addsitedir({str(site_dir)!r})\n"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MAVLINK20",
                                                             "MAVLINK_DIALECT")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", prelude + code], cwd=site_dir.parent,
                          capture_output=True, text=True, timeout=120, env=env)


def test_the_build_tree_has_the_pth_and_the_hook_at_its_top(site_dir):
    assert (site_dir / "prospector_dialect.pth").read_text().startswith("import prospector_dialect")
    assert (site_dir / "prospector_dialect.py").is_file()
    assert (site_dir / "flightsw" / "icd" / "generated" / "prospector.py").is_file()


@pytest.mark.parametrize("env_extra", [{}, {"MAVLINK20": "1"}], ids=["v10", "v20"])
def test_mavutil_finds_the_dialect_by_name(site_dir, env_extra):
    done = run_in_site(site_dir, (
        "from pymavlink import mavutil\n"
        f"log = mavutil.mavlink_connection({str(GOLDEN_LOG)!r}, dialect='prospector')\n"
        "msg = log.recv_match(type='PROBE_FAULT_STATUS')\n"
        "print(mavutil.mavlink.__file__)\n"
        "print(msg.get_type(), mavutil.mavlink.PROBE_MODE_HOVER)\n"), env_extra)
    assert done.returncode == 0, done.stderr[-2000:]
    module_file, decoded = done.stdout.splitlines()
    assert Path(module_file) == site_dir / "flightsw" / "icd" / "generated" / "prospector.py"
    assert decoded == "PROBE_FAULT_STATUS 2"


def test_mavlogdump_decodes_the_probes_messages(site_dir):
    # find_spec, not import: the script parses sys.argv when imported.
    mavlogdump = importlib.util.find_spec("pymavlink.tools.mavlogdump").origin
    done = run_in_site(site_dir, (
        "import runpy, sys\n"
        f"sys.argv = ['mavlogdump.py', '--dialect', 'prospector', '--types', "
        f"'PROBE_FAULT_STATUS', {str(GOLDEN_LOG)!r}]\n"
        f"runpy.run_path({mavlogdump!r}, run_name='__main__')\n"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "PROBE_FAULT_STATUS {time_usec : 0, enabled :" in done.stdout


def test_without_the_site_directory_the_hook_is_absent(site_dir):
    """The test above proves the hook, not the interpreter: plain Python has no finder."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys; print(any('ProspectorDialect' in repr(f) "
         "for f in sys.meta_path))"], cwd=site_dir.parent, capture_output=True, text=True,
        timeout=60)
    assert done.stdout.strip() == "False"
