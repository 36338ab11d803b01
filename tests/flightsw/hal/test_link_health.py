"""LinkMonitor: loss within 0.5 s of the last heartbeat, SAFE, reset, restoration, degradation."""

import pytest

from flightsw.core.clock import SimClock
from flightsw.core.events import EventLog
from flightsw.hal.bus import BusPort
from flightsw.hal.link_health import BOARD_COMPONENT_ID, LinkMonitor, LinkState
from flightsw.icd import WORLD_SYSTEM_ID, mavlink, new_codec

FRAME_US = 100_000  # 10 Hz checks, as in the flight software's fast group


class Wire:
    """An in-memory Bus carrying the board's heartbeats."""

    def __init__(self):
        self.inbox = []
        self.board = new_codec(WORLD_SYSTEM_ID, BOARD_COMPONENT_ID)
        self.rx = new_codec(0, 0)
        self.seq = 0

    def heartbeat(self, status=mavlink.MAV_STATE_ACTIVE, skip=0):
        self.seq = (self.seq + 1 + skip) % 256
        self.board.seq = self.seq
        msg = mavlink.MAVLink_heartbeat_message(18, 8, 0, 0, status, 3)
        self.inbox.append(self.rx.decode(bytearray(msg.pack(self.board))))

    def send(self, msg):
        pass

    def poll(self):
        out, self.inbox = self.inbox, []
        return out


class Rig:
    def __init__(self, **kw):
        self.clock = SimClock()
        self.wire = Wire()
        self.port = BusPort(self.wire, self.clock.now_us)
        self.events = EventLog(self.clock, lambda msg: None)
        self.texts = []
        self.events.add_sink(lambda e: self.texts.append((e.time_us, e.severity.name, e.text)))
        self.safe_calls = []
        self.monitor = LinkMonitor(self.port, self.events,
                                   lambda why: self.safe_calls.append((self.clock.now_us(), why)),
                                   **kw)
        self.t_us = 0

    def frame(self, heartbeat=True, **hb):
        if heartbeat:
            self.wire.heartbeat(**hb)
        self.clock.advance_to_us(self.t_us)
        self.port.pump()
        self.monitor.run(self.t_us)
        self.t_us += FRAME_US

    def frames(self, n, **kw):
        for _ in range(n):
            self.frame(**kw)


def test_silent_while_the_board_answers():
    rig = Rig()
    rig.frames(100)
    assert rig.monitor.state is LinkState.OK
    assert rig.texts == [] and rig.safe_calls == []


def test_loss_is_declared_within_half_a_second_of_the_last_heartbeat():
    rig = Rig()
    rig.frames(20)
    last_heartbeat_us = rig.t_us - FRAME_US
    rig.frames(10, heartbeat=False)
    assert rig.monitor.state is LinkState.LOST
    (t_safe, why), = rig.safe_calls
    assert 0.3e6 < t_safe - last_heartbeat_us <= 0.5e6
    assert "link to board lost" in why
    assert any(sev == "CRITICAL" and "lost" in text for _, sev, text in rig.texts)


def test_restored_after_a_second_of_heartbeats_but_stays_safe():
    rig = Rig()
    rig.frames(10)
    rig.frames(10, heartbeat=False)
    rig.frames(5)
    assert rig.monitor.state is LinkState.LOST  # not yet a second of heartbeats
    rig.frames(10)
    assert rig.monitor.state is LinkState.OK
    assert rig.monitor.restorations == 1
    assert len(rig.safe_calls) == 1  # the monitor never leaves SAFE by itself
    assert any("restored" in text for _, _, text in rig.texts)


def test_board_reset_goes_safe_even_without_a_gap():
    rig = Rig()
    rig.frames(5, status=mavlink.MAV_STATE_BOOT)  # booting at the start is fine
    rig.frames(10)
    assert rig.safe_calls == []
    rig.wire.seq = -1  # the board restarts its sequence at 0
    rig.frame(status=mavlink.MAV_STATE_BOOT)
    assert [why for _, why in rig.safe_calls] == ["board reset"]
    assert rig.monitor.resets == 1
    rig.frames(3, status=mavlink.MAV_STATE_BOOT)
    rig.frames(12)
    assert rig.monitor.state is LinkState.OK
    assert rig.monitor.heartbeats_lost == 0  # a sequence that restarts at boot lost nothing


def test_lost_heartbeats_make_a_degraded_warning_once_per_window():
    rig = Rig()
    rig.frames(10)
    rig.frames(30, skip=1)  # every other heartbeat lost
    warnings = [text for _, sev, text in rig.texts if sev == "WARNING"]
    assert 2 <= len(warnings) <= 3
    assert all("degraded" in w for w in warnings)
    assert rig.safe_calls == []
    assert rig.monitor.heartbeats_lost == 30


def test_other_sources_do_not_count_as_the_board():
    rig = Rig()
    other = new_codec(1, 1)
    rig.frames(5)
    for _ in range(10):
        msg = mavlink.MAVLink_heartbeat_message(0, 0, 0, 0, 4, 3)
        rig.wire.inbox.append(rig.wire.rx.decode(bytearray(msg.pack(other))))
        rig.frame(heartbeat=False)
    assert rig.monitor.state is LinkState.LOST


def test_same_inputs_same_verdicts():
    """What replay relies on: the verdicts depend only on messages and frame times."""
    def run():
        rig = Rig()
        for k in range(80):
            rig.frame(heartbeat=(k % 17) not in (5, 6, 7, 8), skip=k % 5 == 0)
        return rig.texts, rig.safe_calls
    assert run() == run()


@pytest.mark.parametrize("kw", [dict(timeout_us=0), dict(timeout_us=2_000_000),
                                dict(degraded_fraction=1.5)])
def test_bad_settings_are_refused(kw):
    with pytest.raises(ValueError):
        Rig(**kw)
