"""What a HIL run tells about itself (runs, options and faults as the user gave them).

`HilOptions` holds everything `prospector hil` can set; `Fault` is one injected
board fault, parsed from the command line's KIND@T_S[:ARG].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MODES = ("lockstep", "realtime")
FAULT_KINDS = ("kill-board", "reset-board", "noise")
# A scenario's [[faults]] kinds of the board (sim/scenario_faults.py) and the rig's names.
SCENARIO_BOARD_FAULTS = {"kill_board": "kill-board", "reset_board": "reset-board",
                         "line_noise": "noise"}


class HilRunError(Exception):
    """The rig could not start or run (one line, naming the port or tool)."""


@dataclass(frozen=True)
class Fault:
    """A fault injected at mission time t_s: kill-board, reset-board, noise (arg bytes/10 ms)."""

    kind: str
    t_s: float
    arg: float = 0.0

    @staticmethod
    def parse(text: str) -> Fault:
        """'kill-board@20', 'reset-board@35', 'noise@10:64' (64 bytes every 10 ms; 0 stops)."""
        kind, sep, rest = text.partition("@")
        if not sep or kind not in FAULT_KINDS:
            raise ValueError(f"fault {text!r}: expected KIND@T_S with KIND one of "
                             f"{', '.join(FAULT_KINDS)}")
        t_text, _, arg_text = rest.partition(":")
        try:
            t_s = float(t_text)
            arg = float(arg_text) if arg_text else (64.0 if kind == "noise" else 0.0)
        except ValueError:
            raise ValueError(f"fault {text!r}: time and argument must be numbers") from None
        if not (math.isfinite(t_s) and t_s >= 0):
            raise ValueError(f"fault {text!r}: time must be >= 0 s")
        if kind == "noise" and not 0 <= arg <= 255:
            raise ValueError(f"fault {text!r}: noise is 0-255 bytes per 10 ms")
        return Fault(kind, t_s, arg)


@dataclass(frozen=True)
class HilOptions:
    mode: str = "lockstep"
    emulate: bool = True
    flight_port: str | None = None
    stim_port: str | None = None
    transport: str = "pty"
    baudrate: int = 115200
    stall_timeout_s: float = 0.25
    lead_us: int | None = None
    restart_board: bool = True
    restart_delay_s: float = 1.0
    ground_recovery: bool = True
    faults: tuple[Fault, ...] = ()
    timing_telemetry: bool | None = None
    rt_priority: int = 10  # real time: SCHED_FIFO priority of the rig's process when allowed; 0 off
    write_report: bool = True
    # Ground links (pymavlink connection strings) beside the board's flight link.  The
    # signing key is not an option here: a dataclass would print it in its repr.
    ground: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if not self.emulate and not (self.flight_port and self.stim_port):
            raise ValueError("a real board needs both a flight port and a stimulus port")
        for fault in self.faults:
            if fault.kind == "kill-board" and not self.emulate:
                raise ValueError("kill-board needs the emulated board (unplug a real one by hand)")


def scenario_board_faults(sc) -> tuple[Fault, ...]:
    """The scenario's board faults as the rig injects them; a line_noise with a duration_s
    is stopped at its end (noise 0 bytes per 10 ms)."""
    out = []
    for f in sc.faults:
        kind = SCENARIO_BOARD_FAULTS.get(f.kind)
        if kind is None:
            continue
        out.append(Fault(kind, f.t_s, f.bytes_per_10ms if kind == "noise" else 0.0))
        if kind == "noise" and f.duration_s is not None:
            out.append(Fault(kind, f.end_s, 0.0))
    return tuple(out)
