"""The executive's watchdog over fault protection (flightsw/core/watchdog.py), alone with
stand-in responses, then inside the whole flight software on its real scheduler.

Pinned: petted every second it never bites; silent strictly longer than its timeout it
bites once (trip event, RESTART), silent as long again after the restart it bites again
(trip event, SAFE asked every frame until under way), a pet at any stage clears it
(event) and re-arms it; a response that raises is reported and the executive goes on.
In the flight software: fault protection's task raising for ever is answered by a
restart of fault protection 3.1 s after its last good run and by SAFE 3.1 s later; a
raising spell shorter than the timeout goes unnoticed by the watchdog; one longer is
answered by the restart and cleared when fault protection runs again, no SAFE; a
nominal minute never trips it.  Time is the frames' and the SimClock's only.
"""

import pytest

from flightsw.app import FlightSoftware
from flightsw.components.safe_mode import SafePhase
from flightsw.core.clock import SimClock
from flightsw.core.events import EventLog
from flightsw.core.modes import Mode
from flightsw.core.watchdog import SOURCE, Stage, Watchdog
from tests.flightsw.test_app import CONFIG, MockBus

S = 1_000_000
FRAME_US = 100_000


class Responses:
    def __init__(self, safe_answers=(True,)):
        self.restarts, self.safes = [], []
        self.safe_answers = list(safe_answers)
        self.restart_raises = False

    def restart(self, t_us):
        self.restarts.append(t_us)
        if self.restart_raises:
            raise RuntimeError("restart failed")

    def safe(self, t_us, reason):
        self.safes.append((t_us, reason))
        return self.safe_answers.pop(0) if len(self.safe_answers) > 1 else self.safe_answers[0]


def make(timeout_s=3.0, **kw):
    clock = SimClock(0)
    events = EventLog(clock, None)
    r = Responses(**kw)
    dog = Watchdog(events, timeout_s, r.restart, r.safe)
    dog.clock = clock  # the test's: events are stamped with the frame's time
    return dog, r, events


def frames(dog, t0_us, t1_us, pet_every_us=None):
    """The executive's looks at every frame in [t0, t1); a pet each pet_every_us."""
    for t in range(t0_us, t1_us, FRAME_US):
        dog.clock.advance_to_us(t)
        if pet_every_us and t % pet_every_us == 0:
            dog.pet(t)
        dog.check(t)


def texts(events, source=SOURCE):
    return [(e.time_us, e.text) for e in events.recent if e.source == source]


def test_petted_every_second_it_never_bites():
    dog, r, events = make()
    frames(dog, 0, 1000 * S, pet_every_us=S)
    assert dog.bites == 0 and r.restarts == [] and r.safes == [] and texts(events) == []


def test_silent_longer_than_its_timeout_it_restarts_then_safes():
    dog, r, events = make()
    frames(dog, 0, 10 * S + FRAME_US, pet_every_us=S)  # last pet at 10 s
    frames(dog, 10 * S + FRAME_US, 13 * S + FRAME_US)
    assert r.restarts == []  # silent exactly 3.0 s at 13.0 s: not yet
    frames(dog, 13 * S + FRAME_US, 13 * S + 2 * FRAME_US)
    assert r.restarts == [13 * S + FRAME_US] and dog.stage == Stage.RESTARTED
    frames(dog, 13 * S + 2 * FRAME_US, 20 * S)
    assert r.safes == [(16 * S + 2 * FRAME_US, "fault_prot silent after its restart")]
    assert dog.stage == Stage.SAFE and dog.bites == 2 and dog.restarts == 1
    assert texts(events) == [
        (13 * S + FRAME_US, "trip TASK: fault_prot silent for 3.1 s; response RESTART"),
        (16 * S + 2 * FRAME_US,
         "trip TASK: fault_prot silent for 3.1 s after its restart; response SAFE")]
    frames(dog, 20 * S, 100 * S)
    assert dog.bites == 2 and len(r.safes) == 1  # nothing more while it stays silent


@pytest.mark.parametrize("stage_after_s", [5.0, 8.0])
def test_a_pet_after_a_bite_clears_and_rearms(stage_after_s):
    dog, r, events = make()
    frames(dog, 0, round(stage_after_s * S))  # silent from the start: bitten once or twice
    assert dog.stage in (Stage.RESTARTED, Stage.SAFE)
    t = round(stage_after_s * S)
    dog.clock.advance_to_us(t)
    dog.pet(t)
    dog.check(t)
    assert dog.stage == Stage.ARMED
    assert texts(events)[-1] == (t, "clear TASK (fault_prot answering again)")
    bites = dog.bites
    frames(dog, t + FRAME_US, t + 100 * S, pet_every_us=S)
    assert dog.bites == bites


