"""The uplink guard: every rejection reason, floods, forgeries, replays, key change.

Frames are built as a ground station builds them (a pymavlink codec packs them;
`sign_frame` signs them) and decoded on board by a codec without the key, as the
Bus backends do, so the guard judges the exact bytes that crossed the link.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flightsw.components.uplink import EVENT_PERIOD_S, RejectReason, UplinkGuard
from flightsw.core.clock import SimClock
from flightsw.core.events import EventLog
from flightsw.core.params import ParamTable
from flightsw.hal import mavlink_signing as signing
from flightsw.hal.bus import BusPort
from flightsw.icd import (
    FLIGHT_SYSTEM_ID,
    GROUND_COMPONENT_ID,
    GROUND_SYSTEM_ID,
    WORLD_SYSTEM_ID,
    mavlink,
    new_codec,
)
from flightsw.params_table import FLIGHT_PARAMS

KEY = bytes(range(100, 132))
WRONG_KEY = bytes(range(200, 232))
NEW_KEY = bytes(range(7, 39))
T0_10US = 300_000_000_000  # some time in 2016, in signing units


def command(target_system=1, target_component=1, cmd=mavlink.MAV_CMD_DO_SET_MODE):
    return mavlink.MAVLink_command_long_message(target_system, target_component, cmd, 0,
                                                1.0, 2.0, 0, 0, 0, 0, 0)


def heartbeat():
    return mavlink.MAVLink_heartbeat_message(mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID,
                                             0, 0, 0, 3)


def pack(msg, system=GROUND_SYSTEM_ID, component=GROUND_COMPONENT_ID) -> bytes:
    return msg.pack(new_codec(system, component))


def signed(msg, key=KEY, timestamp=T0_10US, link_id=0, **ids) -> bytes:
    return signing.sign_frame(pack(msg, **ids), key, link_id, timestamp)


def on_board(raw: bytes):
    """The frame as a Bus backend hands it on: decoded by a codec with no key."""
    return new_codec(FLIGHT_SYSTEM_ID, 1).decode(bytearray(raw))


class Rig:
    def __init__(self, key=KEY):
        self.clock = SimClock()
        self.sent = []
        self.events = EventLog(self.clock)
        self.params = ParamTable(FLIGHT_PARAMS)
        self.guard = UplinkGuard(self.clock, self.params, self.events, self.sent.append,
                                 signing_key=key)

    def admit(self, raw: bytes) -> bool:
        return self.guard.admit(on_board(raw))

    def verdict(self, raw: bytes):
        before = dict(self.guard.rejected)
        if self.admit(raw):
            return None
        (reason,) = [r for r in RejectReason if self.guard.rejected[r] != before[r]]
        return reason


# -- without a key: today's uplink, addressed checks only -----------------------------
def test_unsigned_uplink_admits_the_ground_addressed_to_the_probe_only():
    rig = Rig(key=None)
    assert rig.verdict(pack(command())) is None
    assert rig.verdict(pack(command(target_component=0))) is None  # broadcast component
    assert rig.verdict(pack(command(target_system=5))) == RejectReason.WRONG_TARGET
    assert rig.verdict(pack(command(target_system=0))) == RejectReason.WRONG_TARGET
    assert rig.verdict(pack(command(target_component=42))) == RejectReason.WRONG_TARGET
    assert rig.verdict(pack(command(), system=77)) == RejectReason.WRONG_SOURCE
    assert rig.guard.admitted == 2 and not rig.guard.signing


def test_world_sensor_frames_pass_uncounted_but_a_world_command_is_judged():
    rig = Rig()
    imu = mavlink.MAVLink_highres_imu_message(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert rig.admit(pack(imu, system=WORLD_SYSTEM_ID, component=1))
    assert rig.guard.admitted == 0 and sum(rig.guard.rejected.values()) == 0
    forged = pack(command(), system=WORLD_SYSTEM_ID, component=1)
    assert rig.verdict(forged) == RejectReason.UNSIGNED
    assert Rig(key=None).verdict(forged) == RejectReason.WRONG_SOURCE


# -- with a key: each reason -----------------------------------------------------------
def test_signed_uplink_each_rejection_reason():
    rig = Rig()
    assert rig.verdict(pack(command())) == RejectReason.UNSIGNED
    assert rig.verdict(signed(command(), key=WRONG_KEY)) == RejectReason.BAD_SIGNATURE
    assert rig.verdict(signed(command(), timestamp=T0_10US)) is None
    assert rig.verdict(signed(command(), timestamp=T0_10US)) == RejectReason.REPLAYED
    assert rig.verdict(signed(command(), timestamp=T0_10US - 1)) == RejectReason.REPLAYED
    assert rig.verdict(signed(command(), timestamp=T0_10US + 1)) is None
    assert rig.verdict(signed(command(), timestamp=T0_10US + 2, system=77)) == \
        RejectReason.WRONG_SOURCE
    assert rig.verdict(signed(command(target_system=9), timestamp=T0_10US + 3)) == \
        RejectReason.WRONG_TARGET
    assert rig.verdict(signed(command(target_component=2), timestamp=T0_10US + 4)) == \
        RejectReason.WRONG_TARGET
    assert rig.guard.admitted == 2


def test_streams_are_per_link_system_and_component_and_a_stale_new_stream_is_a_replay():
    rig = Rig()
    assert rig.verdict(signed(command(), timestamp=T0_10US + 100)) is None
    # Another link id is another stream: its own timestamps, within the one-minute window.
    assert rig.verdict(signed(command(), timestamp=T0_10US + 50, link_id=1)) is None
    assert rig.verdict(signed(command(), timestamp=T0_10US + 60, component=191)) is None
    # A new stream more than a minute behind the newest timestamp: an old capture.
    old = T0_10US + 100 - 60 * 100_000 - 1
    assert rig.verdict(signed(command(), timestamp=old, link_id=2)) == RejectReason.REPLAYED


def test_only_a_ground_heartbeat_is_admitted_unsigned():
    rig = Rig()
    assert rig.verdict(pack(heartbeat())) is None
    assert rig.verdict(pack(heartbeat(), system=77)) == RejectReason.UNSIGNED
    for msg in (mavlink.MAVLink_param_request_list_message(1, 1),
                mavlink.MAVLink_param_set_message(1, 1, b"FP_ENABLE", 0.0, 1),
                mavlink.MAVLink_timesync_message(0, 5)):
        assert rig.verdict(pack(msg)) == RejectReason.UNSIGNED


def test_a_forged_signature_does_not_move_the_stream_on():
    rig = Rig()
    far_future = T0_10US + 10**9
    assert rig.verdict(signed(command(), key=WRONG_KEY, timestamp=far_future)) == \
        RejectReason.BAD_SIGNATURE
    assert rig.verdict(signed(command(), timestamp=T0_10US)) is None


# -- hypothesis: random and mutated frames never get in without the key ------------------
SEEDS = [command(), mavlink.MAVLink_param_set_message(1, 1, b"FP_ENABLE", 0.0, 1),
         mavlink.MAVLink_setup_signing_message(1, 1, list(NEW_KEY), 5)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(min_size=1, max_size=400))
def test_random_bytes_are_never_admitted(data):
    rig = Rig()
    codec = new_codec(FLIGHT_SYSTEM_ID, 1)
    for msg in codec.parse_buffer(data) or []:
        if msg.get_srcSystem() == WORLD_SYSTEM_ID and msg.get_type() not in (
                "COMMAND_LONG", "COMMAND_INT", "SET_MODE", "PARAM_SET", "SETUP_SIGNING"):
            continue  # a sensor frame: the ground link must not let those in (link's job)
        assert not rig.guard.admit(msg)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(range(len(SEEDS))), flips=st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=4),
    fix_crc=st.booleans())
def test_mutated_signed_frames_are_never_admitted(seed, flips, fix_crc):
    """An attacker who changes any bytes of a signed frame (and even recomputes the CRC,
    which needs no key) cannot get it admitted; only the untouched frame gets in."""
    original = signed(SEEDS[seed])
    raw = bytearray(original)
    for position, flip in flips:
        raw[position % len(raw)] ^= flip
    if fix_crc and len(raw) >= 12 and raw[0] == 0xFD and raw[7] | raw[8] << 8 | raw[9] << 16 \
            in mavlink.mavlink_map:
        end = 10 + raw[1]
        if end + 2 <= len(raw):
            msg_id = raw[7] | raw[8] << 8 | raw[9] << 16
            crc = mavlink.x25crc(bytes(raw[1:end]))
            crc.accumulate(bytes([mavlink.mavlink_map[msg_id].crc_extra]))
            raw[end:end + 2] = crc.crc.to_bytes(2, "little")
    rig = Rig()
    codec = new_codec(FLIGHT_SYSTEM_ID, 1)
    for msg in codec.parse_buffer(bytes(raw)) or []:
        if bytes(msg.get_msgbuf()) == original:
            continue  # the flips cancelled out
        if msg.get_srcSystem() == WORLD_SYSTEM_ID and msg.get_type() not in (
                "COMMAND_LONG", "COMMAND_INT", "SET_MODE", "PARAM_SET", "SETUP_SIGNING"):
            continue  # turned into a sensor frame from the world: see above
        assert not rig.guard.admit(msg)
        assert rig.guard.key_changes == 0


@settings(max_examples=50, deadline=None)
@given(timestamps=st.lists(st.integers(T0_10US, T0_10US + 1000), min_size=1, max_size=30))
def test_a_stream_admits_only_strictly_increasing_timestamps(timestamps):
    rig = Rig()
    newest = None
    for ts in timestamps:
        admitted = rig.admit(signed(command(), timestamp=ts))
        assert admitted == (newest is None or ts > newest)
        newest = ts if newest is None else max(newest, ts)


# -- a flood: counted exactly, reported a few times -------------------------------------
def test_a_flood_of_100000_rejected_frames_is_counted_and_rate_limited():
    rig = Rig()
    frames = [on_board(pack(command())), on_board(signed(command(), key=WRONG_KEY)),
              on_board(pack(command(target_system=3), system=9))]
    n = 100_000
    for i in range(n):
        if i % 1000 == 0:
            rig.clock.advance_by_us(100_000)  # 10 s of flood over the loop
        assert not rig.guard.admit(frames[i % 3])
    assert sum(rig.guard.rejected.values()) == n
    # The third frame, unsigned from system 9, fails the first check: unsigned.
    assert rig.guard.rejected[RejectReason.UNSIGNED] == n - n // 3
    assert rig.guard.rejected[RejectReason.BAD_SIGNATURE] == n // 3
    assert rig.guard.admitted == 0
    flood_s = rig.clock.now_us() * 1e-6
    assert len(rig.events.recent) <= flood_s / EVENT_PERIOD_S + 1
    assert "frame(s) rejected, not acted on" in rig.events.recent[0].text
    # What is still pending goes out once its period is over, in the 1 Hz task.
    rig.clock.advance_by_us(int(EVENT_PERIOD_S * 1e6))
    rig.guard.task(rig.clock.now_us())
    reported = sum(int(e.text.split()[0]) for e in rig.events.recent)
    assert reported == n


def test_link_status_telemetry_carries_the_counts():
    rig = Rig()
    rig.clock.advance_by_us(5_000_000)
    rig.admit(pack(command()))
    rig.admit(pack(command()))
    rig.admit(signed(command(), key=WRONG_KEY))
    rig.admit(signed(command()))
    rig.admit(signed(command()))
    rig.admit(signed(command(), timestamp=T0_10US + 1, system=8))
    rig.admit(signed(command(target_system=4), timestamp=T0_10US + 2))
    rig.clock.advance_by_us(2_500_000)
    msg = rig.guard.status_message(rig.clock.now_us())
    decoded = new_codec(GROUND_SYSTEM_ID, 1).decode(bytearray(msg.pack(new_codec(1, 1))))
    assert decoded.get_type() == "PROBE_LINK_STATUS"
    assert (decoded.admitted, decoded.rejected_unsigned, decoded.rejected_bad_signature,
            decoded.rejected_replayed, decoded.rejected_wrong_source,
            decoded.rejected_wrong_target) == (1, 2, 1, 1, 1, 1)
    assert decoded.signing == 1 and decoded.ground_lost == 0
    assert decoded.ground_silent_s == pytest.approx(2.5)
    assert Rig().guard.status_message(0).ground_silent_s == -1.0


# -- link health: a ground heard, then silent ------------------------------------------
def test_ground_heartbeat_heard_then_silent_is_a_lost_link():
    rig = Rig()
    assert rig.guard.ground_heartbeat_lost(10**9) is None  # never heard: not lost
    rig.admit(pack(heartbeat()))
    limit_s = rig.params.get("FP_GROUND_HB_S")
    t0 = rig.clock.now_us()
    assert rig.guard.ground_heartbeat_lost(t0 + int(limit_s * 1e6)) is None
    reason = rig.guard.ground_heartbeat_lost(t0 + int((limit_s + 1) * 1e6))
    assert reason is not None and "HEARTBEAT" in reason
    assert rig.guard.status_message(t0 + int((limit_s + 1) * 1e6)).ground_lost == 1
    # A heartbeat from somewhere else does not keep the link alive.
    rig.clock.advance_by_us(int((limit_s + 1) * 1e6))
    rig.admit(pack(heartbeat(), system=77))
    assert rig.guard.ground_heartbeat_lost(rig.clock.now_us()) is not None


# -- key change ------------------------------------------------------------------------
def setup_signing(new_key=NEW_KEY, target=(1, 1)):
    return mavlink.MAVLink_setup_signing_message(*target, list(new_key), T0_10US)


def test_key_change_over_the_signed_link_and_never_in_an_event():
    rig = Rig()
    changed = []
    rig.guard.key_listeners.append(changed.append)
    assert not rig.admit(signed(setup_signing()))  # consumed by the guard
    assert rig.guard.key_changes == 1 and changed == [NEW_KEY]
    assert rig.verdict(signed(command(), key=KEY, timestamp=T0_10US + 1)) == \
        RejectReason.BAD_SIGNATURE
    assert rig.verdict(signed(command(), key=NEW_KEY, timestamp=T0_10US + 2)) is None
    text = " ".join(e.text for e in rig.events.recent)
    assert "key changed" in text
    for secret in (KEY, NEW_KEY):
        assert secret.hex() not in text and secret.hex().upper() not in text
        assert str(list(secret)) not in text


@pytest.mark.parametrize("raw_of, why", [
    (lambda: pack(setup_signing()), RejectReason.UNSIGNED),
    (lambda: signed(setup_signing(), key=WRONG_KEY), RejectReason.BAD_SIGNATURE),
    (lambda: signed(setup_signing(target=(1, 7))), RejectReason.WRONG_TARGET),
    (lambda: signed(setup_signing(target=(3, 1))), RejectReason.WRONG_TARGET),
])
def test_key_change_refused_unless_signed_with_the_key_and_addressed_to_us(raw_of, why):
    rig = Rig()
    assert rig.verdict(raw_of()) == why
    assert rig.guard.key_changes == 0


def test_signing_is_never_turned_off_or_on_over_the_air():
    rig = Rig()
    assert not rig.admit(signed(setup_signing(new_key=bytes(32))))
    assert rig.guard.key_changes == 0 and rig.guard.signing
    assert rig.verdict(signed(command(), timestamp=T0_10US + 5)) is None  # old key still good
    unsigned = Rig(key=None)
    assert not unsigned.admit(pack(setup_signing()))
    assert unsigned.guard.key_changes == 0 and not unsigned.guard.signing
    assert "refused" in unsigned.events.recent[-1].text


def test_the_recorder_logs_setup_signing_with_its_key_zeroed():
    raw = signed(setup_signing())
    records = []

    class OneFrameBus:
        def send(self, msg):
            pass

        def poll(self):
            return [on_board(raw)]

    rig = Rig()
    port = BusPort(OneFrameBus(), rig.clock.now_us, lambda t, b: records.append(bytes(b)),
                   gate=rig.guard.admit)
    port.pump()
    (logged,) = records
    assert NEW_KEY not in logged and len(logged) == len(raw)
    decoded = new_codec(GROUND_SYSTEM_ID, 1).decode(bytearray(logged))  # CRC still good
    assert decoded.get_type() == "SETUP_SIGNING" and not any(decoded.secret_key)
    assert rig.guard.key_changes == 1  # judged on the real frame


def test_a_key_of_the_wrong_length_is_refused_without_echoing_it():
    with pytest.raises(ValueError) as err:
        UplinkGuard(SimClock(), ParamTable(FLIGHT_PARAMS), None, print, signing_key=b"x" * 31)
    assert "xxxx" not in str(err.value)
