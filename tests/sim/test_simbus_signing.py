"""SimBus signs the scenario's uplink when given a signer: verifiable, reproducible."""

from flightsw.hal import mavlink_signing
from flightsw.icd import mavlink
from flightsw.icd.ground_commands import command_message
from sim.simbus import SCENARIO_UPLINK_LINK_ID, SimBus, UplinkSigner

KEY = bytes(range(100, 132))
EPOCH_S = 1603152000.0


def _uplink(bus: SimBus) -> list[bytes]:
    for t_us in (0, 0, 5_000_000):
        bus.deliver_from_ground(command_message("SET_MODE", ("HOVER",)), t_us)
    return [bytes(m.get_msgbuf()) for m in bus.poll()]


def _signer():
    return UplinkSigner(KEY, lambda t_us: EPOCH_S + t_us * 1e-6)


def test_without_a_signer_the_uplink_is_unsigned():
    frames = _uplink(SimBus())
    assert all(mavlink_signing.signature_fields(f) is None for f in frames)


def test_with_a_signer_every_frame_is_signed_with_mission_time_stamps():
    frames = _uplink(SimBus(_signer()))
    assert all(mavlink_signing.verify(f, KEY) for f in frames)
    fields = [mavlink_signing.signature_fields(f) for f in frames]
    assert {link for link, _, _ in fields} == {SCENARIO_UPLINK_LINK_ID}
    stamps = [stamp for _, stamp, _ in fields]
    epoch = mavlink_signing.wall_timestamp_10us(EPOCH_S)
    assert stamps == [epoch, epoch + 1, epoch + 500_000]  # same instant: still rising


def test_the_same_uplink_signs_to_the_same_bytes():
    assert _uplink(SimBus(_signer())) == _uplink(SimBus(_signer()))


def test_the_message_delivered_is_the_one_sent():
    bus = SimBus(_signer())
    bus.deliver_from_ground(command_message("SET_MODE", ("HOVER",)), 0)
    (msg,) = bus.poll()
    assert msg.get_type() == "COMMAND_LONG"
    assert msg.command == mavlink.MAV_CMD_DO_SET_MODE
    assert KEY.hex() not in repr(_signer())
