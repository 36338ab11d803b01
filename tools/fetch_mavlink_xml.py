"""Fetch MAVLink's common.xml (and its includes) from pymavlink's sdist.

The pymavlink wheel ships no message definitions; its source distribution
does.  We download that sdist from the package registry with pip and keep the
three XML files our dialect includes.
"""

import argparse
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

WANTED = ("common.xml", "standard.xml", "minimal.xml")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            # Only pymavlink must come as source; ':all:' would also build pip's build
            # dependencies (Cython) from source, minutes of compiling on a clean machine.
            [sys.executable, "-m", "pip", "download", "-q", "--no-binary", "pymavlink",
             "--no-deps", f"pymavlink=={args.version}", "-d", tmp],
            check=True,
        )
        sdists = list(Path(tmp).glob("pymavlink-*.tar.gz"))
        if not sdists:
            print(f"fetch_mavlink_xml: no pymavlink sdist downloaded into {tmp}", file=sys.stderr)
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdists[0]) as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if "message_definitions/v1.0/" in member.name and name in WANTED:
                    data = tar.extractfile(member).read()
                    (args.out / name).write_bytes(data)
    missing = [name for name in WANTED if not (args.out / name).exists()]
    if missing:
        print(f"fetch_mavlink_xml: sdist lacks {missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
