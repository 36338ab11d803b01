"""The monitor table and the monitor bank (flightsw/fault/) on their own.

Pinned here: a monitor trips on exactly its `persistence`-th consecutive failing check
and reports it once (True, one event naming the monitor, the reason and the response);
a passing check clears it with one `clear` event; a disabled monitor never trips; the
MONITOR_ENABLE and MONITOR_RESET ground commands, through the real dispatcher, do what
they say, and an id that names no monitor gets INVALID_PARAM and changes nothing; the
telemetry masks put monitor k on bit k.

The oracle of the persistence property is a counter written here (the number of
consecutive failing checks so far), not the bank's own count.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.fault.monitor_bank import SOURCE, MonitorBank
from flightsw.fault.monitor_table import BY_ID, MONITORS, MonitorId, Response
from flightsw.icd import mavlink

ENABLE = mavlink.PROBE_CMD_MONITOR_ENABLE
RESET = mavlink.PROBE_CMD_MONITOR_RESET
ENABLED_AT_START = [spec for spec in MONITORS if spec.enabled]


def make():
    clock = SimClock()
    sent = []
    events = EventLog(clock, sent.append)
    modes = ModeManager(clock, events, initial=Mode.SAFE)
    commands = CommandDispatcher(modes, events, sent.append)
    return MonitorBank(events, commands), events, commands


def faultprot_texts(events):
    return [e.text for e in events.recent if e.source == SOURCE]


def state(bank):
    """Everything a command could change, for 'changed nothing' checks."""
    return (dict(bank.enabled), dict(bank.count), dict(bank.tripped), dict(bank.trips),
            bank.masks(), bank.trip_counts())


# -- the table -----------------------------------------------------------------------------

def test_the_table_has_one_row_per_icd_monitor_with_the_icd_numbers():
    icd = {k[len("PROBE_MONITOR_"):]: v for k, v in vars(mavlink).items()
           if k.startswith("PROBE_MONITOR_") and k != "PROBE_MONITOR_ENUM_END"}
    assert {m.name: int(m) for m in MonitorId} == icd
    assert [spec.monitor for spec in MONITORS] == sorted(MonitorId)
    for spec in MONITORS:
        assert spec.persistence >= 1 and spec.rate_hz > 0
        assert spec.detection_s == (spec.persistence - 1) / spec.rate_hz


# -- persistence, trips, clears ---------------------------------------------------------------

@pytest.mark.parametrize("spec", ENABLED_AT_START, ids=lambda s: s.monitor.name)
def test_a_monitor_trips_on_exactly_its_persistence_th_failing_check_and_once(spec):
    bank, events, _ = make()
    m = spec.monitor
    for k in range(spec.persistence - 1):
        assert bank.check(m, True, f"bad {k}") is False
        assert not bank.is_tripped(m)
    assert faultprot_texts(events) == []
    assert bank.check(m, True, "bad at last") is True
    assert bank.is_tripped(m)
    (event,) = [e for e in events.recent if e.source == SOURCE]
    assert event.text == f"trip {m.name}: bad at last; response {spec.response.name}"
    expected = Severity.WARNING if spec.response <= Response.DUMP else Severity.ERROR
    assert event.severity == expected
    for _ in range(5):  # still failing: tripped, but reported once
        assert bank.check(m, True, "still bad") is False
    assert len(faultprot_texts(events)) == 1
    assert bank.trips[m] == 1


@settings(max_examples=60, deadline=None)
@given(spec=st.sampled_from(ENABLED_AT_START),
       checks=st.lists(st.booleans(), min_size=1, max_size=40))
def test_trips_follow_runs_of_consecutive_failing_checks(spec, checks):
    """Oracle: a run of failing checks trips once, on its persistence-th check; a passing
    check after a trip clears it (one event); nothing else is reported."""
    bank, events, _ = make()
    m = spec.monitor
    run, tripped = 0, False
    expected_texts = []
    for k, failing in enumerate(checks):
        got = bank.check(m, failing, f"check {k}")
        run = run + 1 if failing else 0
        trips_now = failing and run == spec.persistence
        assert got is trips_now
        if trips_now:
            expected_texts.append(f"trip {m.name}: check {k}; response {spec.response.name}")
            tripped = True
        elif not failing and tripped:
            expected_texts.append(f"clear {m.name}")
            tripped = False
        assert bank.is_tripped(m) is tripped
    assert faultprot_texts(events) == expected_texts


def test_a_passing_check_clears_a_trip_with_one_event_and_rearms_the_count():
    bank, events, _ = make()
    m = MonitorId.NAV_COVARIANCE  # persistence 3
    for _ in range(3):
        bank.check(m, True, "sigma")
    assert bank.check(m, False) is False
    assert not bank.is_tripped(m)
    assert bank.check(m, False) is False  # clear again: no second event
    assert faultprot_texts(events) == ["trip NAV_COVARIANCE: sigma; response SAFE",
                                       "clear NAV_COVARIANCE"]
    assert bank.check(m, True, "a") is False and bank.check(m, True, "b") is False
    assert bank.check(m, True, "c") is True  # needs the full persistence again
    assert bank.trips[m] == 2


def test_a_response_given_by_the_caller_is_the_one_reported():
    bank, events, _ = make()
    assert bank.check(MonitorId.TASK, True, "x", response=Response.SAFE) is True
    assert faultprot_texts(events) == ["trip TASK: x; response SAFE"]
    assert events.recent[-1].severity == Severity.ERROR


def test_a_monitor_disabled_in_the_table_never_trips():
    bank, events, _ = make()
    (disabled,) = [spec.monitor for spec in MONITORS if not spec.enabled]
    assert disabled == MonitorId.LINK
    for _ in range(100):
        assert bank.check(disabled, True, "silent") is False
    assert not bank.is_tripped(disabled) and bank.count[disabled] == 0
    assert bank.trips[disabled] == 0 and faultprot_texts(events) == []


# -- ground commands ------------------------------------------------------------------------

def test_monitor_enable_command_disables_and_enables():
    bank, events, commands = make()
    m = MonitorId.IMU  # persistence 2
    assert commands.dispatch(ENABLE, (int(m), 0)) == CommandResult.ACCEPTED
    assert not bank.enabled[m]
    for _ in range(10):
        assert bank.check(m, True, "no imu") is False
    assert commands.dispatch(ENABLE, (int(m), 1)) == CommandResult.ACCEPTED
    assert bank.enabled[m]
    assert bank.check(m, True, "no imu") is False
    assert bank.check(m, True, "no imu") is True
    assert faultprot_texts(events) == ["monitor IMU disabled", "monitor IMU enabled",
                                       "trip IMU: no imu; response BACKUP"]


def test_the_link_monitor_disabled_at_start_can_be_enabled_and_then_trips():
    bank, _, commands = make()
    assert commands.dispatch(ENABLE, (int(MonitorId.LINK), 1)) == CommandResult.ACCEPTED
    assert bank.check(MonitorId.LINK, True, "no ground") is True  # persistence 1


def test_disabling_a_tripped_monitor_clears_it():
    bank, _, commands = make()
    m = MonitorId.POWER
    for _ in range(3):
        bank.check(m, True, "low")
    assert bank.is_tripped(m)
    assert commands.dispatch(ENABLE, (int(m), 0)) == CommandResult.ACCEPTED
    assert not bank.is_tripped(m) and bank.count[m] == 0
    enabled, tripped, failing = bank.masks()
    assert not enabled & (1 << int(m)) and not tripped & (1 << int(m))
    assert not failing & (1 << int(m))
    assert bank.trips[m] == 1  # the count of trips is history: kept


def test_monitor_reset_rearms_a_tripped_monitor():
    bank, events, commands = make()
    m = MonitorId.THRUSTER  # persistence 3
    for _ in range(3):
        bank.check(m, True, "dv")
    assert commands.dispatch(RESET, (int(m),)) == CommandResult.ACCEPTED
    assert not bank.is_tripped(m) and bank.count[m] == 0 and bank.enabled[m]
    assert "monitor THRUSTER reset" in faultprot_texts(events)
    assert "clear THRUSTER" not in faultprot_texts(events)  # reset, not cleared
    # Still failing: it trips again after the full persistence.
    assert [bank.check(m, True, "dv") for _ in range(3)] == [False, False, True]
    assert bank.trips[m] == 2


@pytest.mark.parametrize("command_id", [ENABLE, RESET])
@pytest.mark.parametrize("monitor_id", [16, 17, 255, 1e6, -1, 2.5, -0.5, 15.000001])
def test_a_command_naming_no_monitor_is_invalid_param_and_changes_nothing(command_id,
                                                                         monitor_id):
    bank, events, commands = make()
    for _ in range(3):  # some state to keep: POWER tripped, IMU failing once
        bank.check(MonitorId.POWER, True, "low")
    bank.check(MonitorId.IMU, True, "late")
    before = state(bank)
    texts = faultprot_texts(events)
    assert commands.dispatch(command_id, (monitor_id, 0)) == CommandResult.INVALID_PARAM
    assert state(bank) == before
    assert faultprot_texts(events) == texts


@pytest.mark.parametrize("monitor_id", [16, 99, 1e9, 2.5, -0.5, float("inf"), float("nan")])
def test_the_handlers_refuse_an_id_that_names_no_monitor_on_their_own(monitor_id):
    """A second line of defence behind the ground-command table's checks (the table's
    MAX_MONITOR_ID is derived from the ICD, the handler's from MonitorId): 2.5 is not
    NAVCAM, -0.5 not STAR_TRACKER, and infinity does not raise."""
    bank, _, _ = make()
    before = state(bank)
    assert bank._cmd_enable((monitor_id, 0.0) + (0.0,) * 5) == CommandResult.INVALID_PARAM
    assert bank._cmd_reset((monitor_id,) + (0.0,) * 6) == CommandResult.INVALID_PARAM
    assert state(bank) == before


@settings(max_examples=50, deadline=None)
@given(monitor_id=st.floats(-1e3, 1e3, allow_nan=False))
def test_monitor_enable_is_accepted_exactly_for_the_ids_of_monitors(monitor_id):
    bank, _, commands = make()
    before = state(bank)
    result = commands.dispatch(ENABLE, (monitor_id, 0))
    names_a_monitor = monitor_id == int(monitor_id) and int(monitor_id) in set(MonitorId)
    assert (result == CommandResult.ACCEPTED) == names_a_monitor
    if names_a_monitor:
        assert not bank.enabled[MonitorId(int(monitor_id))]
    else:
        assert result == CommandResult.INVALID_PARAM and state(bank) == before


# -- telemetry ------------------------------------------------------------------------------

def test_masks_put_monitor_k_on_bit_k():
    bank, _, commands = make()
    all_bits = (1 << len(MonitorId)) - 1
    assert bank.masks() == (all_bits & ~(1 << int(MonitorId.LINK)), 0, 0)
    bank.check(MonitorId.STAR_TRACKER, True, "x")
    bank.check(MonitorId.STAR_TRACKER, True, "x")  # persistence 2: tripped
    bank.check(MonitorId.GYRO_BIAS, True, "x")  # persistence 5: failing once
    commands.dispatch(ENABLE, (int(MonitorId.WHEEL), 0))
    enabled, tripped, failing = bank.masks()
    assert enabled == all_bits & ~(1 << 14) & ~(1 << 7)
    assert tripped == 1 << 0
    assert failing == (1 << 0) | (1 << 15)
    counts = bank.trip_counts()
    assert len(counts) == 16 and counts[0] == 1 and sum(counts) == 1


def test_trip_counts_saturate_at_the_field_width():
    bank, _, _ = make()
    bank.trips[MonitorId.TASK] = 70_000
    assert bank.trip_counts()[int(MonitorId.TASK)] == 0xFFFF


def test_spec_rows_are_what_the_bank_uses():
    """The persistence the bank applies is the table's (BY_ID), for every monitor."""
    for m in MonitorId:
        bank, _, commands = make()
        commands.dispatch(ENABLE, (int(m), 1))
        n = 0
        while not bank.check(m, True, "x"):
            n += 1
            assert n < 1000
        assert n + 1 == BY_ID[m].persistence
