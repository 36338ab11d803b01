"""The probe's actuators as built and as they fail: thrusters and reaction wheels.

Thrusters (PROBE_THRUSTER_CMD): branch A's six translation thrusters (slots 0-5, along
+x, -x, +y, -y, +z, -z spacecraft, through the centre of mass) and the back-away
thruster (slot 6, along -z); branch B's six (`on_time_b_s`, the same directions) when
the vehicle has two branches; six attitude-control couples (`acs_on_time_s`, about +x,
-x, +y, -y, +z, -z: two thrusters of `force_n` each, `acs_arm_m` either side of the
centre of mass, so a pure torque of 2 force_n acs_arm_m and no net force).  Each branch
sits behind a latch valve (`latch_closed` bit 0: A, bit 1: B) that holds its last
commanded state and stops every thruster of its branch, a stuck-open one included.  The
back-away thruster and the couples are behind neither latch.

Each thruster is built with its own magnitude error and misalignment, drawn once per
run from a stream of its own set ("thruster-build", "thruster-build-b",
"thruster-build-acs"), and every pulse scatters by impulse_noise_frac (again one stream
per set), so adding branch B or the couples changes no draw of branch A.

A command covers one control cycle: on-times are averaged over `cycle_s` and applied
for the step that follows; silence means no thrust, except from a thruster stuck open,
which fires the whole of every step while its latch is open (`stuck_on_force_sc`).

Wheels: motor torques held until the next command, clipped to the rating, none that
would spin a wheel past its maximum speed; a failed wheel's motor gives nothing and its
bearings' viscous friction spins it down (time constant friction_time_constant_s).
"""

from __future__ import annotations

import math

from flightsw.geometry.quat import q_from_rotvec, q_rotate
from flightsw.vehicle_geometry import THRUSTER_DIRECTIONS_SC
from sim.noise import NoiseStream

BACKAWAY = 6
LATCH_A, LATCH_B = 1, 2  # PROBE_THRUSTER_CMD.latch_closed bits
# Couple k turns about +x, -x, +y, -y, +z, -z spacecraft.
ACS_AXES_SC = ((1.0, 0.0, 0.0), (-1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, -1.0, 0.0),
               (0.0, 0.0, 1.0), (0.0, 0.0, -1.0))
_NO_FAULTS = frozenset()


def _built_set(build: NoiseStream, thr) -> list[tuple[float, float, float]]:
    """Six thrusters along THRUSTER_DIRECTIONS_SC with their build errors (N, spacecraft)."""
    forces = []
    for d in THRUSTER_DIRECTIONS_SC:
        tilt = q_from_rotvec(build.gauss3(math.radians(thr.misalignment_sigma_deg)))
        mag = thr.force_n * (1.0 + build.gauss(thr.magnitude_sigma_frac))
        u = q_rotate(tilt, d)
        forces.append((u[0] * mag, u[1] * mag, u[2] * mag))
    return forces


def _as_mounted(forces: list, thr) -> list:
    """A set's forces with the errors common to all its thrusters, when declared (a sweep's
    truth keys): the force scaled by 1 + magnitude_error_frac, and the whole set turned by
    cant_deg (a rotation vector in the spacecraft frame).  Unset: the forces as given."""
    if thr.magnitude_error_frac is None and thr.cant_deg is None:
        return forces
    scale = 1.0 + (thr.magnitude_error_frac or 0.0)
    turn = q_from_rotvec(tuple(math.radians(a) for a in (thr.cant_deg or (0.0, 0.0, 0.0))))
    return [tuple(scale * c for c in q_rotate(turn, f)) for f in forces]


