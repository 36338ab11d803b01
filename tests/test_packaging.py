"""A wheel of the project, installed outside the checkout, carries every subcommand.

The wheel is built from a copy of the checkout (`pip wheel --no-deps`, without build
isolation, so nothing is downloaded), installed into a fresh venv, and run from a
temporary directory with no PYTHONPATH: whatever it imports or reads must come from
the installed copy.  The venv sees the shared venv's dependencies through a plain path
line (a .pth naming that site-packages), which adds their directory to sys.path without
running the shared venv's own .pth files, so the editable install of the checkout stays
out of the way.  Today's bug this guards against: `prospector hil --emulate` looked for
the firmware sources and tools/fetch_mavlink_xml.py in the checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from hil.firmware_build import XML_DIR as CHECKOUT_XML_DIR
from hil.firmware_build import missing_tools

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "setup.py", "prospector_dialect.py", "README.md",
           "flightsw", "sim", "hil", "ground", "prospector")
FIRMWARE_SOURCES = ("Makefile", "main.c", "startup.c", "devices.c", "mavlink_rx.c", "uart.c",
                    "timebase.c", "libc_min.c", "stm32f405.ld", "board.h", "libc/string.h",
                    "libc/stdio.h", "host/rx_harness.c")

pytestmark = pytest.mark.slow


class InstalledCopy:
    """A venv holding the wheel, and how to run its Python and its `prospector`."""

    def __init__(self, venv_dir: Path, cwd: Path, cache_dir: Path):
        self.venv_dir, self.cwd, self.cache_dir = venv_dir, cwd, cache_dir
        self.python = venv_dir / "bin" / "python"
        self.script = venv_dir / "bin" / "prospector"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "VIRTUAL_ENV", "COVERAGE_PROCESS_CONFIG",
                            "COVERAGE_PROCESS_START")}
        env["XDG_CACHE_HOME"] = str(self.cache_dir)  # never the user's real cache
        return env

    def run(self, *args: str, timeout: float = 120,
            env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in args], cwd=self.cwd,
                              env={**self.env(), **(env_extra or {})},
                              capture_output=True, text=True, timeout=timeout)

    def prospector(self, *args: str, timeout: float = 120,
                   env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return self.run(self.script, *args, timeout=timeout, env_extra=env_extra)

    def python_code(self, code: str) -> subprocess.CompletedProcess:
        return self.run(self.python, "-c", code)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> InstalledCopy:
    work = tmp_path_factory.mktemp("packaging")
    checkout, wheel_dir, venv_dir = work / "checkout", work / "wheels", work / "venv"
    checkout.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, checkout / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, checkout / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheel_dir), str(checkout)],
        capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    wheels = list(wheel_dir.glob("prospector-*.whl"))
    assert len(wheels) == 1, wheels
    venv.EnvBuilder(with_pip=True).create(venv_dir)
    site_packages = Path(subprocess.run(
        [str(venv_dir / "bin" / "python"), "-c", "import sysconfig; "
         "print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True,
        check=True).stdout.strip())
    # The dependencies, already installed in the venv running this test.
    (site_packages / "zz_shared_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [str(venv_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps",
         "--no-index", str(wheels[0])], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    cwd = work / "elsewhere"
    cwd.mkdir()
    return InstalledCopy(venv_dir, cwd, work / "cache")


def subcommands(help_text: str) -> list[str]:
    """The subcommand names argparse lists as {a,b,c} in the usage."""
    found = re.search(r"\{([a-z,-]+)\}", help_text)
    assert found, help_text
    return found.group(1).split(",")


def test_the_packages_are_imported_from_the_installed_copy(installed):
    done = installed.python_code(
        "import flightsw, sim, hil, ground, prospector\n"
        "for m in (flightsw, sim, hil, ground, prospector): print(m.__file__)\n")
    assert done.returncode == 0, done.stderr[-2000:]
    for module_file in done.stdout.splitlines():
        assert Path(module_file).is_relative_to(installed.venv_dir), module_file


def test_every_subcommand_answers_help(installed):
    top = installed.prospector("--help")
    assert top.returncode == 0, top.stderr
    names = subcommands(top.stdout)
    assert {"run", "replay", "hil", "log", "sweep"} <= set(names)
    for name in names:
        done = installed.prospector(name, "--help")
        assert done.returncode == 0 and "usage: prospector " + name in done.stdout, (
            name, done.stderr[-1000:])
        # A subcommand with subcommands of its own (`log info`, `log export`).
        nested = re.search(rf"usage: prospector {name} \[-h\] \{{([a-z,-]+)\}}", done.stdout)
        for sub in nested.group(1).split(",") if nested else ():
            deeper = installed.prospector(name, sub, "--help")
            assert deeper.returncode == 0 and f"usage: prospector {name} {sub}" in deeper.stdout, (
                name, sub, deeper.stderr[-1000:])


def test_the_packaged_scenarios_are_listed(installed):
    done = installed.prospector("scenarios")
    assert done.returncode == 0, done.stderr
    assert "bennu-hover" in done.stdout


def test_the_firmware_sources_and_the_xml_fetcher_are_installed(installed):
    done = installed.python_code(
        "from hil import firmware_build as fb\n"
        "print(fb.FIRMWARE_DIR); print(fb.ICD_XML); print(fb.ROOT); print(fb.XML_DIR)\n"
        "print(fb.BUILD_DIR)\n")
    assert done.returncode == 0, done.stderr[-2000:]
    firmware_dir, icd_xml, root, xml_dir, build_dir = map(str, done.stdout.splitlines())
    assert Path(firmware_dir).is_relative_to(installed.venv_dir)
    for name in FIRMWARE_SOURCES:
        assert (Path(firmware_dir) / name).is_file(), name
    assert Path(icd_xml).is_relative_to(installed.venv_dir) and Path(icd_xml).is_file()
    assert root == "None"  # no checkout: outputs go to the user's cache, not site-packages
    assert Path(xml_dir).is_relative_to(installed.cache_dir)
    assert Path(build_dir).is_relative_to(installed.cache_dir)
    fetcher = installed.run(installed.python, "-m", "hil.mavlink_xml", "--help")
    assert fetcher.returncode == 0 and "--version" in fetcher.stdout, fetcher.stderr


def test_the_dialect_hook_is_installed(installed):
    done = installed.python_code(
        "from pymavlink import mavutil\nmavutil.set_dialect('prospector')\n"
        "print(mavutil.mavlink.__file__)\n")
    assert done.returncode == 0, done.stderr[-2000:]
    assert Path(done.stdout.strip()).is_relative_to(installed.venv_dir)


def test_without_the_mavlink_xml_and_no_index_hil_fails_in_one_line(installed, tmp_path):
    """The first emulated run fetches MAVLink's XML with pip; where pip can reach no index,
    the run stops with one line naming where the XML was to go, and writes no run."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"HIL: {', '.join(missing)} not installed (make test installs them as root)")
    empty_cache = tmp_path / "empty-cache"
    no_index = {"XDG_CACHE_HOME": str(empty_cache), "PIP_NO_INDEX": "1",
                "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""}
    out = installed.cwd / "never-flown"
    done = installed.prospector("hil", "--emulate", "--scenario", "bennu-hover",
                                "--duration", "3", "--out", str(out), env_extra=no_index)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert str(empty_cache / "prospector" / "mavlink-xml") in lines[0]
    assert not (out / "flight.tlog").exists()


def test_a_short_emulated_hil_run_from_the_installed_copy(installed):
    missing = missing_tools()
    if missing:
        pytest.skip(f"HIL: {', '.join(missing)} not installed (make test installs them as root)")
    if not (CHECKOUT_XML_DIR / "common.xml").is_file():
        pytest.skip(f"MAVLink XML not in {CHECKOUT_XML_DIR} (make test fetches it)")
    # Seed the installed copy's cache with the checkout's XML: the fetch itself downloads
    # pymavlink's sdist, which a test must not depend on.
    shutil.copytree(CHECKOUT_XML_DIR, installed.cache_dir / "prospector" / "mavlink-xml",
                    dirs_exist_ok=True)
    out = installed.cwd / "hil-run"
    done = installed.prospector("hil", "--emulate", "--scenario", "bennu-hover", "--seed", "2",
                                "--duration", "3", "--no-report", "--out", str(out),
                                timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "flight.tlog").stat().st_size > 0
    assert (installed.cache_dir / "prospector" / "firmware" / "firmware.elf").is_file()
