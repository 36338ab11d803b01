"""Guidance and control: the hover point, the attitude and translation control laws,
the reference each mode flies, wheel momentum, PROBE_GUIDANCE_STATUS telemetry and
the SET_HOVER_POINT command."""

import math

from flightsw.components.devices import Devices
from flightsw.components.navigation import NavigationComponent
from flightsw.components.safe_mode import SafePhase
from flightsw.config import FlightConfig
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.quat import norm
from flightsw.gnc.allocation import spans_three_axes
from flightsw.gnc.control import AttitudeController, TranslationController
from flightsw.gnc.guidance import HoverGuidance, pointing_attitude
from flightsw.gnc.transfer import BlendedReference, station_reference, transfer_duration_s
from flightsw.icd import mavlink
from flightsw.vehicle_geometry import wheel_axes_sc

CONTROL_PARAMS = ("HOV_BW_RADPS", "HOV_ZETA", "ATT_BW_RADPS", "ATT_ZETA", "ATT_SLEW_RADPS",
                  "HOV_VMAX_MPS")
# Modes in which the translation controller flies the reference with the thrusters.
TRANSLATION_MODES = (Mode.HOVER, Mode.MASS_MEASURE, Mode.DESCENT, Mode.SURVEY)
TAG_MODES = (Mode.DESCENT, Mode.TAG, Mode.BACKAWAY)
# Farther than this from the hover point, HOVER flies a transfer round the body to it.
FLY_HOME_M = 200.0