class Thrusters:
    """Forces and torques of a PROBE_THRUSTER_CMD, and the impulse spent, by set."""

    def __init__(self, thr, mass_kg: float, seed: int, base_hz: float):
        self.mass_kg = mass_kg
        self.base_hz = base_hz
        self.thrust_n = thr.force_n
        self.mib_ns = thr.min_impulse_bit_ns
        self.backaway_force_n = thr.backaway_force_n
        self.branches = thr.branches
        build = NoiseStream(seed, "thruster-build")
        self.force_a_sc = _built_set(build, thr)
        ba = thr.backaway_force_n * (1.0 + build.gauss(thr.magnitude_sigma_frac))
        self.force_a_sc.append((0.0, 0.0, -ba))  # slot 6: the back-away thruster
        self.force_a_sc = _as_mounted(self.force_a_sc, thr)
        self.force_b_sc = (_as_mounted(_built_set(NoiseStream(seed, "thruster-build-b"), thr),
                                       thr) if thr.branches > 1 else [])
        self.acs_arm_m = thr.acs_arm_m
        acs_build = NoiseStream(seed, "thruster-build-acs")
        # One couple's torque as built (its two thrusters' errors, as one magnitude).
        self.acs_torque_nm = [2.0 * thr.force_n * thr.acs_arm_m
                              * (1.0 + acs_build.gauss(thr.magnitude_sigma_frac))
                              for _ in ACS_AXES_SC] if thr.acs_arm_m > 0.0 else []
        if thr.magnitude_error_frac is not None:  # the same propellant feed as the others
            self.acs_torque_nm = [t * (1.0 + thr.magnitude_error_frac)
                                  for t in self.acs_torque_nm]
        self.impulse_noise_frac = thr.impulse_noise_frac
        self._noise_a = NoiseStream(seed, "thruster-impulse")
        self._noise_b = NoiseStream(seed, "thruster-impulse-b")
        self._noise_acs = NoiseStream(seed, "thruster-impulse-acs")
        self.latch_closed = 0  # latching valves: open until commanded shut
        # Totals for the summary and the history.
        self.on_s_total = [0.0] * 8  # branch A slots 0-6 (8 wide: the history's layout)
        self.on_b_s_total = [0.0] * 6
        self.acs_on_s_total = [0.0] * 6
        self.impulse_ns_total = 0.0  # translation thrusters, branches A and B
        self.branch_b_impulse_ns = 0.0
        self.backaway_impulse_ns = 0.0
        self.acs_impulse_ns = 0.0  # both thrusters of every couple fired

    def _pulse(self, on_s: float, cycle: float, force_n: float, noise: NoiseStream) -> float:
        """The on-time a valve delivers for a commanded on_s (0: below the minimum bit)."""
        on = max(0.0, min(on_s, cycle))
        if on * force_n < self.mib_ns:
            return 0.0  # below the minimum impulse bit the valve does not open
        if self.impulse_noise_frac:
            on *= max(0.0, 1.0 + noise.gauss(self.impulse_noise_frac))
        return on

    def command(self, m, stuck_on=_NO_FAULTS, stuck_off=_NO_FAULTS):
        """(acceleration, m/s^2, and torque, N m, spacecraft frame) over the coming cycle.

        stuck_on, stuck_off: sets of (branch, slot) of the faulty valves ("A" or "B").
        """
        cycle = m.cycle_s if m.cycle_s > 0.0 else 1.0 / self.base_hz
        self.latch_closed = int(getattr(m, "latch_closed", 0))
        fx = fy = fz = 0.0
        a_open = not self.latch_closed & LATCH_A
        for k, f in enumerate(self.force_a_sc):
            if (k != BACKAWAY and not a_open) or ("A", k) in stuck_off or ("A", k) in stuck_on:
                continue  # latched shut, failed shut, or open all along (stuck_on_force_sc)
            on = self._pulse(m.on_time_s[k], cycle,
                             self.backaway_force_n if k == BACKAWAY else self.thrust_n,
                             self._noise_a)
            if on == 0.0:
                continue
            self.on_s_total[k] += on
            if k == BACKAWAY:
                self.backaway_impulse_ns += on * self.backaway_force_n
            else:
                self.impulse_ns_total += on * self.thrust_n
            fx += f[0] * on
            fy += f[1] * on
            fz += f[2] * on
        on_b = getattr(m, "on_time_b_s", None)
        if self.force_b_sc and on_b is not None and any(on_b) \
                and not self.latch_closed & LATCH_B:
            for k, f in enumerate(self.force_b_sc):
                if ("B", k) in stuck_off or ("B", k) in stuck_on:
                    continue
                on = self._pulse(on_b[k], cycle, self.thrust_n, self._noise_b)
                if on == 0.0:
                    continue
                self.on_b_s_total[k] += on
                self.impulse_ns_total += on * self.thrust_n
                self.branch_b_impulse_ns += on * self.thrust_n
                fx += f[0] * on
                fy += f[1] * on
                fz += f[2] * on
        k = 1.0 / (self.mass_kg * cycle)
        accel = (fx * k, fy * k, fz * k)
        return accel, self._couples(getattr(m, "acs_on_time_s", None), cycle)

    def _couples(self, on_times, cycle: float):
        """Torque of the attitude-control couples over the cycle (None: none fired)."""
        if not self.acs_torque_nm or on_times is None or not any(on_times):
            return None
        tx = ty = tz = 0.0
        fired = False
        for k, axis in enumerate(ACS_AXES_SC):
            on = self._pulse(on_times[k], cycle, self.thrust_n, self._noise_acs)
            if on == 0.0:
                continue
            fired = True
            self.acs_on_s_total[k] += on
            self.acs_impulse_ns += 2.0 * self.thrust_n * on
            t = self.acs_torque_nm[k] * on / cycle
            tx += axis[0] * t
            ty += axis[1] * t
            tz += axis[2] * t
        return (tx, ty, tz) if fired else None

    def stuck_on_force_sc(self, dt_s: float, stuck_on) -> tuple[float, float, float] | None:
        """Force (N, spacecraft) of the valves stuck open over a step of dt_s, their
        impulse counted; None when none fires (none stuck, or their latches shut)."""
        fx = fy = fz = 0.0
        fired = False
        for branch, k in sorted(stuck_on):
            if branch == "A":
                if self.latch_closed & LATCH_A:
                    continue
                f = self.force_a_sc[k]
                self.on_s_total[k] += dt_s
            else:
                if self.latch_closed & LATCH_B or not self.force_b_sc:
                    continue
                f = self.force_b_sc[k]
                self.on_b_s_total[k] += dt_s
                self.branch_b_impulse_ns += dt_s * self.thrust_n
            self.impulse_ns_total += dt_s * self.thrust_n
            fired = True
            fx += f[0]
            fy += f[1]
            fz += f[2]
        return (fx, fy, fz) if fired else None

    def totals(self) -> dict:
        """What the summary reports of the propellant spent, N s."""
        return {"translation_impulse_ns": self.impulse_ns_total,
                "branch_b_impulse_ns": self.branch_b_impulse_ns,
                "backaway_impulse_ns": self.backaway_impulse_ns,
                "acs_impulse_ns": self.acs_impulse_ns}


