"""Child process of the SIGKILL test: records frames until killed.

After each record it writes the frame's mission time to stdout (unbuffered),
so the parent knows what had been recorded when it killed the process.
"""

import os
import sys

from flightsw.core.recorder import FlightRecorder
from flightsw.icd import mavlink, new_codec

EPOCH_US = 1_603_152_000_000_000
STEP_US = 10_000  # 100 records per second of mission time


def main() -> None:
    codec = new_codec(1, 1)
    raws = [
        bytes(mavlink.MAVLink_heartbeat_message(1, 2, 3, 7, 4, 3).pack(codec)),
        bytes(mavlink.MAVLink_statustext_message(6, b"recording until killed").pack(codec)),
        bytes(mavlink.MAVLink_probe_nav_state_message(
            1, [1.0, 2.0, 3.0], [0.1, 0.2, 0.3], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0],
            [1.0, 1.0, 1.0], [0.1, 0.1, 0.1], [0.0, 0.0, 0.0]).pack(codec)),
    ]
    with open(sys.argv[1], "xb", buffering=1 << 16) as sink:  # as the SIL runner opens it
        rec = FlightRecorder(sink, EPOCH_US)
        k = 0
        while True:
            t_us = k * STEP_US
            rec.record(t_us, raws[k % len(raws)])
            os.write(1, b"%d\n" % t_us)
            k += 1


if __name__ == "__main__":
    main()
