"""Building the devboard firmware (hil/firmware/Makefile) from Python.

`prospector hil --emulate` and the HIL tests call `build_firmware()`: it runs
the firmware's Makefile (a no-op when the image is up to date), after making
sure MAVLink's common.xml is in .cache/ (mavgen needs it to generate the C
headers from our dialect).
"""

import shutil
import subprocess
import sys
from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parent / "firmware"
ROOT = FIRMWARE_DIR.parents[1]
XML_DIR = ROOT / ".cache" / "mavlink-xml"
BUILD_DIR = ROOT / "build" / "firmware"
PYMAVLINK_VERSION = "2.4.50"
TOOLS = {"arm-none-eabi-gcc": "gcc-arm-none-eabi", "qemu-system-arm": "qemu-system-arm",
         "make": "make"}


class FirmwareBuildError(Exception):
    """The firmware could not be built; one line saying why."""


def missing_tools() -> list[str]:
    """Debian packages to install before the emulated board can run (empty when none)."""
    return sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})


def firmware_elf(build_dir: Path = BUILD_DIR) -> Path:
    return Path(build_dir) / "firmware.elf"


def build_firmware(build_dir: Path = BUILD_DIR, python: str = sys.executable) -> Path:
    """Build (or find up to date) the firmware image; return the ELF path."""
    missing = missing_tools()
    if missing:
        raise FirmwareBuildError("missing tools: install them with `apt-get install -y "
                                 f"--no-install-recommends {' '.join(missing)}`")
    if not (XML_DIR / "common.xml").exists():
        fetch = subprocess.run(
            [python, str(ROOT / "tools" / "fetch_mavlink_xml.py"), "--version",
             PYMAVLINK_VERSION, "--out", str(XML_DIR)],
            capture_output=True, text=True)
        if fetch.returncode != 0:
            raise FirmwareBuildError(f"cannot fetch MAVLink's common.xml into {XML_DIR}: "
                                     f"{_last_line(fetch.stderr or fetch.stdout)}")
    result = subprocess.run(
        ["make", "-s", "-C", str(FIRMWARE_DIR), f"PY={python}", f"BUILD={Path(build_dir)}",
         f"XML_DIR={XML_DIR}"],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise FirmwareBuildError(f"firmware build failed: {_last_line(result.stderr)}")
    return firmware_elf(build_dir)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
