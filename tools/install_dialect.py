"""Make our dialect importable as pymavlink.dialects.v20.prospector.

So that stock pymavlink tools decode the probe's own messages:
    mavlogdump.py --dialect prospector runs/.../flight.tlog
    mavutil.mavlink_connection("flight.tlog", dialect="prospector")
We copy the generated module (not a symlink: it survives moving the checkout).
mavutil looks in dialects/v10 unless MAVLINK20 is set in the environment, so
the module goes to both folders; it is a MAVLink 2 module and parses MAVLink 1
frames as well.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "flightsw" / "icd" / "generated" / "prospector.py"


def main() -> int:
    import pymavlink.dialects.v10 as v10
    import pymavlink.dialects.v20 as v20

    for package in (v10, v20):
        shutil.copy(GENERATED, Path(package.__file__).parent / "prospector.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
