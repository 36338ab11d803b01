"""The HIL tests' tools: their absence may skip the HIL tests on a developer's machine,
never under CI.

Locally a missing tool skips the HIL tests with one line saying what is missing, and
pytest's -rs (pyproject.toml) lists the skips in the summary.  Under CI (CI=true, which
.ci/run sets; also GitHub's and GitLab's runners) this test fails the run with one line
naming what is missing, instead of a green run with the HIL tests skipped.
"""

import os
import shutil

import pytest

from hil.firmware_build import XML_DIR, missing_tools


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_for_hil() -> list[str]:
    """What the HIL tests need and do not have: the Debian packages of the emulated board
    (conftest.firmware_elf), a host C compiler and MAVLink's XML for the firmware's
    receiver built for the host (test_firmware_receiver.py)."""
    missing = list(missing_tools())
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        missing.append("a host C compiler (cc)")
    if not (XML_DIR / "common.xml").exists():
        missing.append(f"MAVLink XML in {XML_DIR.name} (make fetches it)")
    return missing


def test_the_hil_tools_are_there_wherever_ci_runs_the_hil_tests():
    missing = missing_for_hil()
    if not missing:
        return
    line = f"HIL: {', '.join(missing)} not installed"
    if under_ci():
        pytest.fail(f"{line}: CI must run the HIL tests (make hil-tools installs them as "
                    f"root)", pytrace=False)
    pytest.skip(f"{line} (make test installs them as root)")
