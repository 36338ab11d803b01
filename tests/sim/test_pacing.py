"""The pacer against a fake clock: when it waits, and for how long (no real time involved)."""

import math

import pytest

from sim.pacing import Pacer, PacingError, speedup_from_options


class FakeTime:
    def __init__(self):
        self.now_s = 100.0
        self.slept_s: list[float] = []

    def monotonic(self) -> float:
        self.now_s += 1e-6  # every look at the clock costs a microsecond (ends the spin)
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.slept_s.append(seconds)
        self.now_s += seconds


def test_options_give_the_speedup():
    assert speedup_from_options(False, None) is None
    assert speedup_from_options(True, None) == 1.0
    assert speedup_from_options(False, 20) == 20.0


@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf])
def test_a_speedup_that_is_not_a_positive_number_is_refused(value):
    with pytest.raises(PacingError, match="--speedup"):
        speedup_from_options(False, value)


def test_realtime_and_speedup_together_are_refused():
    with pytest.raises(PacingError, match="--realtime"):
        speedup_from_options(True, 2.0)


@pytest.mark.parametrize("speedup", [1.0, 20.0, 0.5])
def test_each_frame_waits_until_its_share_of_wall_time(speedup):
    fake = FakeTime()
    pacer = Pacer(speedup, fake.monotonic, fake.sleep)
    start = fake.now_s
    for frame in range(11):
        pacer.wait_for(frame * 100_000)  # 10 Hz frames
        due = start + frame * 0.1 / speedup
        assert fake.now_s >= due
        assert fake.now_s - due < 1e-3  # it spun out the rest, it did not oversleep
    assert pacer.late_frames == 0


def test_a_late_frame_is_counted_and_not_waited_for():
    fake = FakeTime()
    pacer = Pacer(1.0, fake.monotonic, fake.sleep)
    pacer.wait_for(0)
    fake.now_s += 0.35  # the machine stalled for three and a half frames
    slept = len(fake.slept_s)
    for frame in (1, 2, 3):
        pacer.wait_for(frame * 100_000)
    assert len(fake.slept_s) == slept  # caught up at full speed
    assert pacer.late_frames == 3
    assert pacer.stats()["max_late_s"] == pytest.approx(0.25, abs=1e-3)
    pacer.wait_for(4 * 100_000)  # back on time: waits again
    assert len(fake.slept_s) == slept + 1 and pacer.late_frames == 3
