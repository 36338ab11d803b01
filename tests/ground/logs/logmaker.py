"""Valid .tlog logs for the reader tests: hypothesis strategies and plain builders."""

import struct

from hypothesis import strategies as st

from flightsw.icd import mavlink, new_codec

_TS = struct.Struct(">Q")
EPOCH_US = 1_603_152_000_000_000

f32 = st.floats(width=32, allow_nan=True, allow_infinity=True)
f32_small = st.one_of(st.just(0.0), st.floats(-1e3, 1e3, width=32))  # zeros get trimmed
u8, u16, u32 = (st.integers(0, 2**k - 1) for k in (8, 16, 32))
text = st.binary(min_size=0, max_size=50).map(lambda b: b.replace(b"\0", b"x"))

messages = st.one_of(
    st.builds(mavlink.MAVLink_heartbeat_message, u8, u8, u8, u32, u8, u8),
    st.builds(mavlink.MAVLink_statustext_message, st.integers(0, 7), text, u16, u8),
    st.builds(lambda n, v, t: mavlink.MAVLink_param_set_message(1, 1, n, v, t),
              st.binary(min_size=1, max_size=16).map(lambda b: b.replace(b"\0", b"A")), f32,
              st.integers(1, 10)),
    st.builds(lambda t, p, v, q, r: mavlink.MAVLink_probe_nav_state_message(
        t, p, v, q, r, [1.0, 1.0, 1.0], [0.1, 0.1, 0.1], [0.0, 0.0, 0.0]),
        st.integers(0, 2**63), st.lists(f32, min_size=3, max_size=3),
        st.lists(f32_small, min_size=3, max_size=3), st.lists(f32, min_size=4, max_size=4),
        st.lists(f32_small, min_size=3, max_size=3)),
    st.builds(lambda t, xs: mavlink.MAVLink_highres_imu_message(t, *xs, 0),
              st.integers(0, 2**63), st.lists(f32_small, min_size=13, max_size=13)),
    st.builds(lambda c, ps: mavlink.MAVLink_command_long_message(1, 1, c, 0, *ps),
              u16, st.lists(f32_small, min_size=7, max_size=7)),
)


@st.composite
def logs(draw, min_frames=1, max_frames=40):
    """(log bytes, [(start, end) of each record], [raw frame of each record])."""
    msgs = draw(st.lists(messages, min_size=min_frames, max_size=max_frames))
    systems = draw(st.lists(st.sampled_from([1, 2, 255]), min_size=len(msgs),
                            max_size=len(msgs)))
    steps = draw(st.lists(st.integers(0, 200_000), min_size=len(msgs), max_size=len(msgs)))
    return build_log(msgs, systems, steps)


def build_log(msgs, systems, steps_us):
    codecs = {s: new_codec(s, 1) for s in set(systems)}
    out, spans, raws = bytearray(), [], []
    t = EPOCH_US
    for msg, system, step in zip(msgs, systems, steps_us, strict=True):
        codec = codecs[system]
        raw = bytes(msg.pack(codec))
        codec.seq = (codec.seq + 1) % 256
        t += step
        start = len(out)
        out += _TS.pack(t) + raw
        spans.append((start, len(out)))
        raws.append(raw)
    return bytes(out), spans, raws