class GuidanceControl:
    """State: the hover guidance, both controllers, the last pointing error.

    The mode decides whose reference is flown: the touch-and-go sequence's in its
    modes, the survey's during the survey, the hover guidance's otherwise; the mass
    measurement takes over the x rate while it spins.  Those components are attached
    after creation (`attach`), since they also steer this one's hover point.
    """

    def __init__(self, config: FlightConfig, body: SpinningBody, params: ParamTable,
                 modes: ModeManager, events: EventLog, commands: CommandDispatcher,
                 devices: Devices, navigation: NavigationComponent, send):
        v = config.vehicle
        self.config = config
        self.body = body
        self.params = params
        self.modes = modes
        self.events = events
        self.devices = devices
        self.navigation = navigation
        self.send = send
        self.wheel_axes = wheel_axes_sc(v.wheel_count)
        self.guidance = HoverGuidance(body, tuple(config.hover_point_bf_m))
        self.att_ctrl = AttitudeController(v.inertia_kgm2, self.wheel_axes,
                                           params.get("ATT_BW_RADPS"), params.get("ATT_ZETA"),
                                           v.wheel_max_torque_nm)
        self.att_ctrl.max_slew_radps = params.get("ATT_SLEW_RADPS")
        self.trans_ctrl = TranslationController(v.mass_kg, v.thrust_n, v.min_impulse_bit_ns,
                                                params.get("HOV_BW_RADPS"),
                                                params.get("HOV_ZETA"))
        self.trans_ctrl.max_close_mps = params.get("HOV_VMAX_MPS")
        self.cycle_s = 1.0 / config.base_rate_hz
        self.pointing_err_rad = 0.0
        self.tag_sequence = None
        self.survey = None
        self.mass = None
        self.propulsion = None
        self.safe_mode = None
        self.momentum = None
        self.failed_wheels: frozenset = frozenset()
        self.transfer = None  # a blended reference to the hover point, while it runs
        params.on_change(self._on_param_change, CONTROL_PARAMS)
        modes.add_listener(self._on_mode_change)
        commands.register_ground_command("SET_HOVER_POINT", self._cmd_set_hover_point)

    def attach(self, tag_sequence, survey, mass) -> None:
        """The components whose references this one flies in their modes."""
        self.tag_sequence, self.survey, self.mass = tag_sequence, survey, mass

    def attach_fault_protection(self, propulsion, safe_mode, momentum) -> None:
        """Thrusters through propulsion (branches, couples), SAFE's sequence, dumps."""
        self.propulsion, self.safe_mode, self.momentum = propulsion, safe_mode, momentum

    def can_isolate_wheel(self, index: int) -> bool:
        """True when the wheels left after isolating this one still span three axes."""
        left = [a for j, a in enumerate(self.wheel_axes)
                if j != index and j not in self.failed_wheels]
        return len(left) >= 3 and spans_three_axes(left)

    def isolate_wheel(self, index: int) -> None:
        """Fly on the other wheels (fault protection's reconfiguration)."""
        self.failed_wheels = self.failed_wheels | {index}
        self.att_ctrl.isolate_wheels(self.failed_wheels)
        self.events.emit(Severity.WARNING, "control",
                         f"wheel {index} isolated; attitude control on "
                         f"{len(self.wheel_axes) - len(self.failed_wheels)} wheels")

    def _cmd_set_hover_point(self, params) -> CommandResult:
        self.guidance.set_target((params[0], params[1], params[2]))
        self.events.emit(Severity.INFO, "guidance",
                         f"hover point {params[0]:.1f} {params[1]:.1f} {params[2]:.1f} m")
        return CommandResult.ACCEPTED

    def _on_param_change(self, name, old, new) -> None:
        prm = self.params
        if name in ("HOV_BW_RADPS", "HOV_ZETA"):
            self.trans_ctrl.set_gains(prm.get("HOV_BW_RADPS"), prm.get("HOV_ZETA"))
        elif name in ("ATT_BW_RADPS", "ATT_ZETA"):
            self.att_ctrl.set_gains(prm.get("ATT_BW_RADPS"), prm.get("ATT_ZETA"))
        elif name == "ATT_SLEW_RADPS":
            self.att_ctrl.max_slew_radps = new
        elif name == "HOV_VMAX_MPS":
            self.trans_ctrl.max_close_mps = new

    def wheel_momentum_nms(self) -> tuple:
        sample = self.devices.wheels.latest
        if sample is None:
            return tuple(0.0 for _ in self.wheel_axes)
        j = self.config.vehicle.wheel_inertia_kgm2
        return tuple(s * j for s in sample.speed_radps)

    def wheel_h_sc(self) -> tuple:
        """Wheel angular momentum in the spacecraft frame, N m s."""
        h = self.wheel_momentum_nms()
        out = [0.0, 0.0, 0.0]
        for a, hj in zip(self.wheel_axes, h, strict=False):
            out[0] += a[0] * hj
            out[1] += a[1] * hj
            out[2] += a[2] * hj
        return tuple(out)

    def _on_mode_change(self, old: Mode, new: Mode) -> None:
        """HOVER from STANDBY far from the hover point (back from SAFE's orbit, by the
        ground or by itself): fly there round the body."""
        tr = self.navigation.nav.translation
        if new != Mode.HOVER or old != Mode.STANDBY or not tr.initialised:
            return
        t_s = self.modes.entered_us * 1e-6
        target = self.guidance.reference(t_s).pos_i_m
        here = tr.position_i()
        if math.dist(here, target) > FLY_HOME_M:
            self.fly_home(t_s)

    def fly_home(self, t_s: float) -> None:
        """Back to the hover point from wherever the probe is (SAFE's orbit), round the
        body: a blend from an inertial station here to the hover reference (a straight
        line to a point on the far side would pass through the body)."""
        tr = self.navigation.nav.translation
        here = tuple(tr.position_i())
        if not tr.initialised or norm(here) < 1.0:
            return  # no estimate to start from: the hover reference alone
        q = self.navigation.nav.attitude.q_i_to_sc
        duration = transfer_duration_s(here, self.guidance.reference(t_s).pos_i_m,
                                       self.params.get("PRS_XFER_ACC"),
                                       self.params.get("PRS_XFER_S"))
        self.transfer = BlendedReference(lambda t: station_reference(here, q, (0.0, 0.0, 0.0)),
                                         self.guidance.reference, t_s, duration,
                                         self.body.pole_i)
        self.events.emit(Severity.NOTICE, "guidance",
                         f"transfer to the hover point over {duration:.0f} s")

    def _reference(self, mode: Mode, t_s: float):
        if mode == Mode.HOVER and self.transfer is not None:
            if not self.transfer.done(t_s):
                return self.transfer(t_s)
            self.transfer = None
        tag = self.tag_sequence
        if mode in TAG_MODES and tag.guidance is not None:
            return tag.guidance.reference(t_s, self.body.pole_i)
        if mode == Mode.SURVEY and self.survey.campaign.reference_fn is not None:
            return self.survey.campaign.reference_fn(t_s)
        return self.guidance.reference(t_s)

    def task_control(self, t_us: int) -> None:
        nav = self.navigation.nav
        if not nav.attitude.initialised:
            return
        mode = self.modes.current
        t_s = t_us * 1e-6
        att = nav.attitude
        wheel_h = self.wheel_momentum_nms()
        couples = None
        if self.momentum is not None and self.devices.wheels.latest is not None:
            couples = self.momentum.couples(self.wheel_h_sc(),
                                            self.devices.wheels.latest.speed_radps,
                                            self.failed_wheels)
        if mode == Mode.SAFE or not nav.translation.initialised:
            self._fly_safe(t_us, couples)
            return
        ref = self._reference(mode, t_s)
        w_ref = self.mass.rate_reference() if mode == Mode.MASS_MEASURE else None
        if w_ref is not None:
            torques = self.att_ctrl.rate_torques(att.rate_sc_radps, w_ref, wheel_h)
        else:
            torques = self.att_ctrl.wheel_torques(att.q_i_to_sc, att.rate_sc_radps,
                                                  ref.q_i_to_sc, ref.rate_sc_radps, wheel_h)
        self.devices.wheels.command_torque(t_us, torques)
        err = self.att_ctrl.pointing_error_rad(att.q_i_to_sc, ref.q_i_to_sc)
        self.pointing_err_rad = math.hypot(err[0], err[1])  # boresight is +z: tilt only
        on_times = None
        if mode in TRANSLATION_MODES:
            tr = nav.translation
            pos, vel = tr.position_i(), tr.velocity_i()
            a_cmd = self.trans_ctrl.accel_command_i(pos, vel, ref.pos_i_m, ref.vel_i_mps,
                                                    ref.acc_i_mps2, tr.gravity_i(pos))
            on_times = self.trans_ctrl.on_times(a_cmd, att.q_i_to_sc, self.cycle_s)
        elif mode == Mode.BACKAWAY:
            on_times = self.tag_sequence.backaway_pulse(self.cycle_s)
        self._fire(t_us, on_times, couples)

    def _fire(self, t_us: int, on_times, couples) -> None:
        if (on_times is not None and any(on_times)) or couples is not None:
            self.propulsion.fire(t_us, on_times or (), self.cycle_s, couples)

    def _fly_safe(self, t_us: int, couples) -> None:
        """SAFE: rates nulled while damping (or parked, or without an estimate to fly
        on); otherwise the boresight at the body and SAFE's climb, orbit burn or coast."""
        nav = self.navigation.nav
        att, tr = nav.attitude, nav.translation
        wheel_h = self.wheel_momentum_nms()
        safe = self.safe_mode
        fly = self.modes.current == Mode.SAFE and tr.initialised
        if safe is not None and fly:
            safe.update(t_us, self.propulsion.translation_available)
        phase = SafePhase.PARKED if safe is None or not fly else safe.phase
        if phase in (SafePhase.NONE, SafePhase.PARKED, SafePhase.DAMP):
            torques = self.att_ctrl.rate_torques(att.rate_sc_radps, (0.0, 0.0, 0.0), wheel_h)
            self.devices.wheels.command_torque(t_us, torques)
            self._fire(t_us, None, couples)
            return
        pos, vel = tr.position_i(), tr.velocity_i()
        q_ref = pointing_attitude(pos, self.body.pole_i)
        torques = self.att_ctrl.wheel_torques(att.q_i_to_sc, att.rate_sc_radps, q_ref,
                                              (0.0, 0.0, 0.0), wheel_h)
        self.devices.wheels.command_torque(t_us, torques)
        on_times = None
        if phase == SafePhase.CLIMB:
            limit = self.trans_ctrl.max_close_mps
            self.trans_ctrl.max_close_mps = self.params.get("SAFE_CLIMB_MPS")
            a_cmd = self.trans_ctrl.accel_command_i(pos, vel, safe.climb_target_i,
                                                    (0.0, 0.0, 0.0), (0.0, 0.0, 0.0),
                                                    tr.gravity_i(pos))
            self.trans_ctrl.max_close_mps = limit
            on_times = self.trans_ctrl.on_times(a_cmd, att.q_i_to_sc, self.cycle_s)
        elif phase == SafePhase.ORBIT_INSERT:
            target = safe.orbit_velocity_i
            kd = self.trans_ctrl.kd
            a_cmd = tuple(kd * (target[k] - vel[k]) for k in range(3))
            on_times = self.trans_ctrl.on_times(a_cmd, att.q_i_to_sc, self.cycle_s)
        self._fire(t_us, on_times, couples)

    def task_guidance(self, t_us: int) -> None:
        """PROBE_GUIDANCE_STATUS: the hover target and the estimate's error from it."""
        tr = self.navigation.nav.translation
        if not tr.initialised:
            return
        target = self.guidance.target_bf_m
        pos_bf = self.body.i_to_bf(t_us * 1e-6, tr.position_i())
        err = (pos_bf[0] - target[0], pos_bf[1] - target[1], pos_bf[2] - target[2])
        self.send(mavlink.MAVLink_probe_guidance_status_message(
            t_us, list(target), list(err), self.pointing_err_rad, self.trans_ctrl.dv_total_mps))

