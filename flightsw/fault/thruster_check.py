"""The thruster monitor's evidence: what the accelerometer felt against what the
thrusters were told, two ways.

The window (a thruster stuck on, or a large burn missing): the delta-v measured over
each 1 s window (the accelerometer's bias, as navigation estimates it, removed) against
the delta-v commanded; failing when they differ by more than FP_THR_DV_MPS plus
FP_THR_FRAC of the commanded.  Judged only over a window whose every 10 Hz cycle was
accounted for: a fast task that stopped running leaves the measured side empty, and
the difference would be a thruster fault that is not there.

The pulses (a thruster stuck off): at a station the probe fires minimum-impulse
pulses of 7 micrometres per second, far below the window's floor, and a thruster that
no longer fires is seen there only once the drift it leaves has grown (minutes).  So
each pulse is judged on its own, as a thruster health check does: per thruster of the
flying branch, every cycle it fires alone on its axis (its opposite and the back-away
thruster silent), the delta-v commanded along its direction against the delta-v felt
along it in the IMU sample that covers that cycle (the sample one cycle after the
command), less the axis' quiet baseline: the mean the accelerometer reads in cycles
without thrust on that axis (its bias, measured; navigation's estimate of the bias takes
minutes to settle and would be taken for a thruster meanwhile).  An axis is judged once
it has BASELINE_MIN_QUIET quiet cycles on the flying branch.  A pulse felt weakly in
its own sample and followed by a cycle without thrust on its axis is given the next
sample too: a command applied a frame late (a loaded real-time HIL rig) is not a
thruster stuck off, and a thruster stuck off is felt in neither.  Summed over at least
MIN_PULSES pulses, until half the commanded is EVIDENCE_SIGMAS standard deviations of
the sum's noise (NAV_ACC_NOISE per sample, as navigation assumes it): then less than
STUCK_OFF_FRACTION of it felt says the thruster is stuck off, more says it works.  A
thruster's verdict holds until its next; a change of branch starts afresh.  On Bennu's
probe (4.4 N, 1500 kg, 0.01 N s minimum impulse bit: 7 micrometres per second; the IMU's
noise 1e-5 m/s^2, half the assumed) six minimum pulses decide, each way some 8 true
standard deviations clear of the threshold.
"""

import math

from flightsw.components.propulsion import AXIS_NAMES, BRANCH_NAMES
from flightsw.geometry.quat import norm

MIN_PULSES = 5
EVIDENCE_SIGMAS = 4.0
STUCK_OFF_FRACTION = 0.5  # felt below this share of the commanded: stuck off
BASELINE_GAIN = 0.02  # per quiet cycle, once formed (a 5 s time constant at 10 Hz)
BASELINE_MIN_QUIET = 20  # quiet cycles before an axis' pulses are judged
MIB_MARGIN = 1.001  # pulses this close to the minimum impulse bit are not judged