class Wheels:
    """Reaction-wheel motors: commanded torques, their limits, and failed motors."""

    def __init__(self, axes_sc, wheel_cfg):
        self.axes_sc = axes_sc
        self.inertia_kgm2 = wheel_cfg.inertia_kgm2
        self.max_torque_nm = wheel_cfg.max_torque_nm
        self.max_speed_radps = wheel_cfg.max_speed_radps
        self.friction_time_constant_s = wheel_cfg.friction_time_constant_s
        self.motor_torque_nm = tuple(0.0 for _ in axes_sc)

    def command(self, torque_nm, momentum_nms) -> None:
        """A PROBE_WHEEL_CMD's torques, clipped; held until the next command."""
        lim = self.max_torque_nm
        torques = []
        for j, tau in enumerate(torque_nm[: len(self.axes_sc)]):
            tau = max(-lim, min(lim, tau))
            speed = momentum_nms[j] / self.inertia_kgm2
            if abs(speed) >= self.max_speed_radps and tau * speed > 0.0:
                tau = 0.0  # saturated wheel cannot spin faster
            torques.append(tau)
        self.motor_torque_nm = tuple(torques)

    def torques_for_step(self, momentum_nms, failed, dt_s: float) -> tuple:
        """Torque on each wheel over the coming step: the motor's, or on a failed wheel
        the bearings' viscous friction (its reaction turns the spacecraft), held over the
        step at the value that takes the wheel exactly along h0 exp(-t / tau)."""
        if not failed:
            return self.motor_torque_nm
        k = -math.expm1(-dt_s / self.friction_time_constant_s) / dt_s
        return tuple(-momentum_nms[j] * k if j in failed else t
                     for j, t in enumerate(self.motor_torque_nm))
