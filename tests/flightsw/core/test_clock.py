"""SimClock and WallClock (the latter driven by a fake time source)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.core.clock import Clock, SimClock, WallClock

MICROSECOND_NS = 1_000


@given(st.lists(st.integers(min_value=-10**12, max_value=10**12), max_size=50))
def test_simclock_never_goes_backwards(targets_us):
    clock = SimClock(start_us=0)
    for t_us in targets_us:
        before_us = clock.now_us()
        if t_us < before_us:
            with pytest.raises(ValueError, match="backwards"):
                clock.advance_to_us(t_us)
            assert clock.now_us() == before_us
        else:
            clock.advance_to_us(t_us)
            assert clock.now_us() == t_us
        assert clock.now_s() == clock.now_us() / 1e6


@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=50))
def test_simclock_sleep_only_moves_forward_and_reports_lateness(targets_us):
    clock = SimClock(start_us=500)
    for t_us in targets_us:
        before_us = clock.now_us()
        lateness_us = clock.sleep_until_us(t_us)
        assert clock.now_us() == max(before_us, t_us)
        assert lateness_us == max(0, before_us - t_us)


def test_simclock_is_integer_microseconds():
    clock = SimClock()
    for _ in range(3):
        clock.advance_by_us(333_333)
    assert clock.now_us() == 999_999 and isinstance(clock.now_us(), int)
    with pytest.raises(TypeError):
        clock.advance_to_us(1.5e6)
    with pytest.raises(TypeError):
        SimClock(start_us=True)
    with pytest.raises(ValueError):
        clock.advance_by_us(-1)


def test_both_clocks_satisfy_the_protocol():
    assert isinstance(SimClock(), Clock)
    assert isinstance(WallClock(), Clock)


class FakeTime:
    """A nanosecond counter that advances by `spin_step_ns` each time it is read
    (so a busy-wait terminates) and by the requested duration (plus an
    oversleep) when slept on."""

    def __init__(self, start_ns=7_000_000_000, spin_step_ns=0, oversleep_ns=0):
        self.now_ns = start_ns
        self.spin_step_ns = spin_step_ns
        self.oversleep_ns = oversleep_ns
        self.sleeps_s = []

    def time_ns(self):
        self.now_ns += self.spin_step_ns
        return self.now_ns

    def sleep(self, duration_s):
        self.sleeps_s.append(duration_s)
        self.now_ns += round(duration_s * 1e9) + self.oversleep_ns


def test_wallclock_mission_time_is_elapsed_since_construction():
    fake = FakeTime()
    clock = WallClock(time_ns=fake.time_ns, sleep_s=fake.sleep)
    assert clock.now_us() == 0
    fake.now_ns += 2_500_999
    assert clock.now_us() == 2_500
    assert clock.now_s() == pytest.approx(2.5e-3)


def test_wallclock_sleeps_then_spins_to_the_deadline():
    fake = FakeTime(spin_step_ns=3 * MICROSECOND_NS)
    clock = WallClock(spin_us=500, time_ns=fake.time_ns, sleep_s=fake.sleep)
    start_us = clock.now_us()
    lateness_us = clock.sleep_until_us(start_us + 10_000)
    # One OS sleep that stops short of the deadline by about spin_us...
    assert len(fake.sleeps_s) == 1
    assert fake.sleeps_s[0] == pytest.approx((10_000 - 500) * 1e-6, abs=10e-6)
    # ...then the spin reaches it within one read of the counter.
    assert clock.now_us() >= start_us + 10_000
    assert 0 <= lateness_us <= 3 + 3


def test_wallclock_does_not_sleep_inside_the_spin_window_or_for_past_deadlines():
    fake = FakeTime(spin_step_ns=MICROSECOND_NS)
    clock = WallClock(spin_us=500, time_ns=fake.time_ns, sleep_s=fake.sleep)
    clock.sleep_until_us(clock.now_us() + 400)
    assert fake.sleeps_s == []
    fake.now_ns += 50_000 * MICROSECOND_NS
    lateness_us = clock.sleep_until_us(1_000)
    assert fake.sleeps_s == []
    assert lateness_us >= 49_000


def test_wallclock_reports_an_oversleep_as_lateness():
    fake = FakeTime(spin_step_ns=0, oversleep_ns=2_000 * MICROSECOND_NS)
    clock = WallClock(spin_us=500, time_ns=fake.time_ns, sleep_s=fake.sleep)
    lateness_us = clock.sleep_until_us(20_000)
    assert lateness_us == pytest.approx(1_500, abs=2)


def test_wallclock_rejects_negative_spin():
    with pytest.raises(ValueError, match="spin_us"):
        WallClock(spin_us=-1)
