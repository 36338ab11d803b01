"""The firmware's receiver (hil/firmware/mavlink_rx.c), built for the host: every intact
frame comes out of garbage, as with the flight side's FrameReader."""

import random
import shutil
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.icd import mavlink, new_codec
from hil.firmware_build import FIRMWARE_DIR, ROOT, XML_DIR

IDLE = bytes([0xA5, 0x5A, 0x1D, 0x1E])  # the harness's "line went quiet" marker
CODEC = new_codec(3, 1)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not (XML_DIR / "common.xml").exists():
        pytest.skip("firmware receiver: no host C compiler or no MAVLink XML in .cache")
    tmp = tmp_path_factory.mktemp("rx")
    xml = tmp / "xml"
    xml.mkdir()
    for name in ("common.xml", "standard.xml", "minimal.xml"):
        shutil.copy(XML_DIR / name, xml / name)
    shutil.copy(ROOT / "flightsw" / "icd" / "prospector.xml", xml / "prospector.xml")
    subprocess.run([sys.executable, "-m", "pymavlink.tools.mavgen", "--lang=C",
                    "--wire-protocol=2.0", "-o", str(tmp / "mavlink"), str(xml / "prospector.xml")],
                   check=True, capture_output=True)
    exe = tmp / "rx_harness"
    subprocess.run([cc, "-O2", "-I", str(FIRMWARE_DIR), "-isystem", str(tmp / "mavlink"),
                    "-o", str(exe), str(FIRMWARE_DIR / "host" / "rx_harness.c"),
                    str(FIRMWARE_DIR / "mavlink_rx.c")], check=True, capture_output=True)
    return exe


def _frame(i: int) -> bytes:
    CODEC.seq = i % 256
    msg = mavlink.MAVLink_highres_imu_message(i, 0.5, -0.25, 9.81, 1e-3, 2e-3, 3e-3,
                                              0, 0, 0, 0, 0, 0, 20.0, 63, 0)
    return bytes(msg.pack(CODEC))


def _run(harness, stream: bytes):
    out = subprocess.run([str(harness)], input=stream, capture_output=True, check=True).stdout
    lines = out.decode().splitlines()
    frames = [tuple(int(x) for x in line.split()) for line in lines[:-1]]
    return frames, lines[-1]


garbage = st.one_of(
    st.binary(min_size=1, max_size=300),
    st.builds(lambda n, tail: bytes([0xFD, n]) + tail, st.integers(0, 255),
              st.binary(max_size=40)),
    st.builds(lambda i, cut: _frame(i)[:cut], st.integers(0, 999), st.integers(1, 40)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), garbage, st.booleans()), min_size=1, max_size=30))
def test_every_intact_frame_comes_out(harness, pieces):
    stream = bytearray()
    for i, (junk_first, junk, pause) in enumerate(pieces):
        if junk_first:
            stream += junk
        stream += _frame(i)
        if pause:
            stream += IDLE  # the line goes quiet after this frame
    frames, _ = _run(harness, bytes(stream))
    assert frames == [(mavlink.MAVLINK_MSG_ID_HIGHRES_IMU, i % 256) for i in range(len(pieces))]


def test_a_frame_caught_in_a_false_candidate_comes_out_when_the_line_goes_quiet(harness):
    stream = bytes([0xFD, 0xF0, 0, 0, 7]) + _frame(1)
    frames, _ = _run(harness, stream)  # the harness ends with the line quiet
    assert frames == [(mavlink.MAVLINK_MSG_ID_HIGHRES_IMU, 1)]


def test_counters(harness):
    rng = random.Random(4)
    junk = bytes(rng.randrange(256) for _ in range(2000))
    frames, counters = _run(harness, junk + _frame(5) + junk + _frame(6))
    assert [f[1] for f in frames] == [5, 6]
    assert counters.startswith("frames 2 ")
