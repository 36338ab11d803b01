"""Hold the CPUs out of deep idle states while a real-time run flies (Linux PM QoS).

A HIL round trip over the emulated board is a chain of thread wake-ups: QEMU's
USART model takes one byte per main-loop pass, raises an interrupt that wakes the
halted guest CPU, and the guest's read of the data register wakes the main loop
again (about 50 hand-offs for a 25-byte request).  On a virtual machine whose idle
CPUs halt at once (haltpoll with guest_halt_poll_ns=0), each hand-off costs a VM exit,
and an idle machine answers *slower* than a loaded one (measured: pty round trip p50
7 ms idle, 1 ms loaded).

Writing 0 to /dev/cpu_dma_latency asks the kernel to keep every CPU in its
shallowest idle state for as long as the file stays open; this is what cyclictest and
real-time audio do.  It needs root; without it the run goes on as before and the
rig's summary says so.
"""

from __future__ import annotations

import os
import struct

DEVICE = "/dev/cpu_dma_latency"


class CpuLatencyHold:
    """Open: request `max_latency_us` of wake-up latency from every CPU; close: release."""

    def __init__(self, max_latency_us: int = 0, device: str = DEVICE):
        self.max_latency_us = int(max_latency_us)
        self.device = device
        self._fd: int | None = None
        self.status = "not requested"

    def open(self) -> str:
        try:
            fd = os.open(self.device, os.O_WRONLY)
        except OSError as exc:
            self.status = f"cpu latency hold refused ({exc.strerror})"
            return self.status
        try:
            os.write(fd, struct.pack("i", self.max_latency_us))
        except OSError as exc:
            os.close(fd)
            self.status = f"cpu latency hold refused ({exc.strerror})"
            return self.status
        self._fd = fd
        self.status = f"cpu latency hold {self.max_latency_us} us"
        return self.status

    @property
    def held(self) -> bool:
        return self._fd is not None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file withdraws the request
            self._fd = None

    def __enter__(self) -> CpuLatencyHold:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
