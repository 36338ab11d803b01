"""Housekeeping (flightsw/components/housekeeping.py): the HEARTBEAT carries the mode, the
scheduler's statistics go down at 0.1 Hz and RESET_SCHED_STATS zeroes them.  Real mode
manager, dispatcher and scheduler on a simulated clock."""

from flightsw.components.housekeeping import Housekeeping
from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.scheduler import RateGroup, Scheduler, Task
from flightsw.icd import mavlink

FRAME_US = 100_000  # 10 Hz


def rig(timing_telemetry=True):
    clock = SimClock()
    events = EventLog(clock)
    modes = ModeManager(clock, events, initial=Mode.STANDBY)
    sent = []
    commands = CommandDispatcher(modes, events, sent.append)
    scheduler = Scheduler(clock, [RateGroup("fast", 10, [Task("work", lambda t: None, 1000)]),
                                  RateGroup("background", 0.1, [])],
                          timing_telemetry=timing_telemetry)
    hk = Housekeeping(modes, commands, sent.append)
    hk.watch(scheduler)
    return clock, modes, commands, scheduler, hk, sent


def run(clock, scheduler, frames):
    for _ in range(frames):
        scheduler.run_frame()
        clock.advance_by_us(FRAME_US)


def test_heartbeat_carries_the_current_mode():
    clock, modes, _, _, hk, sent = rig()
    hk.send_heartbeat()
    modes.request(Mode.HOVER)
    hk.send_heartbeat()
    assert [m.custom_mode for m in sent] == [Mode.STANDBY, Mode.HOVER]


def test_task_statistics_go_down_every_ten_seconds_for_every_task():
    """One PROBE_TASK_STATS per task at 0.1 Hz, counting the task's runs so far."""
    clock, _, _, scheduler, _, sent = rig()
    run(clock, scheduler, 201)  # 0 s to 20 s
    stats = [m for m in sent if m.get_type() == "PROBE_TASK_STATS"]
    assert [m.time_usec for m in stats if m.task == "work"] == [0, 10_000_000, 20_000_000]
    assert {m.task for m in stats} == {"work", "sched_tlm"}
    assert [m.runs for m in stats if m.task == "work"] == [1, 101, 201]


def test_reset_sched_stats_zeroes_the_counts_and_is_acknowledged():
    """RESET_SCHED_STATS from the ground: ACCEPTED, and counting starts again from zero."""
    clock, _, commands, scheduler, _, sent = rig()
    run(clock, scheduler, 50)
    assert scheduler.stats()["tasks"]["work"]["runs"] == 50
    result = commands.dispatch(mavlink.PROBE_CMD_RESET_SCHED_STATS, (), source="ground")
    assert result == CommandResult.ACCEPTED
    assert scheduler.stats()["tasks"]["work"]["runs"] == 0
    run(clock, scheduler, 3)
    assert scheduler.stats()["tasks"]["work"]["runs"] == 3
