"""Generate the Python ICD module from flightsw/icd/prospector.xml with mavgen.

Run through `make icd`.  The generated file is committed; a test regenerates it
and fails when it is stale against the XML.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ICD_XML = Path(__file__).resolve().parent.parent / "flightsw" / "icd" / "prospector.xml"


def generate(xml_dir: Path, out_py: Path) -> None:
    """Write mavgen's Python 3, MAVLink 2 output for our dialect to out_py."""
    from pymavlink.generator import mavgen

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for name in ("common.xml", "standard.xml", "minimal.xml"):
            shutil.copy(xml_dir / name, tmp_path / name)
        shutil.copy(ICD_XML, tmp_path / "prospector.xml")
        opts = mavgen.Opts(
            output=str(tmp_path / "prospector.py"),
            wire_protocol="2.0",
            language="Python3",
            validate=True,
            strict_units=False,
        )
        if not mavgen.mavgen(opts, [str(tmp_path / "prospector.xml")]):
            raise RuntimeError("mavgen failed on " + str(ICD_XML))
        out_py.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "prospector.py", out_py)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--xml-dir", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    generate(args.xml_dir, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
