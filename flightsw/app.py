"""The flight software, assembled: drivers, navigation, guidance, control,
fault protection and telemetry as tasks in rate groups.

`FlightSoftware(config, bus, clock, record)` is all a host needs: the SIL
runner, the HIL rig and replay plug in a different Bus and Clock and nothing
else.  One cycle: bus_in (messages to drivers, commands, parameters) -> nav
-> control (actuator messages out); at 1 Hz guidance status, telemetry and
fault protection; at 0.1 Hz scheduler statistics.
"""

import math

from flightsw.config import FlightConfig
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamService, ParamTable
from flightsw.core.scheduler import RateGroup, Scheduler, Task
from flightsw.gnc.allocation import wheel_axes_sc
from flightsw.gnc.body_frame import SpinningBody
from flightsw.gnc.control import AttitudeController, TranslationController
from flightsw.gnc.guidance import HoverGuidance
from flightsw.gnc.navigation import AttitudeFilter, Navigator, TranslationFilter
from flightsw.gnc.quat import norm
from flightsw.hal.bus import Bus, BusPort
from flightsw.hal.drivers import (
    Altimeter,
    Imu,
    NavCamera,
    Power,
    Sampler,
    Spectrometer,
    StarTracker,
    Thrusters,
    Wheels,
)
from flightsw.icd import mavlink
from flightsw.params_table import FLIGHT_PARAMS

HOVER_POINT_MIN_M = 300.0  # outside Bennu's circumscribing sphere
HOVER_POINT_MAX_M = 100_000.0