def test_safe_is_asked_again_every_frame_until_under_way():
    dog, r, events = make(safe_answers=(False, False, True))
    frames(dog, 0, 10 * S)
    assert [t for t, _ in r.safes] == [6_200_000, 6_300_000, 6_400_000]
    assert dog.stage == Stage.SAFE


def test_a_raising_response_is_reported_and_the_next_stage_follows():
    dog, r, events = make()
    r.restart_raises = True
    frames(dog, 0, 7 * S)
    assert (3_100_000, "restart raised RuntimeError: restart failed") in texts(events)
    assert len(r.safes) == 1 and dog.stage == Stage.SAFE


def test_a_timeout_must_be_positive():
    with pytest.raises(ValueError, match="timeout_s"):
        make(timeout_s=0.0)


def test_the_scheduler_outlives_a_raising_watchdog():
    fsw = FlightSoftware(CONFIG, MockBus(), SimClock(0))

    def broken(t_us):
        raise RuntimeError("bad watchdog")

    fsw.scheduler.set_watchdog(broken)
    for _ in range(3):
        fsw.run_frame()
        fsw.clock.advance_by_us(FRAME_US)
    assert fsw.scheduler.frame == 3
    assert [e.text for e in fsw.events.recent if e.source == "sched"] == [
        "watchdog raised RuntimeError: bad watchdog"] * 3


# -- inside the flight software ----------------------------------------------------------------

def fly(fsw, until_us):
    while fsw.clock.now_us() < until_us:
        fsw.run_frame()
        fsw.clock.advance_by_us(FRAME_US)


def standby_flight():
    bus = MockBus()
    fsw = FlightSoftware(CONFIG, bus, SimClock(0))
    assert fsw.modes.request(Mode.STANDBY, "test") == 0
    return fsw, bus


def event_texts(fsw, source):
    return [(e.time_us, e.text) for e in fsw.events.recent if e.source == source]


def test_a_raising_fault_protection_task_is_answered_within_bounded_time():
    """Raising from 20.05 s on: its last good run at 20 s; the restart at 23.1 s (3.1 s
    after), SAFE at 26.2 s, forced, with the SAFE sequence started; both bites in
    SYS_STATUS."""
    fsw, bus = standby_flight()
    fly(fsw, 20 * S + 50_000)
    fsw.scheduler.set_task_fault("fault_prot", lambda t_us: t_us > 20 * S)
    fly(fsw, 40 * S)
    assert event_texts(fsw, SOURCE) == [
        (23_100_000, "trip TASK: fault_prot silent for 3.1 s; response RESTART"),
        (26_200_000, "trip TASK: fault_prot silent for 3.1 s after its restart; response SAFE")]
    assert (23_100_000, "restarted") in event_texts(fsw, "faultprot")
    change = fsw.modes.history[-1]
    assert (change.time_us, change.new, change.forced) == (26_200_000, Mode.SAFE, True)
    assert change.reason == "watchdog: fault_prot silent after its restart"
    assert fsw.safe_mode.phase == SafePhase.DAMP
    last = bus.of_type("SYS_STATUS")[-1]
    assert (last.errors_count1, last.errors_count2) == (2, 1)


def test_a_short_raising_spell_goes_unnoticed_and_a_longer_one_is_cured_by_the_restart():
    fsw, bus = standby_flight()
    fsw.scheduler.set_task_fault("fault_prot", lambda t_us: 10 * S < t_us < 13 * S)
    fly(fsw, 30 * S)
    assert fsw.watchdog.bites == 0 and event_texts(fsw, SOURCE) == []
    fsw.scheduler.set_task_fault("fault_prot", lambda t_us: 40 * S < t_us < 45 * S)
    fly(fsw, 60 * S)
    assert event_texts(fsw, SOURCE) == [
        (43_100_000, "trip TASK: fault_prot silent for 3.1 s; response RESTART"),
        (45_000_000, "clear TASK (fault_prot answering again)")]
    assert fsw.modes.current == Mode.STANDBY and fsw.watchdog.stage == Stage.ARMED


def test_a_nominal_flight_never_trips_the_watchdog():
    fsw, bus = standby_flight()
    fly(fsw, 120 * S)
    assert fsw.watchdog.bites == 0 and event_texts(fsw, SOURCE) == []
    assert all(m.errors_count1 == 0 for m in bus.of_type("SYS_STATUS"))
