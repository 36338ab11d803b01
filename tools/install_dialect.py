"""Make our dialect importable as pymavlink.dialects.v20.prospector.

So that stock pymavlink tools decode the probe's own messages:
    mavlogdump.py --dialect prospector runs/.../flight.tlog
We copy the generated module (not a symlink: it survives moving the checkout).
"""

import shutil
import sys
from pathlib import Path

GENERATED = Path(__file__).resolve().parent.parent / "flightsw" / "icd" / "generated" / "prospector.py"


def main() -> int:
    import pymavlink.dialects.v20 as v20

    target = Path(v20.__file__).parent / "prospector.py"
    shutil.copy(GENERATED, target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
