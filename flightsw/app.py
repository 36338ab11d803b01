"""The flight software, assembled: drivers, navigation, guidance, control,
fault protection and telemetry as tasks in rate groups.

`FlightSoftware(config, bus, clock, record)` is all a host needs: the SIL
runner, the HIL rig and replay plug in a different Bus and Clock and nothing
else.  One cycle: bus_in (messages to drivers, commands, parameters) -> nav
-> control (actuator messages out); at 1 Hz guidance status, telemetry and
fault protection; at 0.1 Hz scheduler statistics.
"""

import math
from collections import deque

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
from flightsw.gnc.mass_measure import DONE as SPIN_DONE
from flightsw.gnc.mass_measure import SpinInertiaMeasurement, sample_mass_kg
from flightsw.gnc.nav_ekf import TranslationEKF
from flightsw.gnc.navigation import AttitudeFilter, Navigator
from flightsw.gnc.quat import dot, norm, q_from_rotvec, q_mul
from flightsw.gnc.tag import (
    PHASE_FINAL,
    PHASE_IDLE,
    PHASE_TO_MATCHPOINT,
    TagGuidance,
    TagProfile,
    hazard_clearance_m,
)
from flightsw.hal.bus import Bus, BusPort
from flightsw.hal.drivers import (
    Altimeter,
    Imu,
    Instruments,
    NavCamera,
    Power,
    Sampler,
    ScanLidar,
    Spectrometer,
    StarTracker,
    Thrusters,
    Wheels,
)
from flightsw.icd import mavlink
from flightsw.params_table import FLIGHT_PARAMS
from flightsw.prospect.campaign import DONE as SURVEY_DONE
from flightsw.prospect.campaign import SurveyCampaign

HOVER_POINT_MIN_M = 300.0  # outside Bennu's circumscribing sphere
HOVER_POINT_MAX_M = 100_000.0
BACKAWAY_SLOT = 6  # thruster slot of the back-away thruster (along -z spacecraft)

