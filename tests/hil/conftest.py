"""Fixtures of the HIL tests: the firmware image and a running emulated board.

Without Debian's gcc-arm-none-eabi and qemu-system-arm (which `make test`
installs when it runs as root) the tests that need them are skipped with
one line saying what is missing (listed by -rs in the summary).  Under CI
(CI=true) test_hil_tools.py fails the run instead, naming what is missing.
"""

import tempfile
from pathlib import Path

import pytest

from flightsw.hal.serial_bus import SerialBus
from hil.board import EmulatedBoard
from hil.firmware_build import build_firmware, missing_tools
from hil.stimulus import SIM_SYSTEM_ID, StimulusLink


@pytest.fixture(scope="session")
def firmware_elf():
    missing = missing_tools()
    if missing:
        pytest.skip(f"HIL: {', '.join(missing)} not installed (make test installs them as root)")
    return build_firmware()


class BoardSession:
    """A booted emulated board with both links open."""

    def __init__(self, elf: Path):
        self._tmp = tempfile.TemporaryDirectory(prefix="prospector-hil-test-")
        self.board = EmulatedBoard(elf, Path(self._tmp.name))
        self.board.start()
        self.flight = SerialBus(self.board.flight_port)
        self.stim_bus = SerialBus(self.board.stim_port, system_id=SIM_SYSTEM_ID)
        self.board.resume()
        self.stim = StimulusLink(self.stim_bus)
        assert self.stim.wait_board_up(), "no heartbeat from the emulated board"
        assert self.flight.await_answer(), "the emulated board does not answer on the flight link"
        # Repeated requests may be answered late: let them land before tests count answers.
        self.flight.service(0.5)
        self.flight.poll()
        self.flight.rtt_ns.clear()

    def drain(self):
        for bus in (self.flight, self.stim_bus):
            bus.service(0.01)
            bus.poll()

    def close(self):
        self.flight.close()
        self.stim_bus.close()
        self.board.stop()
        self._tmp.cleanup()


@pytest.fixture(scope="module")
def board_session(firmware_elf):
    session = BoardSession(firmware_elf)
    yield session
    session.close()