class ThrusterCheck:
    def __init__(self, config, propulsion, params):
        v = config.vehicle
        self.propulsion = propulsion
        self.params = params
        self.cycle_s = 1.0 / config.base_rate_hz
        self.cycle_us = round(self.cycle_s * 1e6)
        self.window_cycles = round(config.base_rate_hz)
        self.accel_per_on_s = v.thrust_n / v.mass_kg
        self.min_on_s = MIB_MARGIN * v.min_impulse_bit_ns / v.thrust_n if v.thrust_n > 0.0 \
            else 0.0
        self.reset()

    def reset(self) -> None:
        """Forget everything seen (a restart of fault protection)."""
        self._measured_dv_sc = [0.0, 0.0, 0.0]
        self._last_imu_us = None
        self._cycles = 0  # 10 Hz cycles accounted for in the current window
        self._new_branch(self.propulsion.branch)

    def _new_branch(self, branch: int) -> None:
        self._branch = branch
        self._baseline_sc = [0.0, 0.0, 0.0]  # accelerometer reading without thrust
        self._quiet = [0, 0, 0]  # quiet cycles seen per axis
        self._sums = [[0.0, 0.0, 0] for _ in AXIS_NAMES]  # commanded, felt, pulses
        # Per axis: a pulse felt weakly in its own sample, waiting for the next sample
        # (a command applied a frame late, as a loaded real-time HIL rig may):
        # (sample time, thruster, commanded, felt so far), or None.
        self._pending: list = [None, None, None]
        self.stuck_off: dict[int, tuple[float, int]] = {}  # thruster: (felt share, pulses)

    # -- 10 Hz ---------------------------------------------------------------------------
    def on_cycle(self, navigation, judge_pulses: bool) -> None:
        """Account for this cycle: navigation's new IMU sample's delta-v, and its pulse
        evidence unless the surface may be pushing (judge_pulses False)."""
        imu = navigation.last_imu
        if imu is not None and imu.t_us != self._last_imu_us:
            self._last_imu_us = imu.t_us
            bias = navigation.nav.translation.accel_bias_sc()
            for k in range(3):
                self._measured_dv_sc[k] += (imu.accel_sc_mps2[k] - bias[k]) * self.cycle_s
            if judge_pulses:
                self._judge_pulses(imu.t_us, imu.accel_sc_mps2)
        self._cycles += 1

    def _judge_pulses(self, t_imu_us: int, felt_sc) -> None:
        prop = self.propulsion
        if prop.branch != self._branch:
            self._new_branch(prop.branch)
        pulses = prop.pulses_at(t_imu_us - self.cycle_us)
        if pulses is None:
            on = (0.0,) * 6
        elif pulses.backaway_s > 0.0 or pulses.branch != self._branch:
            return  # the back-away thruster's push, or the other branch's pulses
        else:
            on = pulses.on_time_s
        follow = prop.pulses_at(t_imu_us)  # the command whose push the next sample shows
        for axis in range(3):
            plus, minus = on[2 * axis], on[2 * axis + 1]
            pending, self._pending[axis] = self._pending[axis], None
            if pending is not None and pending[0] == t_imu_us - self.cycle_us:
                _, k, commanded, felt = pending
                sign = 1.0 if k % 2 == 0 else -1.0
                self._add(k, commanded, felt + sign * (felt_sc[axis] - self._baseline_sc[axis])
                          * self.cycle_s)
                if plus == 0.0 and minus == 0.0:
                    continue  # that pulse's sample, not a quiet one
            if plus == 0.0 and minus == 0.0:
                self._quiet[axis] += 1  # a running mean, then an exponential one
                gain = max(BASELINE_GAIN, 1.0 / self._quiet[axis])
                self._baseline_sc[axis] += gain * (felt_sc[axis] - self._baseline_sc[axis])
                continue
            if (plus > 0.0 and minus > 0.0) or self._quiet[axis] < BASELINE_MIN_QUIET:
                continue  # both ways at once (whose push was felt?), or no baseline yet
            k, on_s, sign = (2 * axis, plus, 1.0) if plus > 0.0 else (2 * axis + 1, minus, -1.0)
            if on_s < self.min_on_s:
                continue  # at the minimum impulse bit a valve may not open at all
            commanded = on_s * self.accel_per_on_s
            felt = sign * (felt_sc[axis] - self._baseline_sc[axis]) * self.cycle_s
            quiet_next = follow is None or (follow.on_time_s[2 * axis] == 0.0 and
                                            follow.on_time_s[2 * axis + 1] == 0.0)
            if felt < STUCK_OFF_FRACTION * commanded and quiet_next:
                self._pending[axis] = (t_imu_us, k, commanded, felt)  # felt late, maybe
            else:
                self._add(k, commanded, felt)

    def _add(self, k: int, commanded: float, felt: float) -> None:
        """One pulse's evidence for thruster k; a verdict when there is enough."""
        s = self._sums[k]
        s[0] += commanded
        s[1] += felt
        s[2] += 1
        noise_mps = self.params.get("NAV_ACC_NOISE") * self.cycle_s * math.sqrt(s[2])
        if s[2] >= MIN_PULSES and STUCK_OFF_FRACTION * s[0] >= EVIDENCE_SIGMAS * noise_mps:
            share = s[1] / s[0]
            if share < STUCK_OFF_FRACTION:
                self.stuck_off[k] = (share, s[2])
            else:
                self.stuck_off.pop(k, None)
            self._sums[k] = [0.0, 0.0, 0]

    # -- 1 Hz ----------------------------------------------------------------------------
    def check(self, judge: bool) -> tuple[bool, str] | None:
        """The monitor's verdict on the window that ends now: (failing, reason), or None
        when there is nothing to judge (judge False: in contact, or no accelerometer; or
        a window not fully accounted for)."""
        cmd = self.propulsion.take_window_dv()
        meas, self._measured_dv_sc = self._measured_dv_sc, [0.0, 0.0, 0.0]
        complete, self._cycles = self._cycles >= self.window_cycles, 0
        if not judge or not complete:
            return None
        resid = [meas[k] - cmd[k] for k in range(3)]
        size = norm(resid)
        k = max(range(3), key=lambda i: abs(resid[i]))
        # A thruster stuck on pushes along its direction; one stuck off fails to push
        # along its own, which shows as a residual against it.
        along = AXIS_NAMES[2 * k + (0 if resid[k] > 0 else 1)]
        against = AXIS_NAMES[2 * k + (1 if resid[k] > 0 else 0)]
        reason = (f"delta-v {1e3 * size:.2f} mm/s off command over 1 s (a {along} thruster "
                  f"stuck on or a {against} one stuck off)")
        limit = self.params.get("FP_THR_DV_MPS") + self.params.get("FP_THR_FRAC") * norm(cmd)
        if size > limit or not self.stuck_off:
            return size > limit, reason
        worst = min(self.stuck_off, key=lambda j: self.stuck_off[j][0])
        share, pulses = self.stuck_off[worst]
        return True, (f"{AXIS_NAMES[worst]} thruster of branch {BRANCH_NAMES[self._branch]} "
                      f"stuck off ({100.0 * share:.0f} % of its last {pulses} pulses felt)")