class FlightSoftware:
    def __init__(self, config: FlightConfig, bus: Bus, clock, record=None, params=None):
        self.config = config
        self.clock = clock
        self.port = BusPort(bus, clock.now_us, record)
        send = self.port.send
        self.events = EventLog(clock, send)
        self.modes = ModeManager(clock, self.events, initial=Mode.SAFE)
        self.params = ParamTable(FLIGHT_PARAMS) if params is None else params
        self.param_service = ParamService(self.params, send, self.events)
        self.commands = CommandDispatcher(self.modes, self.events, send)
        self._make_devices()
        self._make_gnc()
        self._register_commands()
        self.port.subscribe("COMMAND_LONG", self.commands.dispatch_command_long)
        for kind in ("PARAM_SET", "PARAM_REQUEST_LIST", "PARAM_REQUEST_READ"):
            self.port.subscribe(kind, self.param_service.handle)
        self.params.on_change(self._on_param_change)
        self.scheduler = self._make_scheduler()

    # -- assembly ----------------------------------------------------------------
    def _make_devices(self) -> None:
        p = self.port
        self.imu = Imu(p)
        self.star_tracker = StarTracker(p)
        self.altimeter = Altimeter(p)
        self.navcam = NavCamera(p)
        self.power = Power(p)
        self.wheels = Wheels(p, self.config.vehicle.wheel_count)
        self.thrusters = Thrusters(p)
        self.spectrometer = Spectrometer(p)
        self.sampler = Sampler(p)

    def _make_gnc(self) -> None:
        cfg = self.config
        v, b, prm = cfg.vehicle, cfg.body, self.params
        self.body = SpinningBody(b.pole_ra_deg, b.pole_dec_deg, b.rotation_period_s, b.w0_deg)
        self.wheel_axes = wheel_axes_sc(v.wheel_count)
        self.nav = Navigator(
            AttitudeFilter(prm.get("NAV_GYRO_NOISE"), prm.get("NAV_GBIAS_WALK")),
            TranslationFilter(self.body, b.gm_m3s2, prm.get("NAV_ACC_NOISE"),
                              prm.get("NAV_ACC_WALK")),
        )
        self.guidance = HoverGuidance(self.body, tuple(cfg.hover_point_bf_m))
        self.att_ctrl = AttitudeController(v.inertia_kgm2, self.wheel_axes,
                                           prm.get("ATT_BW_RADPS"), prm.get("ATT_ZETA"),
                                           v.wheel_max_torque_nm)
        self.trans_ctrl = TranslationController(v.mass_kg, v.thrust_n, v.min_impulse_bit_ns,
                                                prm.get("HOV_BW_RADPS"), prm.get("HOV_ZETA"))
        self.cycle_s = 1.0 / cfg.base_rate_hz
        self._last_imu = None
        self._last_st_us = None
        self._last_fix_us = None
        self._pointing_err_rad = 0.0

    def _make_scheduler(self) -> Scheduler:
        base = self.config.base_rate_hz
        fast = RateGroup("fast", base, [
            Task("bus_in", self._task_bus_in, 3000),
            Task("nav", self._task_nav, 1000),
            Task("control", self._task_control, 1000),
        ])
        slow = RateGroup("slow", 1, [
            Task("guidance", self._task_guidance, 1000),
            Task("telemetry", self._task_telemetry, 1000),
            Task("fault_prot", self._task_fault_protection, 500),
        ])
        background = RateGroup("background", 0.1, [])
        scheduler = Scheduler(self.clock, [fast, slow, background], events=self.events,
                              timing_telemetry=self.config.timing_telemetry)
        scheduler.add_task("background", scheduler.telemetry_task(self.port.send))
        return scheduler

    def _register_commands(self) -> None:
        self.commands.register(mavlink.PROBE_CMD_SET_HOVER_POINT, self._cmd_set_hover_point,
                               validate=_validate_hover_point, unused_params=(4, 5, 6, 7))
        self.commands.register(mavlink.PROBE_CMD_RESET_SCHED_STATS, self._cmd_reset_stats,
                               unused_params=(1, 2, 3, 4, 5, 6, 7))

    # -- commands and parameters ---------------------------------------------------
    def _cmd_set_hover_point(self, params) -> CommandResult:
        self.guidance.set_target((params[0], params[1], params[2]))
        self.events.emit(Severity.INFO, "guidance",
                         f"hover point {params[0]:.1f} {params[1]:.1f} {params[2]:.1f} m")
        return CommandResult.ACCEPTED

    def _cmd_reset_stats(self, params) -> CommandResult:
        self.scheduler.reset_stats()
        return CommandResult.ACCEPTED

    def _on_param_change(self, name, old, new) -> None:
        prm = self.params
        if name in ("HOV_BW_RADPS", "HOV_ZETA"):
            self.trans_ctrl.set_gains(prm.get("HOV_BW_RADPS"), prm.get("HOV_ZETA"))
        elif name in ("ATT_BW_RADPS", "ATT_ZETA"):
            self.att_ctrl.set_gains(prm.get("ATT_BW_RADPS"), prm.get("ATT_ZETA"))
        elif name == "NAV_ACC_NOISE":
            self.nav.translation.accel_noise = new
        elif name == "NAV_ACC_WALK":
            self.nav.translation.acc_walk = new
        elif name == "NAV_GYRO_NOISE":
            self.nav.attitude.gyro_noise = new
        elif name == "NAV_GBIAS_WALK":
            self.nav.attitude.bias_walk = new

    # -- tasks ---------------------------------------------------------------------
    def _task_bus_in(self, t_us: int) -> None:
        self.port.pump()

    def _task_nav(self, t_us: int) -> None:
        nav = self.nav
        gate = self.params.get("NAV_GATE_SIG")
        imu = self.imu.take()
        if imu is not None:
            dt = self.cycle_s if self._last_imu is None else (imu.t_us - self._last_imu.t_us) * 1e-6
            self._last_imu = imu
            nav.on_imu(imu.accel_sc_mps2, imu.rate_sc_radps, dt)
        elif self._last_imu is not None:
            # A dropped IMU sample: carry the last one across the gap.
            last = self._last_imu
            nav.on_imu(last.accel_sc_mps2, last.rate_sc_radps, self.cycle_s)
        st = self.star_tracker.take()
        if st is not None:
            if nav.attitude.update(st.q_i_to_sc, st.sigma_rad, gate):
                self._last_st_us = st.t_us
        fix = self.navcam.take()
        if fix is not None and nav.attitude.initialised:
            if nav.translation.update_position_bf(fix.t_us * 1e-6, fix.pos_bf_m, fix.sigma_m,
                                                  gate):
                self._last_fix_us = fix.t_us

    def _task_control(self, t_us: int) -> None:
        nav = self.nav
        if not nav.attitude.initialised:
            return
        mode = self.modes.current
        t_s = t_us * 1e-6
        att = nav.attitude
        wheel_h = self._wheel_momentum_nms()
        if mode == Mode.SAFE or not nav.translation.initialised:
            # Safe: null the rates on the wheels, thrusters silent.
            conj_ref = att.q_i_to_sc
            torques = self.att_ctrl.wheel_torques(att.q_i_to_sc, att.rate_sc_radps, conj_ref,
                                                  (0.0, 0.0, 0.0), wheel_h)
            self.wheels.command_torque(t_us, torques)
            return
        ref = self.guidance.reference(t_s)
        torques = self.att_ctrl.wheel_torques(att.q_i_to_sc, att.rate_sc_radps, ref.q_i_to_sc,
                                              ref.rate_sc_radps, wheel_h)
        self.wheels.command_torque(t_us, torques)
        err = self.att_ctrl.pointing_error_rad(att.q_i_to_sc, ref.q_i_to_sc)
        self._pointing_err_rad = math.hypot(err[0], err[1])  # boresight is +z: tilt only
        if mode == Mode.HOVER:
            tr = nav.translation
            pos, vel = tr.position_i(), tr.velocity_i()
            a_cmd = self.trans_ctrl.accel_command_i(pos, vel, ref.pos_i_m, ref.vel_i_mps,
                                                    ref.acc_i_mps2, tr.gravity_i(pos))
            on_times = self.trans_ctrl.on_times(a_cmd, att.q_i_to_sc, self.cycle_s)
            if any(on_times):
                self.thrusters.command_on_times(t_us, on_times, self.cycle_s)

    def _wheel_momentum_nms(self) -> tuple:
        sample = self.wheels.latest
        if sample is None:
            return tuple(0.0 for _ in self.wheel_axes)
        j = self.config.vehicle.wheel_inertia_kgm2
        return tuple(s * j for s in sample.speed_radps)

    def _task_guidance(self, t_us: int) -> None:
        tr = self.nav.translation
        if not tr.initialised:
            return
        target = self.guidance.target_bf_m
        pos_bf = self.body.i_to_bf(t_us * 1e-6, tr.position_i())
        err = (pos_bf[0] - target[0], pos_bf[1] - target[1], pos_bf[2] - target[2])
        self.port.send(mavlink.MAVLink_probe_guidance_status_message(
            t_us, list(target), list(err), self._pointing_err_rad, self.trans_ctrl.dv_total_mps))

    def _task_telemetry(self, t_us: int) -> None:
        self.port.send(self.modes.heartbeat_message())
        nav = self.nav
        if not nav.ready:
            return
        tr, att = nav.translation, nav.attitude
        self.port.send(mavlink.MAVLink_probe_nav_state_message(
            t_us, list(tr.position_i()), list(tr.velocity_i()), list(att.q_i_to_sc),
            list(att.rate_sc_radps), list(tr.pos_sigma_m()), list(tr.vel_sigma_mps()),
            list(att.angle_sigma_rad())))

    def _task_fault_protection(self, t_us: int) -> None:
        if self.modes.current == Mode.SAFE or not self.params.get("FP_ENABLE"):
            return
        prm = self.params
        reason = None
        if self._last_st_us is None or t_us - self._last_st_us > prm.get("FP_ST_TMO_S") * 1e6:
            reason = "star tracker lost"
        elif self.modes.current == Mode.HOVER:
            if self._last_fix_us is None or (
                    t_us - self._last_fix_us > prm.get("FP_FIX_TMO_S") * 1e6):
                reason = "navigation fixes lost"
            elif norm(self.nav.translation.pos_sigma_m()) > prm.get("FP_NAV_SIG_M"):
                reason = "navigation uncertainty too large"
        if reason is not None:
            self.modes.force_safe(reason)

    # -- host interface ------------------------------------------------------------
    def run_frame(self) -> None:
        """Run the tasks due at the clock's current time (one minor frame)."""
        self.scheduler.run_frame()

    def pointing_error_estimate_rad(self) -> float:
        return self._pointing_err_rad


def _validate_hover_point(params) -> str | None:
    r = math.sqrt(params[0] ** 2 + params[1] ** 2 + params[2] ** 2)
    if not HOVER_POINT_MIN_M <= r <= HOVER_POINT_MAX_M:
        return (f"hover point radius {r:.1f} m outside [{HOVER_POINT_MIN_M:.0f}, "
                f"{HOVER_POINT_MAX_M:.0f}] m")
    return None

