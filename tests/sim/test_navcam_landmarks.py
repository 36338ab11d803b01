"""Landmark sightings from the simulator's camera to the flight software's driver:
one PROBE_NAVCAM_LANDMARKS message per 8 landmarks of an image, through real
MAVLink framing, and back out as the same sightings in the same order."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.hal.bus import BusPort
from flightsw.hal.drivers import NavCamera
from flightsw.icd import mavlink
from sim.sensors import LANDMARKS_PER_MESSAGE, landmark_messages
from sim.simbus import SimBus

SIGMA_RAD = 1e-4


def _camera():
    bus = SimBus()  # packs what the world hands it and decodes it again
    port = BusPort(bus, now_us=lambda: 0)
    return bus, port, NavCamera(port)


unit = st.tuples(*[st.floats(-1.0, 1.0)] * 3).filter(
    lambda v: 0.1 < float(np.linalg.norm(v))).map(
        lambda v: tuple(np.asarray(v) / np.linalg.norm(v)))


@given(seen=st.lists(st.tuples(st.integers(0, 65535), unit), max_size=20))
@settings(max_examples=60, deadline=None)
def test_an_image_arrives_as_the_same_sightings_in_order(seen):
    msgs = landmark_messages(123_456, seen, SIGMA_RAD)
    # ceil(n / 8) messages, each full but the last.
    assert len(msgs) == -(-len(seen) // LANDMARKS_PER_MESSAGE)
    assert [m.count for m in msgs[:-1]] == [LANDMARKS_PER_MESSAGE] * (len(msgs) - 1)
    bus, port, cam = _camera()
    for m in msgs:
        bus.deliver(m)
    port.pump()
    got = cam.take_sightings()
    assert [s.landmark_id for s in got] == [k for k, _ in seen]
    for s, (_, u) in zip(got, seen, strict=True):
        assert s.t_us == 123_456
        # float32 on the wire: 6e-8 relative per component.
        assert np.allclose(s.los_sc, u, rtol=0.0, atol=1.2e-7)
        assert s.sigma_rad == np.float32(SIGMA_RAD)
    assert cam.sightings_count == len(seen)
    assert cam.invalid_count == 0
    assert cam.take_sightings() == []


def test_a_count_beyond_the_message_keeps_what_it_holds_and_is_counted():
    bus, port, cam = _camera()
    ids = list(range(10, 18))
    los = [0.0, 0.0, 1.0] * 8
    bus.deliver(mavlink.MAVLink_probe_navcam_landmarks_message(5, 200, ids, los, SIGMA_RAD))
    port.pump()
    assert [s.landmark_id for s in cam.take_sightings()] == ids
    assert cam.invalid_count == 1
