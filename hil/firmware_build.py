"""Building the devboard firmware (hil/firmware/Makefile) from Python.

`prospector hil --emulate` and the HIL tests call `build_firmware()`: it runs
the firmware's Makefile (a no-op when the image is up to date), after making
sure MAVLink's common.xml is at hand (mavgen needs it to generate the C
headers from our dialect).

Every input is found through the installed packages, never through a
checkout: the C sources are package data of `hil` (hil/firmware/), the dialect
XML is package data of `flightsw.icd`, and the XML fetcher is the module
hil/mavlink_xml.py.  Only where the outputs go depends on how the project was
installed: in a checkout (an editable install, or the tests) they stay where
the Makefile and the developers expect them, .cache/mavlink-xml and
build/firmware; a pip-installed copy writes them under the user's cache
directory, because site-packages may be read-only and is shared by every
user of the interpreter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from hil.mavlink_xml import MavlinkXmlError, fetch_mavlink_xml, last_line, missing_xml


def package_path(package: str, *parts: str) -> Path:
    """A file or folder shipped inside `package`, as a filesystem path (make, gcc and
    mavgen need real paths; pip always unpacks a wheel onto the filesystem)."""
    path = resources.files(package).joinpath(*parts)
    if not isinstance(path, Path):
        raise FirmwareBuildError(f"{package} is not installed on the filesystem ({path})")
    return path


def checkout_root() -> Path | None:
    """The source checkout this package runs from, or None for a pip-installed copy."""
    root = Path(__file__).resolve().parents[1]
    is_checkout = (root / "pyproject.toml").is_file() and (root / "hil" / "firmware").is_dir()
    return root if is_checkout else None


def user_cache_dir() -> Path:
    """Where a pip-installed copy keeps what it fetches and builds (XDG base directories)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "prospector"


class FirmwareBuildError(Exception):
    """The firmware could not be built; one line saying why."""


FIRMWARE_DIR = package_path("hil", "firmware")
ICD_XML = package_path("flightsw.icd", "prospector.xml")
ROOT = checkout_root()
_OUTPUT_ROOT = (ROOT / ".cache") if ROOT is not None else user_cache_dir()
XML_DIR = _OUTPUT_ROOT / "mavlink-xml"
BUILD_DIR = (ROOT / "build" / "firmware") if ROOT is not None else _OUTPUT_ROOT / "firmware"
PYMAVLINK_VERSION = "2.4.50"
TOOLS = {"arm-none-eabi-gcc": "gcc-arm-none-eabi", "qemu-system-arm": "qemu-system-arm",
         "make": "make"}


def missing_tools() -> list[str]:
    """Debian packages to install before the emulated board can run (empty when none)."""
    return sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})


def firmware_elf(build_dir: Path = BUILD_DIR) -> Path:
    return Path(build_dir) / "firmware.elf"


def build_firmware(build_dir: Path = BUILD_DIR, python: str = sys.executable,
                   xml_dir: Path = XML_DIR) -> Path:
    """Build (or find up to date) the firmware image; return the ELF path."""
    missing = missing_tools()
    if missing:
        raise FirmwareBuildError("missing tools: install them with `apt-get install -y "
                                 f"--no-install-recommends {' '.join(missing)}`")
    if missing_xml(xml_dir):
        try:
            fetch_mavlink_xml(PYMAVLINK_VERSION, xml_dir, python)
        except MavlinkXmlError as exc:
            raise FirmwareBuildError(
                f"cannot fetch MAVLink's common.xml into {xml_dir}: {exc}") from None
    result = subprocess.run(
        ["make", "-s", "-C", str(FIRMWARE_DIR), f"PY={python}", f"BUILD={Path(build_dir)}",
         f"XML_DIR={Path(xml_dir)}", f"ICD_XML={ICD_XML}"],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise FirmwareBuildError(f"firmware build failed: {last_line(result.stderr)}")
    return firmware_elf(build_dir)
