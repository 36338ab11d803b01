"""ParamTable and ParamService: validation, float32 on the wire, the file, the protocol."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.params import (
    ParamFileError,
    ParamService,
    ParamSpec,
    ParamTable,
    to_float32,
)
from flightsw.icd import mavlink, new_codec

HOVER_ALT_MIN_M, HOVER_ALT_MAX_M = 50.0, 2_000.0
GAIN_MAX = 0.3  # not a float32: the wire value is 0.30000001192...


def make_specs():
    return [
        ParamSpec("HOVER_ALT_M", float, 500.0, HOVER_ALT_MIN_M, HOVER_ALT_MAX_M, "m",
                  "hover altitude above the surface"),
        ParamSpec("POS_GAIN", float, 0.1, 0.0, GAIN_MAX, "1/s", "position loop gain"),
        ParamSpec("NAV_RATE_DIV", int, 1, 1, 100, "", "navigation rate divisor"),
        ParamSpec("SAMPLE_ARMED", bool, False, description="sampler may fire"),
        ParamSpec("DRIFT_MPS", float, 0.0),
    ]


def make_table():
    return ParamTable(make_specs())


not_numbers = st.one_of(st.text(max_size=3), st.none(), st.lists(st.integers(), max_size=2))


@given(st.floats(HOVER_ALT_MIN_M, HOVER_ALT_MAX_M))
def test_any_float_in_range_is_accepted(value):
    table = make_table()
    assert table.set("HOVER_ALT_M", value) == CommandResult.ACCEPTED
    assert table.get("HOVER_ALT_M") == value


@given(st.one_of(
    st.floats(max_value=HOVER_ALT_MIN_M, exclude_max=True),
    st.floats(min_value=HOVER_ALT_MAX_M, exclude_min=True),
    st.just(math.nan),
    st.booleans(),
    not_numbers,
))
def test_any_float_out_of_range_nan_or_wrong_type_is_refused_and_changes_nothing(value):
    table = make_table()
    before = table.to_dict()
    assert table.set("HOVER_ALT_M", value) == CommandResult.INVALID_PARAM
    assert table.check("HOVER_ALT_M", value) is not None
    assert table.to_dict() == before


@given(st.one_of(st.integers(), st.floats(), st.booleans(), not_numbers))
def test_int_params_take_only_ints_in_range(value):
    table = make_table()
    before = table.to_dict()
    result = table.set("NAV_RATE_DIV", value)
    ok = type(value) is int and 1 <= value <= 100
    assert result == (CommandResult.ACCEPTED if ok else CommandResult.INVALID_PARAM)
    assert table.get("NAV_RATE_DIV") == (value if ok else before["NAV_RATE_DIV"])
    assert type(table.get("NAV_RATE_DIV")) is int


@given(st.one_of(st.integers(), st.floats(), st.booleans(), not_numbers))
def test_bool_params_take_only_bools(value):
    table = make_table()
    result = table.set("SAMPLE_ARMED", value)
    assert result == (CommandResult.ACCEPTED if isinstance(value, bool)
                      else CommandResult.INVALID_PARAM)
    assert table.get("SAMPLE_ARMED") is (value if isinstance(value, bool) else False)


def test_unknown_names_are_invalid_param():
    table = make_table()
    assert table.set("NO_SUCH", 1.0) == CommandResult.INVALID_PARAM
    assert "unknown" in table.check("NO_SUCH", 1.0)
    with pytest.raises(KeyError):
        table.get("NO_SUCH")


def test_listeners_hear_changes_only():
    table = make_table()
    heard, heard_gain = [], []
    table.on_change(lambda *change: heard.append(change))
    table.on_change(lambda *change: heard_gain.append(change), names=["POS_GAIN"])
    table.set("HOVER_ALT_M", 600.0)
    table.set("HOVER_ALT_M", 600.0)  # same value: no change
    table.set("HOVER_ALT_M", -1.0)  # refused
    table.set("POS_GAIN", 0.2)
    assert heard == [("HOVER_ALT_M", 500.0, 600.0), ("POS_GAIN", 0.1, 0.2)]
    assert heard_gain == [("POS_GAIN", 0.1, 0.2)]


@given(st.floats(0.0, GAIN_MAX))
def test_a_float32_from_the_wire_is_accepted_when_its_double_is(value):
    table = make_table()
    wire_value = to_float32(value)
    assert table.set("POS_GAIN", wire_value, wire=True) == CommandResult.ACCEPTED
    stored = table.get("POS_GAIN")
    assert 0.0 <= stored <= GAIN_MAX  # clamped into range, never outside
    assert to_float32(stored) == wire_value


def test_wire_values_keep_exact_doubles():
    table = make_table()
    # The bound itself, as float32, lies above 0.3 and is still taken (as 0.3).
    assert to_float32(GAIN_MAX) > GAIN_MAX
    assert table.set("POS_GAIN", to_float32(GAIN_MAX)) == CommandResult.INVALID_PARAM
    assert table.set("POS_GAIN", to_float32(GAIN_MAX), wire=True) == CommandResult.ACCEPTED
    assert table.get("POS_GAIN") == GAIN_MAX
    # Writing back what was read keeps the double; the default is restored exactly.
    table.set("POS_GAIN", 0.123456789)
    assert table.set("POS_GAIN", to_float32(0.123456789), wire=True) == CommandResult.ACCEPTED
    assert table.get("POS_GAIN") == 0.123456789
    assert table.set("POS_GAIN", to_float32(0.1), wire=True) == CommandResult.ACCEPTED
    assert table.get("POS_GAIN") == 0.1
    # Ints and bools travel as their numeric value.
    assert table.set("NAV_RATE_DIV", 7.0, wire=True) == CommandResult.ACCEPTED
    assert table.get("NAV_RATE_DIV") == 7
    assert table.set("NAV_RATE_DIV", 7.5, wire=True) == CommandResult.INVALID_PARAM
    assert table.set("SAMPLE_ARMED", 1.0, wire=True) == CommandResult.ACCEPTED
    assert table.get("SAMPLE_ARMED") is True
    assert table.set("SAMPLE_ARMED", 0.5, wire=True) == CommandResult.INVALID_PARAM
    assert table.set("POS_GAIN", 0.31, wire=True) == CommandResult.INVALID_PARAM


def test_specs_are_validated_at_definition():
    with pytest.raises(ValueError, match="1-16"):
        ParamSpec("A_NAME_LONGER_THAN_16", float, 0.0)
    with pytest.raises(ValueError, match="1-16"):
        ParamSpec("HÖHE", float, 0.0)
    with pytest.raises(ValueError, match="default"):
        ParamSpec("GAIN", float, 5.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="min"):
        ParamSpec("GAIN", float, 0.5, 1.0, 0.0)
    with pytest.raises(ValueError, match="kind"):
        ParamSpec("GAIN", str, "a")
    with pytest.raises(ValueError, match="max"):
        ParamSpec("COUNT", int, 0, 0, 2**31)  # would not survive the float32 cast
    with pytest.raises(ValueError, match="twice"):
        ParamTable([ParamSpec("A", int, 0), ParamSpec("A", int, 1)])


@given(
    alt=st.floats(HOVER_ALT_MIN_M, HOVER_ALT_MAX_M),
    gain=st.floats(0.0, GAIN_MAX),
    div=st.integers(1, 100),
    armed=st.booleans(),
    drift=st.floats(-1e30, 1e30),
)
def test_file_text_round_trips_exactly(alt, gain, div, armed, drift):
    table = make_table()
    for name, value in [("HOVER_ALT_M", alt), ("POS_GAIN", gain), ("NAV_RATE_DIV", div),
                        ("SAMPLE_ARMED", armed), ("DRIFT_MPS", drift)]:
        assert table.set(name, value) == CommandResult.ACCEPTED
    fresh = make_table()
    fresh.loads(table.dumps())
    assert fresh.to_dict() == table.to_dict()
    assert [type(v) for v in fresh.to_dict().values()] == [float, float, int, bool, float]


def test_save_load_round_trip(tmp_path):
    table = make_table()
    table.set("HOVER_ALT_M", 750.25)
    table.set("SAMPLE_ARMED", True)
    path = tmp_path / "params.toml"
    table.save(path)
    assert "HOVER_ALT_M = 750.25  # m: hover altitude" in path.read_text()
    fresh = make_table()
    fresh.load(path)
    assert fresh.to_dict() == table.to_dict()


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("HOVER_ALT_M = 600.0\nPOS_GAIN = 0.9\n", ["POS_GAIN", "float in [0.0, 0.3]"]),
        ("HOVER_ALT_M = 600.0\nNAV_RATE_DIV = 2.0\n", ["NAV_RATE_DIV", "int in [1, 100]"]),
        ("HOVER_ALT_M = 600.0\nSAMPLE_ARMED = 1\n", ["SAMPLE_ARMED", "bool"]),
        ("HOVER_ALT_M = 600.0\nHOVER_ALT_M2 = 1.0\n", ["HOVER_ALT_M2", "no such parameter"]),
        ("HOVER_ALT_M = nan\n", ["HOVER_ALT_M", "nan"]),
        ("HOVER_ALT_M = 600.0\nPOS_GAIN = \n", ["not a valid parameter file"]),
        ("[section]\nHOVER_ALT_M = 600.0\n", ["section"]),
    ],
)
def test_a_bad_file_names_file_and_parameter_and_changes_nothing(tmp_path, text, names):
    path = tmp_path / "bad_params.toml"
    path.write_text(text)
    table = make_table()
    before = table.to_dict()
    with pytest.raises(ParamFileError) as info:
        table.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    for name in names:
        assert name in message
    assert table.to_dict() == before  # HOVER_ALT_M = 600.0 was valid, and still not applied


def test_a_missing_file_is_a_param_file_error(tmp_path):
    with pytest.raises(ParamFileError, match="cannot read"):
        make_table().load(tmp_path / "absent.toml")


# -- ParamService over a real codec ----------------------------------------------------

GCS = (255, 190)


class ServiceRig:
    def __init__(self):
        self.table = make_table()
        self.sent = []
        self.events = EventLog(SimClock())
        self.service = ParamService(self.table, self.sent.append, self.events)
        self.gcs = new_codec(*GCS)
        self.flight = new_codec(1, 1)

    def request(self, msg):
        """Pack at the ground, decode on board, handle; return the replies as decoded."""
        self.sent.clear()
        assert self.service.handle(self.flight.decode(bytearray(msg.pack(self.gcs))))
        return [self.gcs.decode(bytearray(m.pack(self.flight))) for m in self.sent]


def param_set(name, value, param_type):
    return mavlink.MAVLink_param_set_message(1, 1, name.encode(), value, param_type)


def test_param_set_replies_with_the_value_now_held():
    rig = ServiceRig()
    (reply,) = rig.request(param_set("HOVER_ALT_M", 812.5, mavlink.MAV_PARAM_TYPE_REAL32))
    assert (reply.get_type(), reply.param_id, reply.param_value) == ("PARAM_VALUE",
                                                                     "HOVER_ALT_M", 812.5)
    assert reply.param_type == mavlink.MAV_PARAM_TYPE_REAL32
    assert (reply.param_index, reply.param_count) == (0, len(rig.table))
    assert rig.table.get("HOVER_ALT_M") == 812.5
    assert rig.events.recent[-1].severity == Severity.INFO

    error, reply = rig.request(param_set("HOVER_ALT_M", 5e4, mavlink.MAV_PARAM_TYPE_REAL32))
    assert (error.get_type(), error.error) == ("PARAM_ERROR",
                                               mavlink.MAV_PARAM_ERROR_VALUE_OUT_OF_RANGE)
    assert reply.param_value == 812.5  # refused: the old value comes back
    assert rig.events.recent[-1].severity == Severity.WARNING
    assert "HOVER_ALT_M" in rig.events.recent[-1].text

    error, reply = rig.request(param_set("NAV_RATE_DIV", 5.0, mavlink.MAV_PARAM_TYPE_REAL32))
    assert error.get_type() == "PARAM_ERROR"  # wrong param_type for an integer
    assert reply.param_value == 1.0 and reply.param_type == mavlink.MAV_PARAM_TYPE_INT32
    (reply,) = rig.request(param_set("NAV_RATE_DIV", 5.0, mavlink.MAV_PARAM_TYPE_INT32))
    assert reply.param_value == 5.0 and rig.table.get("NAV_RATE_DIV") == 5

    (reply,) = rig.request(param_set("POS_GAIN", to_float32(GAIN_MAX),
                                     mavlink.MAV_PARAM_TYPE_REAL32))
    assert rig.table.get("POS_GAIN") == GAIN_MAX


def test_unknown_parameters_get_param_error():
    rig = ServiceRig()
    (reply,) = rig.request(param_set("NOPE", 1.0, mavlink.MAV_PARAM_TYPE_REAL32))
    assert reply.get_type() == "PARAM_ERROR"
    assert reply.error == mavlink.MAV_PARAM_ERROR_DOES_NOT_EXIST
    assert (reply.target_system, reply.target_component) == GCS
    (reply,) = rig.request(mavlink.MAVLink_param_request_read_message(1, 1, b"", 99))
    assert reply.get_type() == "PARAM_ERROR" and reply.param_index == 99


def test_list_and_read():
    rig = ServiceRig()
    replies = rig.request(mavlink.MAVLink_param_request_list_message(1, 1))
    assert [r.param_id for r in replies] == rig.table.names
    assert [r.param_index for r in replies] == list(range(len(rig.table)))
    assert [r.param_type for r in replies] == [
        mavlink.MAV_PARAM_TYPE_REAL32, mavlink.MAV_PARAM_TYPE_REAL32,
        mavlink.MAV_PARAM_TYPE_INT32, mavlink.MAV_PARAM_TYPE_UINT8,
        mavlink.MAV_PARAM_TYPE_REAL32,
    ]
    (by_name,) = rig.request(mavlink.MAVLink_param_request_read_message(1, 1, b"POS_GAIN", -1))
    (by_index,) = rig.request(mavlink.MAVLink_param_request_read_message(1, 1, b"ignored", 1))
    assert by_name.param_id == by_index.param_id == "POS_GAIN"
    assert by_name.param_value == pytest.approx(0.1, rel=1e-7)


def test_other_messages_are_not_handled():
    rig = ServiceRig()
    assert not rig.service.handle(mavlink.MAVLink_heartbeat_message(0, 0, 0, 0, 0, 3))
    assert rig.sent == []


@given(st.floats(width=32), st.sampled_from([mavlink.MAV_PARAM_TYPE_REAL32,
                                             mavlink.MAV_PARAM_TYPE_INT32]))
def test_param_set_always_gets_its_reply_and_keeps_the_range(value, param_type):
    """Accepted: one PARAM_VALUE.  Refused: PARAM_ERROR (its result code), then
    PARAM_VALUE with the value still held."""
    rig = ServiceRig()
    replies = rig.request(param_set("HOVER_ALT_M", value, param_type))
    held = rig.table.get("HOVER_ALT_M")
    assert HOVER_ALT_MIN_M <= held <= HOVER_ALT_MAX_M
    # Both bounds are exact float32s, so there is nothing to clamp here.
    accepted = (param_type == mavlink.MAV_PARAM_TYPE_REAL32
                and HOVER_ALT_MIN_M <= value <= HOVER_ALT_MAX_M)
    assert held == (value if accepted else 500.0)
    kinds = [r.get_type() for r in replies]
    assert kinds == (["PARAM_VALUE"] if accepted else ["PARAM_ERROR", "PARAM_VALUE"])
    if not accepted:
        assert replies[0].error == mavlink.MAV_PARAM_ERROR_VALUE_OUT_OF_RANGE
    assert replies[-1].param_value == held
