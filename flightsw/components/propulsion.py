"""Propulsion: every thruster command goes out through here.

State: which branch of the six translation thrusters flies (A, or B once A is
isolated), the latch valves, the attitude-control couples, and the delta-v
commanded over the current monitoring window (fault protection compares it with what
the accelerometer felt).  The ICD's PROBE_THRUSTER_CMD carries branch A in slots
0-5, the back-away thruster in slot 6, branch B in `on_time_b_s`, the couples in
`acs_on_time_s` and the latch valves in `latch_closed`; the latch state holds until
the next command.

The last two commands' translation pulses are kept as sent (`pulses_at`): the thrust a
command orders acts over the cycle after it, which the next IMU sample reports, and by
the time fault protection sees that sample the next command has gone out.
"""

from dataclasses import dataclass

from flightsw.config import FlightConfig
from flightsw.core.events import EventLog, Severity
from flightsw.hal.bus import BusPort
from flightsw.icd import mavlink
from flightsw.vehicle_geometry import THRUSTER_DIRECTIONS_SC

BRANCH_NAMES = ("A", "B")
BACKAWAY_SLOT = 6
N_SLOTS = 8
AXIS_NAMES = ("+x", "-x", "+y", "-y", "+z", "-z")


@dataclass(frozen=True)
class Pulses:
    """One command's translation thrust as sent: the flying branch, its six on-times
    (+x, -x, +y, -y, +z, -z; zeros while its latch is closed) and the back-away
    thruster's on-time, s."""

    branch: int
    on_time_s: tuple
    backaway_s: float


class Propulsion:
    def __init__(self, config: FlightConfig, port: BusPort, events: EventLog):
        v = config.vehicle
        self.port = port
        self.events = events
        self.mass_kg = v.mass_kg
        self.thrust_n = v.thrust_n
        self.backaway_force_n = v.backaway_force_n
        self.acs_torque_nm = v.acs_torque_nm
        self.branches = v.thruster_branches
        self.branch = 0
        self.latch_closed = 0  # bit b: branch b's latch valve closed
        self.acs_impulse_ns = 0.0
        self.commands_sent = 0
        self.cycle_s = 1.0 / config.base_rate_hz
        self.cycle_us = round(self.cycle_s * 1e6)
        self.last_command_us = None
        self.last_command_dv_sc = (0.0, 0.0, 0.0)
        # Commanded delta-v, spacecraft frame, since the monitor last took it.
        self.window_dv_sc = [0.0, 0.0, 0.0]
        # (sent at us, Pulses) of the last two cycles' commands, the newest last.
        self._pulses: list = []

    @property
    def translation_available(self) -> bool:
        return not self.latch_closed & (1 << self.branch)

    def commanded_accel_sc(self, t_us: int) -> tuple:
        """The specific force the thrusters were told to give over the cycle that ended
        at t_us (navigation's dead reckoning when the accelerometer is lost)."""
        if self.last_command_us is None or t_us - self.last_command_us > self.cycle_us:
            return (0.0, 0.0, 0.0)
        dv = self.last_command_dv_sc
        return (dv[0] / self.cycle_s, dv[1] / self.cycle_s, dv[2] / self.cycle_s)

    def fire(self, t_us: int, on_time_s: tuple, cycle_s: float, acs_on_time_s=None) -> None:
        """On-times of slots 0-5 (directions), optionally 6 (back-away), for the cycle."""
        slots = list(on_time_s) + [0.0] * (N_SLOTS - len(on_time_s))
        branch_b = [0.0] * 6
        if not self.translation_available:
            slots[:6] = [0.0] * 6
        elif self.branch == 1:
            branch_b, slots[:6] = slots[:6], [0.0] * 6
        acs = [0.0] * 6 if acs_on_time_s is None else list(acs_on_time_s)
        self._account(slots, branch_b, acs)
        self._keep_pulses(t_us, branch_b if self.branch == 1 else slots[:6],
                          slots[BACKAWAY_SLOT])
        self.last_command_us = t_us
        self.port.send(mavlink.MAVLink_probe_thruster_cmd_message(
            t_us, slots, cycle_s, branch_b, acs, self.latch_closed))
        self.commands_sent += 1

    def _account(self, slots: list, branch_b: list, acs: list) -> None:
        f, m = self.thrust_n, self.mass_kg
        before = tuple(self.window_dv_sc)
        dv = self.window_dv_sc
        for k, d in enumerate(THRUSTER_DIRECTIONS_SC):
            on = slots[k] + branch_b[k]
            if on > 0.0:
                dv[0] += d[0] * f * on / m
                dv[1] += d[1] * f * on / m
                dv[2] += d[2] * f * on / m
        if slots[BACKAWAY_SLOT] > 0.0:
            dv[2] -= self.backaway_force_n * slots[BACKAWAY_SLOT] / m
        # A couple is two thrusters firing opposite ways: no net force, 2 F t of impulse.
        self.acs_impulse_ns += 2.0 * f * sum(acs)
        self.last_command_dv_sc = (dv[0] - before[0], dv[1] - before[1], dv[2] - before[2])

    def _keep_pulses(self, t_us: int, on_time_s: list, backaway_s: float) -> None:
        pulses = Pulses(self.branch, tuple(on_time_s), backaway_s)
        if self._pulses and self._pulses[-1][0] == t_us:
            self._pulses[-1] = (t_us, pulses)  # a later command of the same cycle wins
        else:
            self._pulses = self._pulses[-1:] + [(t_us, pulses)]

    def pulses_at(self, t_us: int):
        """The translation pulses of the command sent at t_us (the last of that cycle),
        None if none was sent then (or it is older than the last two cycles)."""
        for sent_us, pulses in self._pulses:
            if sent_us == t_us:
                return pulses
        return None

    def take_window_dv(self) -> tuple:
        dv = tuple(self.window_dv_sc)
        self.window_dv_sc = [0.0, 0.0, 0.0]
        return dv

    def isolate_branch(self, t_us: int, reason: str) -> bool:
        """Close the flying branch's latch; fly the other if there is one.  True when
        translation control goes on (on the other branch)."""
        failed = self.branch
        self.latch_closed |= 1 << failed
        other = 1 - failed
        if self.branches == 2 and not self.latch_closed & (1 << other):
            self.branch = other
            self.events.emit(Severity.WARNING, "propulsion",
                             f"branch {BRANCH_NAMES[failed]} isolated ({reason}); "
                             f"flying branch {BRANCH_NAMES[other]}")
            ok = True
        else:
            self.events.emit(Severity.ERROR, "propulsion",
                             f"branch {BRANCH_NAMES[failed]} isolated ({reason}); "
                             "no translation thrusters left")
            ok = False
        # Tell the valves now, not at the next burn: a stuck valve keeps firing till then.
        self.fire(t_us, (), self.cycle_s)
        return ok

    def acs_dv_mps(self) -> float:
        """The couples' propellant, as delta-v (total impulse over mass)."""
        return self.acs_impulse_ns / self.mass_kg
