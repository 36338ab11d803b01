"""Momentum management: unloading the wheels with the attitude-control couples.

A couple (PROBE_THRUSTER_CMD.acs_on_time_s) puts a pure torque on the spacecraft;
while the attitude loop holds the pointing, the wheels absorb it, so firing against
the wheels' momentum (in the spacecraft frame) unloads them.  Pulses are the
smallest the valves give (the minimum impulse bit) and spaced so that the average
torque stays within half what the wheels can return: the pointing barely moves.
A dump starts when fault protection's momentum monitor trips (a wheel above
FP_WHL_DUMP_FRAC of its rating) or on the DUMP_MOMENTUM command, and ends below
FP_WHL_DONE_FRAC.  Its propellant is reported as delta-v (PROBE_FAULT_STATUS).
"""

import math

from flightsw.components.propulsion import Propulsion
from flightsw.config import FlightConfig
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.params import ParamTable

# Share of the wheels' torque the couples' average torque may use.
WHEEL_TORQUE_SHARE = 0.5


class MomentumManager:
    def __init__(self, config: FlightConfig, params: ParamTable, events: EventLog,
                 commands: CommandDispatcher, propulsion: Propulsion):
        v = config.vehicle
        self.params = params
        self.events = events
        self.propulsion = propulsion
        self.rating_radps = v.wheel_max_speed_radps
        self.wheel_inertia = v.wheel_inertia_kgm2
        self.acs_torque_nm = v.acs_torque_nm
        self.cycle_s = 1.0 / config.base_rate_hz
        mib_s = v.min_impulse_bit_ns / v.thrust_n if v.thrust_n > 0.0 else 0.0
        # The smallest pulse, and how many cycles apart pulses must be to keep the
        # couples' average torque within the wheels' share.
        self.pulse_s = max(mib_s, 1e-3)
        budget = WHEEL_TORQUE_SHARE * v.wheel_max_torque_nm * self.cycle_s
        self.pulse_every = max(1, math.ceil(self.acs_torque_nm * self.pulse_s / budget))
        self.active = False
        self.dumps = 0
        self._cycle = 0
        commands.register_ground_command("DUMP_MOMENTUM", self._cmd_dump)

    def _cmd_dump(self, params) -> CommandResult:
        return CommandResult.ACCEPTED if self.start("commanded by the ground") else \
            CommandResult.FAILED

    def start(self, reason: str) -> bool:
        if self.acs_torque_nm <= 0.0:
            self.events.emit(Severity.WARNING, "momentum",
                             "no attitude-control couples: the wheels cannot be unloaded")
            return False
        if not self.active:
            self.active = True
            self.dumps += 1
            self._cycle = 0
            self.events.emit(Severity.NOTICE, "momentum", f"momentum dump started ({reason})")
        return True

    def couples(self, wheel_h_sc: tuple, wheel_speeds: tuple, failed=frozenset()) -> list | None:
        """This cycle's couple on-times (+x, -x, +y, -y, +z, -z), None when not dumping."""
        if not self.active:
            return None
        if max((abs(w) for j, w in enumerate(wheel_speeds) if j not in failed),
               default=0.0) < \
                self.params.get("FP_WHL_DONE_FRAC") * self.rating_radps:
            self.active = False
            self.events.emit(Severity.NOTICE, "momentum",
                             f"momentum dump done; {self.propulsion.acs_dv_mps():.4f} m/s "
                             "spent on dumps so far")
            return None
        self._cycle += 1
        if self._cycle % self.pulse_every:
            return None
        out = [0.0] * 6
        # Torque against the wheels' momentum, on each axis that holds a pulse's worth.
        pulse_h = self.acs_torque_nm * self.pulse_s
        for k in range(3):
            h = wheel_h_sc[k]
            if abs(h) >= pulse_h:
                out[2 * k + (1 if h > 0.0 else 0)] = self.pulse_s
        return out if any(out) else None
