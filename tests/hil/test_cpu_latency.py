"""The CPU latency hold: requests 0 us while open, withdraws on close, refuses quietly."""

import struct

from hil.cpu_latency import CpuLatencyHold


def test_hold_writes_the_request_and_closes(tmp_path):
    dev = tmp_path / "cpu_dma_latency"  # a plain file stands in for the device
    dev.write_bytes(b"")
    with CpuLatencyHold(0, device=str(dev)) as hold:
        assert hold.held and hold.status == "cpu latency hold 0 us"
        assert struct.unpack("i", dev.read_bytes()) == (0,)
    assert not hold.held


def test_missing_device_is_refused_with_a_reason(tmp_path):
    hold = CpuLatencyHold(0, device=str(tmp_path / "absent"))
    assert hold.open().startswith("cpu latency hold refused (")
    assert not hold.held
    hold.close()  # idempotent
