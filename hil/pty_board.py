"""A stand-in for the devboard in plain Python, on two pseudo-terminal pairs.

It plays the firmware's part of the protocol (device messages re-sent as the
board's own, actuator commands back, ground messages and telemetry routed
unchanged, TIMESYNC answers, lockstep time marks passed across, heartbeats,
the start-of-run command) with no emulator and no UART in between.  The
benchmark runs the same loops over it and over the emulated board, so the
figures say what the emulator costs; it is not a model of the hardware.

    python -m hil.pty_board DIR     # publishes DIR/flight.pty and DIR/stim.pty,
                                    # prints "ready", runs until SIGTERM
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
import tty
from pathlib import Path

from flightsw.hal.mavlink_stream import FrameReader
from flightsw.icd import mavlink, new_codec

BOARD_SYSTEM_ID = 2
LINK = mavlink.MAV_COMP_ID_UART_BRIDGE
BOARD = mavlink.MAV_COMP_ID_PERIPHERAL
SENSORS = {"HIGHRES_IMU", "PROBE_STAR_TRACKER", "PROBE_LIDAR_RANGE", "PROBE_NAVCAM_FIX",
           "PROBE_NAVCAM_LANDMARKS", "PROBE_WHEEL_STATUS", "PROBE_SPECTRUM_CHUNK",
           "PROBE_SAMPLER_STATUS", "PROBE_POWER_THERMAL"}
ACTUATORS = {"PROBE_THRUSTER_CMD", "PROBE_WHEEL_CMD", "PROBE_SAMPLER_CMD"}


class _Stream:
    """One transmit stream: its own sequence numbers, like a MAVLink C channel."""

    def __init__(self, fd: int, component: int):
        self.fd = fd
        self.codec = new_codec(BOARD_SYSTEM_ID, component)

    def send(self, msg) -> None:
        raw = msg.pack(self.codec)
        self.codec.seq = (self.codec.seq + 1) % 256
        _write(self.fd, raw)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(bytes(data))
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            select.select([], [fd], [], 0.01)


class PtyBoard:
    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.fds = {}
        for name in ("flight", "stim"):
            master, slave = os.openpty()
            tty.setraw(master)
            os.set_blocking(master, False)
            path = self.workdir / f"{name}.pty"
            path.unlink(missing_ok=True)
            os.symlink(os.ttyname(slave), path)
            os.close(slave)
            self.fds[name] = master
        self.readers = {name: FrameReader() for name in self.fds}
        self._streams()
        self.lockstep = False
        self.next_hb_mission_us = 0
        self.next_hb_s = 0.0
        self.last_mark_s = 0.0
        self.heartbeats = 0
        self.t0 = time.monotonic()

    def _streams(self) -> None:
        f, s = self.fds["flight"], self.fds["stim"]
        self.out = {"flight": {"device": _Stream(f, 1), "board": _Stream(f, BOARD),
                               "link": _Stream(f, LINK)},
                    "stim": {"device": _Stream(s, 1), "board": _Stream(s, BOARD),
                             "link": _Stream(s, LINK)}}

    def heartbeat(self, side: str = "flight") -> None:
        status = mavlink.MAV_STATE_BOOT if self.heartbeats < 3 else mavlink.MAV_STATE_ACTIVE
        self.out[side]["board"].send(mavlink.MAVLink_heartbeat_message(
            mavlink.MAV_TYPE_ONBOARD_CONTROLLER, mavlink.MAV_AUTOPILOT_INVALID, 0,
            int(self.lockstep), status, 3))
        if side == "flight":
            self.heartbeats += 1

    def run(self, stop) -> None:
        while not stop():
            now = time.monotonic()
            if not (self.lockstep and now - self.last_mark_s < 1.0) and now >= self.next_hb_s:
                self.lockstep = False
                self.heartbeat("flight")
                self.heartbeat("stim")
                self.next_hb_s = now + 0.1
            ready, _, _ = select.select(list(self.fds.values()), [], [], 0.01)
            for name, fd in self.fds.items():
                if fd in ready:
                    try:
                        data = os.read(fd, 65536)
                    except OSError:
                        continue  # the other end is not open (yet)
                    for msg in self.readers[name].feed(data):
                        self.on_message(name, msg)

    def on_message(self, side: str, msg) -> None:
        other = "stim" if side == "flight" else "flight"
        kind = msg.get_type()
        if msg.get_srcComponent() == LINK:
            if kind == "TIMESYNC" and msg.tc1 == 0:
                self.out[side]["link"].send(mavlink.MAVLink_timesync_message(
                    time.monotonic_ns() - int(self.t0 * 1e9), msg.ts1))
            elif kind == "SYSTEM_TIME":
                if side == "stim":
                    self.lockstep = True
                    self.last_mark_s = time.monotonic()
                    if msg.time_unix_usec >= self.next_hb_mission_us:
                        self.heartbeat("flight")
                        self.next_hb_mission_us = (msg.time_unix_usec // 100_000 + 1) * 100_000
                self.out[other]["link"].send(mavlink.MAVLink_system_time_message(
                    msg.time_unix_usec, int((time.monotonic() - self.t0) * 1000)))
            return
        if kind == "COMMAND_LONG" and (msg.target_system, msg.target_component) == (2, BOARD):
            if msg.command == mavlink.MAV_CMD_USER_2:
                self._streams()
                self.heartbeats = 0
                self.next_hb_mission_us = 0
                self.lockstep = msg.param1 == 1.0
                self.last_mark_s = time.monotonic()
                result = mavlink.MAV_RESULT_ACCEPTED
            else:
                result = mavlink.MAV_RESULT_UNSUPPORTED
            self.out[side]["board"].send(mavlink.MAVLink_command_ack_message(
                msg.command, result, 0, 0, msg.get_srcSystem(), msg.get_srcComponent()))
            return
        if side == "flight" and kind == "HEARTBEAT":
            self.heartbeat("flight")
        modelled = SENSORS if side == "stim" else ACTUATORS
        if kind in modelled and msg.get_srcSystem() != 255:
            self.out[other]["device"].send(msg)
        else:
            _write(self.fds[other], msg.get_msgbuf())

    def close(self) -> None:
        for name, fd in self.fds.items():
            os.close(fd)
            (self.workdir / f"{name}.pty").unlink(missing_ok=True)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m hil.pty_board DIR", file=sys.stderr)
        return 2
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    board = PtyBoard(Path(argv[0]))
    print("ready", flush=True)
    try:
        board.run(lambda: bool(stopping))
    except KeyboardInterrupt:
        pass
    finally:
        board.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
