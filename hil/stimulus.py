"""The simulator's end of the stimulus link (the board's USART2).

Device messages go to the board as system SIM_SYSTEM_ID; the board decodes
them into its sensor registers and reports them on the flight link as its
own (system 2, component 1, its own sequence numbers).  Ground messages go as
the ground station (system 255), and the board routes them unchanged.
Actuator commands and the flight software's telemetry come back.
"""

from __future__ import annotations

import time

from flightsw.hal.serial_bus import BOARD_COMPONENT_ID, SerialBus
from flightsw.icd import GROUND_COMPONENT_ID, GROUND_SYSTEM_ID, WORLD_SYSTEM_ID, mavlink, new_codec

SIM_SYSTEM_ID = 3  # the simulator, behind the board
SIM_COMPONENT_ID = 1
BOARD_SYSTEM_ID = WORLD_SYSTEM_ID
CMD_START_RUN = mavlink.MAV_CMD_USER_2  # param1: 1 lockstep, 0 real time
CMD_LINE_NOISE = mavlink.MAV_CMD_USER_1  # param1 bytes every param2 ms on link param3


def _pack(msg, codec) -> None:
    """Pack and advance the sequence number (pack() alone does not), as MAVLink.send() does."""
    msg.pack(codec)
    codec.seq = (codec.seq + 1) % 256


class StimulusLink:
    def __init__(self, bus: SerialBus):
        self.bus = bus
        self._sim = new_codec(SIM_SYSTEM_ID, SIM_COMPONENT_ID)
        self._ground = new_codec(GROUND_SYSTEM_ID, GROUND_COMPONENT_ID)
        self.device_sent = 0
        self.ground_sent = 0

    def send_device(self, msg) -> None:
        _pack(msg, self._sim)
        self.bus.send(msg)
        self.device_sent += 1

    def send_ground(self, msg) -> None:
        _pack(msg, self._ground)
        self.bus.send(msg)
        self.ground_sent += 1

    def send_time_mark(self, time_us: int) -> None:
        self.bus.send_time_mark(time_us)

    def receive(self) -> list:
        return self.bus.poll()

    def command_board(self, command: int, *params: float) -> None:
        p = list(params) + [0.0] * (7 - len(params))
        msg = mavlink.MAVLink_command_long_message(BOARD_SYSTEM_ID, BOARD_COMPONENT_ID, command, 0,
                                                   *p)
        _pack(msg, self._sim)
        self.bus.send(msg)

    def wait_board_up(self, timeout_s: float = 3.0) -> bool:
        """Wait for the board's heartbeat on this link: its UART is on and listening.

        The STM32 USART drops bytes that arrive before the firmware enables
        it, so nothing is sent to a board that has not said it is up.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.bus.service(0.02)
            for msg in self.bus.poll():
                if msg.get_type() == "HEARTBEAT" and msg.get_srcSystem() == BOARD_SYSTEM_ID:
                    return True
        return False

    def call_board(self, command: int, *params: float, timeout_s: float = 5.0,
                   tries: int = 2) -> int | None:
        """Send a command to the board and wait for its COMMAND_ACK; the result or None.

        Everything else received meanwhile is discarded (used before a run starts).
        """
        for _ in range(tries):
            self.command_board(command, *params)
            deadline = time.monotonic() + timeout_s / tries
            while time.monotonic() < deadline:
                self.bus.service(0.02)
                for msg in self.bus.poll():
                    if (msg.get_type() == "COMMAND_ACK" and msg.command == command
                            and msg.get_srcSystem() == BOARD_SYSTEM_ID):
                        return msg.result
        return None