# Touch-and-go sequence phases beyond the descent guidance's own (ICD PROBE_TAG_PHASE).
TAG_PHASE_CONTACT = mavlink.PROBE_TAG_PHASE_CONTACT
TAG_PHASE_BURN = mavlink.PROBE_TAG_PHASE_BACKAWAY_BURN
TAG_PHASE_CLIMB = mavlink.PROBE_TAG_PHASE_CLIMB
TAG_PHASE_DONE = mavlink.PROBE_TAG_PHASE_DONE


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
        self.scan_lidar = ScanLidar(p)
        self.instruments = Instruments(p)

    def _make_gnc(self) -> None:
        cfg = self.config
        v, b, prm = cfg.vehicle, cfg.body, self.params
        self.body = SpinningBody(b.pole_ra_deg, b.pole_dec_deg, b.rotation_period_s, b.w0_deg)
        self.wheel_axes = wheel_axes_sc(v.wheel_count)
        self.nav = Navigator(
            AttitudeFilter(prm.get("NAV_GYRO_NOISE"), prm.get("NAV_GBIAS_WALK")),
            TranslationEKF(self.body, b.gm_m3s2, prm.get("NAV_ACC_NOISE"),
                           prm.get("NAV_ACC_WALK")),
        )
        self.landmarks_bf = cfg.landmarks_bf_m
        site = cfg.tag
        self.tag = None
        self.tag_site = None  # (target_bf_m, normal_bf) of the touch-and-go target
        self.hazards = ()
        if site is not None:
            self.set_tag_target(tuple(site.target_bf_m), tuple(site.normal_bf),
                                tuple(site.hazards))
        self.campaign = None
        if cfg.prospect is not None:
            self.campaign = SurveyCampaign(
                cfg.prospect, self.body, prm, self.events, self.port.send, self.instruments,
                v.arm_length_m,
                lambda: self._profile().expected_duration_s(prm.get("PRS_HOME_M")))
        self._auto_tag_pending = False
        self._auto_tag_after_us = 0
        self.tag_phase = PHASE_IDLE
        self.waveoffs: list[str] = []
        self.tag_event_times: dict[str, float] = {}  # for telemetry and the report
        self._t_contact_us = None
        self._gas_fired = False
        self._burn_cycles_left = 0
        self._predicted_contact_bf = (0.0, 0.0, 0.0)
        self._predicted_miss_m = math.nan
        self._hazard_clearance_m = math.inf
        self._last_lm_us = None
        # (t_us, position_i, q_i_to_sc, rate_sc) of the last nav cycles, for pose_at.
        self._poses: deque = deque(maxlen=4 * cfg.base_rate_hz)
        self.spin = SpinInertiaMeasurement(prm.get("MASS_SPIN_RADPS"), prm.get("MASS_MEAS_S"))
        self._spin_which = 0
        self.inertia_results: dict[int, tuple[float, float]] = {}
        self.sample_mass_estimate: tuple[float, float] | None = None
        self.guidance = HoverGuidance(self.body, tuple(cfg.hover_point_bf_m))
        self.att_ctrl = AttitudeController(v.inertia_kgm2, self.wheel_axes,
                                           prm.get("ATT_BW_RADPS"), prm.get("ATT_ZETA"),
                                           v.wheel_max_torque_nm)
        self.att_ctrl.max_slew_radps = prm.get("ATT_SLEW_RADPS")
        self.trans_ctrl = TranslationController(v.mass_kg, v.thrust_n, v.min_impulse_bit_ns,
                                                prm.get("HOV_BW_RADPS"), prm.get("HOV_ZETA"))
        self.trans_ctrl.max_close_mps = prm.get("HOV_VMAX_MPS")
        self.cycle_s = 1.0 / cfg.base_rate_hz
        self._last_imu = None
        self._last_prop_us = None
        self._last_st_us = None
        self._last_fix_us = None
        self._pointing_err_rad = 0.0

    def set_tag_target(self, target_bf: tuple, normal_bf: tuple, hazards: tuple = ()) -> None:
        """The touch-and-go target (from the configuration or the survey's choice)."""
        self.tag = TagGuidance(self.body, target_bf, normal_bf, self.config.vehicle.arm_length_m)
        self.tag_site = (target_bf, normal_bf)
        self.hazards = tuple(hazards)

    def _make_scheduler(self) -> Scheduler:
        base = self.config.base_rate_hz
        fast = RateGroup("fast", base, [
            Task("bus_in", self._task_bus_in, 3000),
            Task("nav", self._task_nav, 2000),
            Task("sequence", self._task_sequence, 500),
            Task("control", self._task_control, 1000),
        ])
        slow = RateGroup("slow", 1, [
            Task("guidance", self._task_guidance, 1000),
            Task("telemetry", self._task_telemetry, 1000),
            Task("fault_prot", self._task_fault_protection, 500),
            Task("prospect", self._task_prospect, 20000),
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
        self.commands.register(mavlink.PROBE_CMD_START_TAG, self._cmd_start_tag,
                               allowed_modes={Mode.HOVER}, unused_params=(1, 2, 3, 4, 5, 6, 7))
        self.commands.register(mavlink.PROBE_CMD_WAVE_OFF, self._cmd_wave_off,
                               allowed_modes={Mode.DESCENT}, unused_params=(1, 2, 3, 4, 5, 6, 7))
        self.commands.register(mavlink.PROBE_CMD_START_SURVEY, self._cmd_start_survey,
                               allowed_modes={Mode.HOVER}, validate=_validate_scan_duration,
                               unused_params=(2, 3, 4, 5, 6, 7))
        self.commands.register(mavlink.PROBE_CMD_CHOOSE_SITE, self._cmd_choose_site,
                               allowed_modes={Mode.HOVER, Mode.SURVEY}, validate=_validate_rank,
                               unused_params=(2, 3, 4, 5, 6, 7))
        self.commands.register(mavlink.PROBE_CMD_MEASURE_MASS, self._cmd_measure_mass,
                               allowed_modes={Mode.HOVER}, validate=_validate_which,
                               unused_params=(2, 3, 4, 5, 6, 7))

    # -- commands and parameters ---------------------------------------------------
    def _cmd_set_hover_point(self, params) -> CommandResult:
        self.guidance.set_target((params[0], params[1], params[2]))
        self.events.emit(Severity.INFO, "guidance",
                         f"hover point {params[0]:.1f} {params[1]:.1f} {params[2]:.1f} m")
        return CommandResult.ACCEPTED

    def _cmd_start_survey(self, params) -> CommandResult:
        if self.campaign is None:
            self.events.emit(Severity.WARNING, "survey", "no shape model on board")
            return CommandResult.FAILED
        if not self.nav.ready:
            return CommandResult.BUSY
        result = self.modes.request(Mode.SURVEY, "start the spectral survey")
        if result != CommandResult.ACCEPTED:
            return result
        hover = self.guidance.reference
        self.campaign.start(self.clock.now_us() * 1e-6, hover, float(params[0]))
        return CommandResult.ACCEPTED

    def _cmd_choose_site(self, params) -> CommandResult:
        if self.campaign is None or not self.campaign.candidates:
            self.events.emit(Severity.WARNING, "survey", "no ranked candidates yet")
            return CommandResult.FAILED
        if not self.campaign.choose(self.clock.now_us() * 1e-6, int(params[0])):
            return CommandResult.INVALID_PARAM
        self._hand_site_to_guidance()
        return CommandResult.ACCEPTED

    def _hand_site_to_guidance(self) -> None:
        c = self.campaign.chosen
        normal = tuple(float(x) for x in self.campaign.shape.normals[c.site_id])
        self.set_tag_target(tuple(float(x) for x in c.point_bf_m), normal, ())
        self.guidance.set_target(self.campaign.safe_home_bf())

    def _home_reference(self, campaign):
        """Reference of safe-home above the chosen site (used by the transfer there)."""
        self._hand_site_to_guidance()
        return self.guidance.reference

    def pose_at(self, t_us: int) -> tuple:
        """Navigation's position (inertial) and attitude at t_us, from the last seconds.

        An instrument sample is stamped when it was taken; the 1 Hz task that reads it
        runs up to a second later, when a slewing probe points ~10 m elsewhere at survey
        range.  The estimate of the nearest earlier cycle, attitude carried forward by its
        rate over the remaining microseconds (none when the stamps are cycle times).
        """
        best = None
        for pose in reversed(self._poses):
            best = pose
            if pose[0] <= t_us:
                break
        if best is None:
            tr = self.nav.translation
            return tr.position_i(), self.nav.attitude.q_i_to_sc
        t0, pos, q, rate = best
        dt = (t_us - t0) * 1e-6
        if dt != 0.0:
            q = q_mul(q, q_from_rotvec((rate[0] * dt, rate[1] * dt, rate[2] * dt)))
        return pos, q

    def _task_prospect(self, t_us: int) -> None:
        camp = self.campaign
        if camp is None:
            return
        spectra = self.spectrometer.take_all()
        scans = self.scan_lidar.take_all()
        mode = self.modes.current
        if mode == Mode.SURVEY:
            camp.step(t_us, self.pose_at, spectra, scans, self._home_reference)
            if camp.state == SURVEY_DONE:
                self.modes.request(Mode.HOVER, "survey done: safe-home above the chosen site")
                self._auto_tag_pending = bool(self.params.get("PRS_AUTO_TAG")) and \
                    camp.chosen is not None
                self._auto_tag_after_us = t_us + self.params.get("PRS_SETTLE_S") * 1e6
        elif mode == Mode.HOVER and self._auto_tag_pending and \
                t_us >= self._auto_tag_after_us and \
                t_us >= (camp.descent_start_s() or 0.0) * 1e6:
            result = self._cmd_start_tag(())
            if result == CommandResult.ACCEPTED:
                self._auto_tag_pending = False
            elif result == CommandResult.BUSY:
                # Not there yet: hover on, the contact moves to the next good light.
                self._auto_tag_after_us = t_us + self.params.get("PRS_SETTLE_S") * 1e6
                camp.plan_contact(t_us * 1e-6)
            else:
                self._auto_tag_pending = False
                self.events.emit(Severity.WARNING, "survey",
                                 f"automatic touch-and-go refused: {result.name}")

    def _cmd_reset_stats(self, params) -> CommandResult:
        self.scheduler.reset_stats()
        return CommandResult.ACCEPTED

    def _cmd_start_tag(self, params) -> CommandResult:
        if self.tag is None:
            self.events.emit(Severity.WARNING, "tag", "no touch-and-go target on board")
            return CommandResult.FAILED
        tr = self.nav.translation
        if not self.nav.ready or norm(tr.pos_sigma_m()) > self.params.get("TAG_NAV_SIG_M"):
            self.events.emit(Severity.WARNING, "tag", "navigation not good enough to descend")
            return CommandResult.BUSY
        t_s = self.clock.now_us() * 1e-6
        pos_bf = self.body.i_to_bf(t_s, tr.position_i())
        if norm(self.tag.lateral_offset_bf(pos_bf)) > 20.0:
            self.events.emit(Severity.WARNING, "tag", "not above the target: hover there first")
            return CommandResult.BUSY  # try again once the hover has converged
        result = self.modes.request(Mode.DESCENT, "start touch-and-go")
        if result != CommandResult.ACCEPTED:
            return result
        self.tag.start(t_s, self.tag.head_height_m(pos_bf))
        self.tag_event_times["descent"] = t_s
        self.tag_phase = self.tag.phase
        self._t_contact_us = None
        self._gas_fired = False
        self.sampler.command(self.clock.now_us(), mavlink.PROBE_SAMPLER_DEPLOY)
        self.events.emit(Severity.NOTICE, "tag", "descent started toward Checkpoint")
        return CommandResult.ACCEPTED

    def _cmd_wave_off(self, params) -> CommandResult:
        self._wave_off("commanded by the ground")
        return CommandResult.ACCEPTED

    def _cmd_measure_mass(self, params) -> CommandResult:
        which = int(params[0])
        if which == 1 and 0 not in self.inertia_results:
            self.events.emit(Severity.WARNING, "mass", "no baseline measurement yet")
            return CommandResult.FAILED
        result = self.modes.request(Mode.MASS_MEASURE, "spin-method mass measurement")
        if result != CommandResult.ACCEPTED:
            return result
        self._spin_which = which
        self.spin = SpinInertiaMeasurement(self.params.get("MASS_SPIN_RADPS"),
                                           self.params.get("MASS_MEAS_S"))
        self.spin.start(self.clock.now_us() * 1e-6)
        self.events.emit(Severity.INFO, "mass", f"spin test {which} started")
        return CommandResult.ACCEPTED

    def _wave_off(self, reason: str) -> None:
        self.waveoffs.append(reason)
        self.events.emit(Severity.WARNING, "tag", f"wave-off: {reason}")
        self._enter_backaway()

    def _enter_backaway(self) -> None:
        self.tag_event_times.setdefault("backaway", self.clock.now_us() * 1e-6)
        self.modes.request(Mode.BACKAWAY, "back away")
        self.tag.stop()
        self.tag_phase = TAG_PHASE_BURN
        v = self.config.vehicle
        if v.backaway_force_n > 0.0:
            burn_s = self.params.get("TAG_BACKAWAY_DV") * v.mass_kg / v.backaway_force_n
            self._burn_cycles_left = max(1, round(burn_s / self.cycle_s))
        else:
            self._burn_cycles_left = 0

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
        elif name == "ATT_SLEW_RADPS":
            self.att_ctrl.max_slew_radps = new
        elif name == "HOV_VMAX_MPS":
            self.trans_ctrl.max_close_mps = new

    # -- tasks ---------------------------------------------------------------------
    def _task_bus_in(self, t_us: int) -> None:
        self.port.pump()

    def _task_nav(self, t_us: int) -> None:
        nav = self.nav
        prm = self.params
        gate = prm.get("NAV_GATE_SIG")
        imu = self.imu.take()
        cycle_us = round(self.cycle_s * 1e6)
        if imu is not None:
            # dt from the last propagation, not the last sample: a gap was already
            # bridged frame by frame below (found in HIL link outages).
            last_us = self._last_prop_us
            dt = self.cycle_s if last_us is None else max(0, imu.t_us - last_us) * 1e-6
            self._last_imu = imu
            self._last_prop_us = imu.t_us
            if dt > 0.0:
                nav.on_imu(imu.accel_sc_mps2, imu.rate_sc_radps, dt)
        elif self._last_imu is not None:
            # A dropped IMU sample: carry the last one across the gap.
            last = self._last_imu
            nav.on_imu(last.accel_sc_mps2, last.rate_sc_radps, self.cycle_s)
            self._last_prop_us += cycle_us
        st = self.star_tracker.take()
        if st is not None:
            if nav.attitude.update(st.q_i_to_sc, st.sigma_rad, gate):
                self._last_st_us = st.t_us
        if not nav.attitude.initialised:
            self.navcam.take_sightings()
            return
        q = nav.attitude.q_i_to_sc
        tr = nav.translation
        sightings = self.navcam.take_sightings()
        if sightings:
            catalogue = self.landmarks_bf
            obs = [(catalogue[s.landmark_id], s.los_sc) for s in sightings
                   if s.landmark_id < len(catalogue)]
            if obs:
                att_sigma = max(nav.attitude.angle_sigma_rad())
                sigma = max(prm.get("NAV_LM_SIG_RAD"), sightings[0].sigma_rad)
                used = tr.update_landmarks(sightings[0].t_us * 1e-6, obs, q, sigma, att_sigma,
                                           prm.get("NAV_LM_CAT_M"))
                if used:
                    self._last_lm_us = sightings[0].t_us
                    self._last_fix_us = sightings[0].t_us
        fix = self.navcam.take()
        if fix is not None:
            if tr.update_position_bf(fix.t_us * 1e-6, fix.pos_bf_m, fix.sigma_m):
                self._last_fix_us = fix.t_us
        rng = self.altimeter.take()
        if rng is not None and self.tag is not None and tr.initialised \
                and rng.range_m < prm.get("NAV_LIDAR_MAX_M"):
            target_bf, normal_bf = self.tag_site
            tr.update_range_to_plane(rng.range_m, max(prm.get("NAV_LIDAR_SIG_M"), rng.sigma_m),
                                     (0.0, 0.0, 1.0), q, rng.t_us * 1e-6, target_bf, normal_bf)
        if tr.initialised:
            self._poses.append((t_us, tr.position_i(), nav.attitude.q_i_to_sc,
                                nav.attitude.rate_sc_radps))

    def _hazard_waveoff_reason(self, margin_m: float) -> str:
        # A negative clearance is a contact inside the hazard: say so rather than
        # print "-3.0 m from", which reads as a typo.
        c = self._hazard_clearance_m
        if c < 0.0:
            return f"predicted contact {-c:.1f} m inside a mapped hazard's edge"
        return (f"predicted contact {c:.1f} m from a mapped hazard's edge "
                f"(TAG_HAZ_MARGIN_M {margin_m:.1f} m)")

    def _estimate_bf(self, t_s: float) -> tuple:
        """Estimated position and body-relative velocity in the body-fixed frame."""
        tr = self.nav.translation
        pos_i, vel_i = tr.position_i(), tr.velocity_i()
        rel_i = self.body.relative_velocity_i(pos_i, vel_i)
        return self.body.i_to_bf(t_s, pos_i), self.body.i_to_bf(t_s, rel_i)

    def _task_sequence(self, t_us: int) -> None:
        """Mode logic that runs at the control rate: touch-and-go and the spin test."""
        mode = self.modes.current
        if mode == Mode.HOVER and self.tag_phase == TAG_PHASE_DONE and \
                1 not in self.inertia_results and 0 in self.inertia_results and \
                self.params.get("TAG_AUTO_MASS") and \
                t_us - self.modes.entered_us >= self.params.get("TAG_MASS_WAIT_S") * 1e6:
            self._cmd_measure_mass((1.0, 0, 0, 0, 0, 0, 0))
            return
        if mode == Mode.MASS_MEASURE:
            self._sequence_mass(t_us)
        elif mode in (Mode.DESCENT, Mode.TAG, Mode.BACKAWAY) and self.tag is not None:
            self._sequence_tag(t_us)

    def _sequence_mass(self, t_us: int) -> None:
        self.nav.attitude.bias_frozen = self.spin.state in ("spin_up", "measure", "spin_down")
        tach = self.wheels.take()
        h_sc = self._wheel_h_sc() if tach is not None else None
        att = self.nav.attitude
        change = self.spin.step(t_us * 1e-6, att.rate_sc_radps, h_sc, att.q_i_to_sc,
                                self.config.vehicle.inertia_kgm2)
        if change is None:
            if self.spin.state == SPIN_DONE and self._pointing_err_rad < math.radians(1.0):
                self.modes.request(Mode.HOVER, "spin test done, pointing restored")
            return
        self.events.emit(Severity.INFO, "mass", f"spin test: {change}")
        if change == SPIN_DONE:
            which = self._spin_which
            result = (self.spin.inertia_kgm2, self.spin.inertia_sigma_kgm2)
            self.inertia_results[which] = result
            mass, sigma = math.nan, math.nan
            if which == 1 and 0 in self.inertia_results:
                before = self.inertia_results[0]
                mass, sigma = sample_mass_kg(before[0], before[1], result[0], result[1],
                                             self.config.vehicle.arm_length_m)
                self.sample_mass_estimate = (mass, sigma)
                self.events.emit(Severity.NOTICE, "mass",
                                 f"sample mass {mass * 1000:.1f} g, 3-sigma "
                                 f"{3 * sigma * 1000:.1f} g")
            self.port.send(mavlink.MAVLink_probe_mass_estimate_message(
                t_us, which, result[0], result[1], mass, sigma))


    def _sequence_tag(self, t_us: int) -> None:
        prm = self.params
        t_s = t_us * 1e-6
        mode = self.modes.current
        tag = self.tag
        pos_bf, vel_bf = self._estimate_bf(t_s)
        head_h = tag.head_height_m(pos_bf)
        if mode == Mode.DESCENT:
            event = tag.advance(t_s, self._profile())
            if event is not None:
                self.tag_event_times[event] = t_s
                rate = -tag.commanded_rate_mps(self._profile())
                self.events.emit(Severity.NOTICE, "tag",
                                 f"{event} burn at head height {head_h:.1f} m, "
                                 f"descent rate now {rate:.3f} m/s")
            self.tag_phase = tag.phase
            point, _ = tag.predicted_contact_bf(pos_bf, vel_bf)
            self._predicted_contact_bf = point
            self._predicted_miss_m = math.dist(point, tag.target_bf_m)
            self._hazard_clearance_m = hazard_clearance_m(point, self.hazards)
            if self._contact_detected():
                self._t_contact_us = t_us
                self.tag_event_times["contact"] = t_s
                self.modes.request(Mode.TAG, "contact")
                self.tag_phase = TAG_PHASE_CONTACT
                self.events.emit(Severity.NOTICE, "tag",
                                 f"contact at head height estimate {head_h:.2f} m")
                return
            if tag.phase >= PHASE_TO_MATCHPOINT and head_h > prm.get("TAG_HAZ_CHECK_M") and \
                    self._hazard_clearance_m < prm.get("TAG_HAZ_MARGIN_M"):
                self._wave_off(self._hazard_waveoff_reason(prm.get("TAG_HAZ_MARGIN_M")))
            elif tag.phase == PHASE_FINAL and min(head_h, tag.h_ref_m) < -prm.get(
                    "TAG_CONTACT_WIN"):
                # The estimate alone would not do: regolith that stops the probe without
                # the contact being sensed keeps the head near 0 while the reference
                # sinks on, so its going past the window ends the wait as well.
                self._wave_off("contact not detected in its window")
            return
        if mode == Mode.TAG:
            since_s = (t_us - self._t_contact_us) * 1e-6
            if not self._gas_fired and since_s >= prm.get("TAG_GAS_DELAY_S"):
                self.sampler.command(t_us, mavlink.PROBE_SAMPLER_FIRE_GAS)
                self._gas_fired = True
                self.events.emit(Severity.INFO, "tag", "sampler gas fired")
            if since_s >= prm.get("TAG_CONTACT_S"):
                self.events.emit(Severity.NOTICE, "tag", "back-away burn")
                self._enter_backaway()
            return
        # BACKAWAY: burn, then coast up to the safe height, then hover there.
        if self.tag_phase == TAG_PHASE_BURN and self._burn_cycles_left <= 0:
            self.tag_phase = TAG_PHASE_CLIMB
        if self.tag_phase == TAG_PHASE_CLIMB:
            safe = prm.get("TAG_SAFE_ALT_M")
            # Brake into the hover point once the thrusters can stop us near it.
            if head_h >= safe - 40.0 or dot(tag.normal_bf, vel_bf) <= 0.0:
                self.guidance.set_target(tag.home_point_bf(max(safe, head_h)))
                self.modes.request(Mode.HOVER, "climb done")
                self.tag_phase = TAG_PHASE_DONE
                self.sampler.command(t_us, mavlink.PROBE_SAMPLER_STOW)
                self.events.emit(Severity.NOTICE, "tag",
                                 f"climb done at head height {head_h:.1f} m; hovering")

    def _contact_detected(self) -> bool:
        status = self.sampler.latest
        if status is not None and status.contact:
            return True
        imu = self._last_imu
        # The surface pushes back along -z spacecraft (the boresight looks down).
        return imu is not None and imu.accel_sc_mps2[2] < -self.params.get("TAG_CONTACT_ACC")

    def _profile(self) -> TagProfile:
        prm = self.params
        return TagProfile(prm.get("TAG_CP_ALT_M"), prm.get("TAG_MP_ALT_M"),
                          prm.get("TAG_DESC_MPS"), prm.get("TAG_CP_MP_S"),
                          prm.get("TAG_CONTACT_MPS"), prm.get("TAG_ACC_LIM"))

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
            torques = self.att_ctrl.rate_torques(att.rate_sc_radps, (0.0, 0.0, 0.0), wheel_h)
            self.wheels.command_torque(t_us, torques)
            return
        if mode in (Mode.DESCENT, Mode.TAG, Mode.BACKAWAY) and self.tag is not None:
            ref = self.tag.reference(t_s, self.body.pole_i)
        elif mode == Mode.SURVEY and self.campaign.reference_fn is not None:
            ref = self.campaign.reference_fn(t_s)
        else:
            ref = self.guidance.reference(t_s)
        if mode == Mode.MASS_MEASURE and self.spin.rate_controlled():
            w_ref = (self.spin.rate_command_x(), 0.0, 0.0)
            torques = self.att_ctrl.rate_torques(att.rate_sc_radps, w_ref, wheel_h)
        else:
            torques = self.att_ctrl.wheel_torques(att.q_i_to_sc, att.rate_sc_radps,
                                                  ref.q_i_to_sc, ref.rate_sc_radps, wheel_h)
        self.wheels.command_torque(t_us, torques)
        err = self.att_ctrl.pointing_error_rad(att.q_i_to_sc, ref.q_i_to_sc)
        self._pointing_err_rad = math.hypot(err[0], err[1])  # boresight is +z: tilt only
        if mode in (Mode.HOVER, Mode.MASS_MEASURE, Mode.DESCENT, Mode.SURVEY):
            tr = nav.translation
            pos, vel = tr.position_i(), tr.velocity_i()
            a_cmd = self.trans_ctrl.accel_command_i(pos, vel, ref.pos_i_m, ref.vel_i_mps,
                                                    ref.acc_i_mps2, tr.gravity_i(pos))
            on_times = self.trans_ctrl.on_times(a_cmd, att.q_i_to_sc, self.cycle_s)
            if any(on_times):
                self.thrusters.command_on_times(t_us, on_times, self.cycle_s)
        elif mode == Mode.BACKAWAY and self._burn_cycles_left > 0:
            on = [0.0] * 7
            on[BACKAWAY_SLOT] = self.cycle_s
            self.thrusters.command_on_times(t_us, tuple(on), self.cycle_s)
            self._burn_cycles_left -= 1

    def _wheel_h_sc(self) -> tuple:
        """Wheel angular momentum in the spacecraft frame, N m s."""
        h = self._wheel_momentum_nms()
        out = [0.0, 0.0, 0.0]
        for a, hj in zip(self.wheel_axes, h, strict=False):
            out[0] += a[0] * hj
            out[1] += a[1] * hj
            out[2] += a[2] * hj
        return tuple(out)

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
        self.port.send(mavlink.MAVLink_probe_nav_bias_message(
            t_us, list(tr.accel_bias_sc()), list(tr.accel_bias_sigma_mps2()),
            list(att.bias_sc_radps), list(att.bias_sigma_radps()),
            min(tr.landmarks_used, 0xFFFFFFFF), min(tr.rejected + att.rejected, 0xFFFFFFFF)))
        if self.tag is not None and self.modes.current in (Mode.DESCENT, Mode.TAG,
                                                           Mode.BACKAWAY):
            pos_bf, vel_bf = self._estimate_bf(t_us * 1e-6)
            clearance = self._hazard_clearance_m
            self.port.send(mavlink.MAVLink_probe_tag_status_message(
                t_us, self.tag_phase, self.tag.head_height_m(pos_bf),
                dot(self.tag.normal_bf, vel_bf), list(self._predicted_contact_bf),
                self._predicted_miss_m, clearance if math.isfinite(clearance) else 1e9,
                min(len(self.waveoffs), 255)))

    def _task_fault_protection(self, t_us: int) -> None:
        mode = self.modes.current
        if mode in (Mode.SAFE, Mode.TAG, Mode.BACKAWAY) or not self.params.get("FP_ENABLE"):
            return  # in contact or backing away, finishing the sequence is the safe choice
        prm = self.params
        reason = None
        if self._last_st_us is None or t_us - self._last_st_us > prm.get("FP_ST_TMO_S") * 1e6:
            reason = "star tracker lost"
        elif mode in (Mode.HOVER, Mode.SURVEY):
            if self._last_fix_us is None or (
                    t_us - self._last_fix_us > prm.get("FP_FIX_TMO_S") * 1e6):
                reason = "navigation fixes lost"
            elif norm(self.nav.translation.pos_sigma_m()) > prm.get("FP_NAV_SIG_M"):
                reason = "navigation uncertainty too large"
        elif mode == Mode.DESCENT:
            if self._last_lm_us is None or (
                    t_us - self._last_lm_us > prm.get("TAG_LM_TMO_S") * 1e6):
                reason = "landmarks lost"
            elif norm(self.nav.translation.pos_sigma_m()) > prm.get("TAG_NAV_SIG_M"):
                reason = "navigation uncertainty too large"
        if reason is None:
            return
        if mode == Mode.DESCENT:
            self._wave_off(f"navigation degraded: {reason}")
        else:
            self.modes.force_safe(reason)

    # -- host interface ------------------------------------------------------------
    def run_frame(self) -> None:
        """Run the tasks due at the clock's current time (one minor frame)."""
        self.scheduler.run_frame()


def _validate_scan_duration(params) -> str | None:
    if not math.isfinite(params[0]) or params[0] < 0.0:
        return f"scan duration must be >= 0 s (0 = PRS_MAX_SCAN_S), got {params[0]}"
    return None


def _validate_rank(params) -> str | None:
    if params[0] != int(params[0]) or not 1 <= params[0] <= 10:
        return f"rank must be an integer 1..10, got {params[0]}"
    return None


def _validate_which(params) -> str | None:
    if params[0] not in (0.0, 1.0):
        return f"param1 must be 0 (baseline) or 1 (after sampling), got {params[0]}"
    return None


def _validate_hover_point(params) -> str | None:
    r = math.sqrt(params[0] ** 2 + params[1] ** 2 + params[2] ** 2)
    if not HOVER_POINT_MIN_M <= r <= HOVER_POINT_MAX_M:
        return (f"hover point radius {r:.1f} m outside [{HOVER_POINT_MIN_M:.0f}, "
                f"{HOVER_POINT_MAX_M:.0f}] m")
    return None

