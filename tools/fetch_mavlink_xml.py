"""Fetch MAVLink's common.xml (and its includes) from pymavlink's sdist.

    python tools/fetch_mavlink_xml.py --version 2.4.50 --out .cache/mavlink-xml

The work is done by hil/mavlink_xml.py, which the installed package carries
(an installed `prospector hil --emulate` fetches the XML itself); this script
is the checkout's command line for the Makefile.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hil.mavlink_xml import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
