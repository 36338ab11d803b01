"""The uplink guard and the ground-station services, in figures (issue 16).  Prints;
never passes or fails.

1. The guard's judging rate per kind of hostile frame (unsigned, wrong key,
   replayed, mis-addressed, from another system, correctly signed), signing on:
   frames judged per second of one core and us per frame, so a flood's cost per
   10 Hz cycle can be read off (frames of a 1 MB/s flood per cycle x us per frame).
2. The parameter list: us per control cycle for the PARAM_VALUEs one cycle sends
   (flightsw.app.PARAMS_PER_CYCLE, packing and recording included), and cycles to
   send the whole table.

    .venv/bin/python bench/bench_uplink.py [--frames 100000]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flightsw.app import PARAMS_PER_CYCLE, FlightSoftware  # noqa: E402
from flightsw.components.uplink import UplinkGuard  # noqa: E402
from flightsw.config import BodyModel, FlightConfig, VehicleConfig  # noqa: E402
from flightsw.core.clock import SimClock  # noqa: E402
from flightsw.core.events import EventLog  # noqa: E402
from flightsw.core.params import ParamTable  # noqa: E402
from flightsw.hal.mavlink_signing import sign_frame  # noqa: E402
from flightsw.icd import mavlink, new_codec  # noqa: E402
from flightsw.params_table import FLIGHT_PARAMS  # noqa: E402

KEY = bytes(range(32))
T0 = 400_000_000_000


def _frames():
    cmd = mavlink.MAVLink_command_long_message(1, 1, 176, 0, 1, 2, 0, 0, 0, 0, 0)
    ground, other = new_codec(255, 190), new_codec(77, 1)
    rx = new_codec(1, 1)

    def dec(raw):
        return rx.decode(bytearray(raw))

    return {
        "unsigned": dec(cmd.pack(ground)),
        "wrong key": dec(sign_frame(cmd.pack(ground), bytes(32), 0, T0)),
        "replayed": dec(sign_frame(cmd.pack(ground), KEY, 0, T0)),
        "other system": dec(sign_frame(cmd.pack(other), KEY, 0, T0)),
        "mis-addressed": dec(sign_frame(mavlink.MAVLink_command_long_message(
            9, 1, 176, 0, 1, 2, 0, 0, 0, 0, 0).pack(ground), KEY, 1, T0)),
    }


def guard_rate(n: int) -> None:
    print(f"1. uplink guard, signing on, {n} frames per kind (one core)")
    for kind, msg in _frames().items():
        clock = SimClock()
        guard = UplinkGuard(clock, ParamTable(FLIGHT_PARAMS), EventLog(clock), print,
                            signing_key=KEY)
        if kind == "replayed":
            guard.admit(msg)  # the first one is genuine; the rest replay it
        start = time.perf_counter()
        for _ in range(n):
            guard.admit(msg)
        elapsed = time.perf_counter() - start
        print(f"   {kind:14s} {n / elapsed:10.0f} frames/s  {elapsed / n * 1e6:6.2f} us/frame  "
              f"admitted {guard.admitted}, events {len(guard.events.recent)}")


class _NullBus:
    def send(self, msg):
        pass

    def poll(self):
        return []


def param_list() -> None:
    config = FlightConfig(
        vehicle=VehicleConfig(1500.0, (2400.0, 2100.0, 1700.0), 4, 0.12, 0.2, 1.0, 0.005),
        body=BodyModel(4.892, 85.65, -60.17, 4.296057 * 3600.0),
        hover_point_bf_m=(1082.5, 0.0, 625.0))
    records = []
    fsw = FlightSoftware(config, _NullBus(), SimClock(),
                         record=lambda t, raw: records.append(bytes(raw)))
    per_cycle_us, cycles = [], 0
    for _ in range(50):
        fsw.param_service.handle(new_codec(1, 1).decode(bytearray(
            mavlink.MAVLink_param_request_list_message(1, 1).pack(new_codec(255, 190)))))
        cycles = 0
        while True:
            start = time.perf_counter()
            sent = fsw.param_service.send_pending()
            if not sent:
                break
            per_cycle_us.append((time.perf_counter() - start) * 1e6)
            cycles += 1
    print(f"2. parameter list: {len(fsw.params)} parameters, {PARAMS_PER_CYCLE} per cycle, "
          f"{cycles} cycles ({cycles / 10:.1f} s at 10 Hz)")
    per_cycle_us.sort()
    p99 = per_cycle_us[int(0.99 * (len(per_cycle_us) - 1))]
    print(f"   one cycle's share over {len(per_cycle_us)} cycles: median "
          f"{statistics.median(per_cycle_us):.0f} us, p99 {p99:.0f} us, max "
          f"{per_cycle_us[-1]:.0f} us (task budget 1000 us; both cores busy elsewhere)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    args = parser.parse_args()
    guard_rate(args.frames)
    param_list()
    return 0


if __name__ == "__main__":
    sys.exit(main())
