"""Fault protection: the monitors of flightsw/fault/monitor_table.py, run, and their
responses carried out.

Sensor checks run at 10 Hz (a lost sensor is seen within its stale time plus one
check); the others at 1 Hz.  Responses: BACKUP carries on with what remains (gyro-only
attitude, IMU propagation; the gyro bias learnt anew; the next gas bottle);
RECONFIGURE isolates a thruster branch or a wheel; DUMP unloads the wheels; ABORT and
SAFE wave off a descent (the back-away is the way out, SAFE follows at its end if
the fault is still there), let a contact or back-away finish, and otherwise force
SAFE.  With FP_ENABLE off, ABORT and SAFE are logged only.

Health: flightsw/fault/task_health.py; a vital task that stops answering runs on
here (a backup) and forces SAFE; the telemetry runs on here too.  Fault protection
itself is watched from outside (flightsw/core/watchdog.py): each complete 1 Hz run pets
the watchdog, which restarts this component (`restart`) when the petting stops.
"""

import math

from flightsw.components.devices import Devices
from flightsw.components.guidance_control import GuidanceControl
from flightsw.components.momentum import MomentumManager
from flightsw.components.navigation import NavigationComponent
from flightsw.components.propulsion import Propulsion
from flightsw.components.safe_mode import SafeMode
from flightsw.components.tag_sequence import TagSequence
from flightsw.config import FlightConfig
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.fault.monitor_bank import SOURCE, MonitorBank
from flightsw.fault.monitor_table import MonitorId, Response
from flightsw.fault.payload_checks import PayloadChecks
from flightsw.fault.task_health import TaskHealth
from flightsw.fault.thruster_check import ThrusterCheck
from flightsw.geometry.quat import norm
from flightsw.gnc.tag import TagPhase
from flightsw.icd import mavlink

M = MonitorId
TAG_MODES = (Mode.DESCENT, Mode.TAG, Mode.BACKAWAY)
NAV_MODES = (Mode.HOVER, Mode.SURVEY, Mode.MASS_MEASURE, Mode.DESCENT)
STATUS_PERIOD_S = 10
WHEEL_WINDOW_S = 10
ATT_TREND_S = 10  # the attitude error must shrink by ATT_SHRINK_DEG over this
ATT_SHRINK_DEG = 0.5
# Tasks whose loss costs telemetry but not the vehicle: their health trips only log (and
# the telemetry, with the HEARTBEAT that carries the mode, goes on from fault protection).
NONVITAL_TASKS = ("telemetry", "guidance")
NAV_MONITORS = (MonitorId.STAR_TRACKER, MonitorId.IMU, MonitorId.NAVCAM, MonitorId.LIDAR,
                MonitorId.NAV_COVARIANCE, MonitorId.GYRO_BIAS)
# Monitors whose trip says nothing about the descent's safety.
NO_DESCENT_ABORT = (MonitorId.MOMENTUM, MonitorId.SPECTROMETER, MonitorId.LINK,
                    MonitorId.SAMPLER, MonitorId.ATTITUDE_ERROR)


class FaultProtection:
    def __init__(self, config: FlightConfig, params: ParamTable, modes: ModeManager,
                 events: EventLog, commands, devices: Devices,
                 navigation: NavigationComponent, control: GuidanceControl,
                 tag_sequence: TagSequence, propulsion: Propulsion, safe_mode: SafeMode,
                 momentum: MomentumManager, clock, send):
        self.clock = clock
        self.params = params
        self.modes = modes
        self.events = events
        self.devices = devices
        self.navigation = navigation
        self.control = control
        self.tag_sequence = tag_sequence
        self.propulsion = propulsion
        self.safe_mode = safe_mode
        self.momentum = momentum
        self.send = send
        # The monitors' enables, trips and counts outlive a restart (as a critical data
        # store would), and so do the decisions taken (a SAFE due after the back-away).
        self.bank = MonitorBank(events, commands)
        self.config = config
        self.cycle_s = 1.0 / config.base_rate_hz
        self.cycle_us = round(1e6 / config.base_rate_hz)
        self.wheel_inertia = config.vehicle.wheel_inertia_kgm2
        self.wheel_rating = config.vehicle.wheel_max_speed_radps
        self.scheduler = None
        self.backups: dict = {}
        self.slow_backups: dict = {}
        self.after_auto_exit: tuple = ()
        self.pet_watchdog = lambda t_us: None  # app: the executive's watchdog
        self.safe_after_sequence = None  # reason: SAFE once the touch-and-go is out
        self._safe_pending = None  # that reason, back in HOVER, for the next check
        self._last_ground_us, self.ground_lost = 0, lambda t_us: None  # app: uplink.py's
        self._init_state()
        modes.add_listener(self._on_mode_change)
        tag_sequence.fault_active = lambda: any(self.bank.tripped.values())

    def _init_state(self) -> None:
        """The working state, as at start: what the checks have seen and counted."""
        self.thrusters = ThrusterCheck(self.config, self.propulsion, self.params)
        self.payload = PayloadChecks(self.bank, self.params, self.events, self.devices)
        self._last_fast_us = None
        self._st_seen = (0, 0)  # the attitude filter's (updates, rejected) last seen
        # Wheels: (speed, commanded speed change since start) each second, 10 s kept.
        self._wheel_cmd_dw = [0.0] * self.config.vehicle.wheel_count
        self._wheel_hist: list = []
        self._last_tach_us = None
        self._torque_in_effect: tuple = ()
        self._drive_off = None  # (wheel, commanded, applied) at the last reading, or None
        self._att_err_hist: list = []
        self.health = TaskHealth()
        self.missing: list[str] = []
        self._healthy_since_us = None
        self._last_status_s = -STATUS_PERIOD_S

    def restart(self, t_us: int) -> None:
        """Start afresh (the watchdog's first response): the working state as at start,
        the persistence counts zeroed, the task faults so far not counted again."""
        self._init_state()
        self.propulsion.take_window_dv()
        for monitor in MonitorId:
            self.bank.count[monitor] = 0
        self.bank.changed = True
        if self.scheduler is not None:
            self.health.new_faults(self.scheduler)
        self.events.emit(Severity.WARNING, SOURCE, "restarted")

    def watch(self, scheduler, backups: dict, slow_backups: dict | None = None,
              after_auto_exit=()) -> None:
        """The scheduler whose tasks' health is watched, and the tasks that fault
        protection runs itself when they stop answering ({task name: run}): the fast
        ones at 10 Hz, the slow ones (the telemetry, whose HEARTBEAT tells the ground
        the mode) at 1 Hz."""
        self.scheduler = scheduler
        self.backups = backups
        self.slow_backups = dict(slow_backups or {})
        self.after_auto_exit = tuple(after_auto_exit)  # what goes on after SAFE ends itself

    def on_ground_message(self, msg) -> None:
        self._last_ground_us = self.clock.now_us()

    # -- 10 Hz: sensors, thrust accounting ------------------------------------------
    def task_fast(self, t_us: int) -> None:
        # A vital task that stopped answering runs on here, in the fault-protection
        # task (a restart on another path; a fault in the task's own code would follow).
        if self._last_fast_us is not None and t_us - self._last_fast_us > self.cycle_us:
            # Cycles not accounted for: the wheels' window would pair a speed change
            # with torques never added up.
            self._wheel_hist.clear()
        self._last_fast_us = t_us
        for name in self.missing:
            backup = self.backups.get(name)
            if backup is not None:
                backup(t_us)
        prm, nav, bank = self.params, self.navigation, self.bank
        att = nav.nav.attitude
        self._accumulate(t_us)
        if att.initialised:
            stale = _age_s(nav.last_star_tracker_us, t_us)
            if bank.check(M.STAR_TRACKER, stale > prm.get("FP_ST_STALE_S"),
                          f"no star-tracker attitude for {stale:.1f} s"):
                self.events.emit(Severity.INFO, SOURCE, "attitude on gyros alone")
            seen = (att.updates, att.rejected)
            if seen != self._st_seen:
                self._st_seen = seen
                innov_deg = math.degrees(att.last_innovation_rad)
                if bank.check(M.GYRO_BIAS, innov_deg > prm.get("FP_GYRO_INN_DEG"),
                              f"star-tracker innovation {innov_deg:.3f} deg"):
                    att.relearn_bias(att.last_innovation_rad * 2.0, 1e-4)
        if nav.last_prop_us is not None:
            stale = _age_s(nav.last_imu.t_us if nav.last_imu else None, t_us)
            bank.check(M.IMU, stale > prm.get("FP_IMU_STALE_S"),
                       f"no IMU sample for {stale:.1f} s")
            # A link outage of a second is bridged (dead reckoning); longer is a loss.
            # Near the surface a loss is soon fatal; farther out the fixes hold the
            # estimate while the thrust is dead-reckoned.
            limit_s = prm.get("FP_IMU_TMO_S") if self.modes.current in TAG_MODES else \
                prm.get("FP_IMU_CRUISE_S")
            if stale > limit_s:
                self.respond(M.IMU, Response.SAFE, "IMU lost")
        heard = self.devices.navcam.last_heard_us
        if heard is not None:
            # The camera's liveness (an image, whatever it found); how long navigation
            # can go without landmarks is the escalations' business (FP_FIX_TMO_S).
            stale = _age_s(heard, t_us)
            bank.check(M.NAVCAM, stale > prm.get("FP_CAM_STALE_S"),
                       f"no navigation-camera image for {stale:.1f} s")
        heard = self.devices.altimeter.last_heard_us
        if heard is not None:
            # Liveness always (a hover does not use the ranges, the next descent will).
            stale = _age_s(heard, t_us)
            bank.check(M.LIDAR, stale > prm.get("FP_LID_STALE_S"),
                       f"no altimeter range for {stale:.1f} s")
        self._abort_low_descent()

    def _accumulate(self, t_us: int) -> None:
        """What the accelerometer felt against the thrust, and what the wheels were told."""
        self.thrusters.on_cycle(self.navigation, self._thrust_judged(self.modes.current))
        # A tachometer reading reflects the torques commanded before this cycle's: pair
        # it with the command integral before adding this cycle's.
        tach = self.devices.wheels.latest
        if tach is not None and tach.t_us != self._last_tach_us:
            self._last_tach_us = tach.t_us
            self._wheel_hist.append((tach.speed_radps, tuple(self._wheel_cmd_dw)))
            if len(self._wheel_hist) > WHEEL_WINDOW_S + 1:
                self._wheel_hist.pop(0)
            self._drive_off = self._drive_mismatch(tach, self._torque_in_effect)
        torques = self.devices.wheels.last_torque_nm
        self._torque_in_effect = torques  # what the next reading's drives should show
        for j, tau in enumerate(torques):
            self._wheel_cmd_dw[j] += tau * self.cycle_s / self.wheel_inertia

    def _drive_mismatch(self, tach, commanded: tuple):
        """(wheel, commanded, applied) of the worst drive whose current sense disagrees
        with its command; None when all agree (or the drives send no current sense).  A
        wheel at its speed limit is skipped: its drive rightly holds back."""
        if tach.motor_torque_nm is None:
            return None
        floor = self.params.get("FP_WHL_TRQ_NM")
        worst, worst_err = None, 0.0
        for j, (cmd, applied) in enumerate(zip(commanded, tach.motor_torque_nm,
                                               strict=False)):
            if j in self.control.failed_wheels or \
                    abs(tach.speed_radps[j]) >= 0.95 * self.wheel_rating:
                continue
            err = abs(applied - cmd)
            if err > floor + 0.05 * abs(cmd) and err > worst_err:
                worst, worst_err = (j, cmd, applied), err
        return worst

    # -- 1 Hz: the rest ----------------------------------------------------------------
    def task(self, t_us: int) -> None:
        for name in self.missing:
            backup = self.slow_backups.get(name)
            if backup is not None:
                backup(t_us)
        mode = self.modes.current
        self._check_navigation(t_us, mode)
        self._check_thrusters(t_us, mode)
        self._check_wheels(t_us)
        self._check_power()
        self._check_tasks(t_us)
        self.payload.check_sampler(t_us, self.tag_sequence.gas_fired)
        self.payload.check_spectrometer(t_us)
        self._check_safe_exit(t_us, mode)
        self._abort_low_descent()
        self._safe_after_back_away()
        silent, lost = (t_us - self._last_ground_us) * 1e-6, self.ground_lost(t_us)
        self.bank.check(M.LINK, silent > self.params.get("FP_LINK_S") or lost is not None,
                        lost or f"no ground command for {silent:.0f} s")
        self._send_status(t_us)
        self.pet_watchdog(t_us)  # last: only a complete run pets it

    def _abort_low_descent(self) -> None:
        """Below the Checkpoint a descent goes on only if nothing failed: any trip (but
        of the monitors that have nothing to do with the descent) aborts it."""
        trips = self.bank.take_new_trips()
        if self.modes.current != Mode.DESCENT or \
                self.tag_sequence.phase < TagPhase.TO_MATCHPOINT:
            return
        for monitor in trips:
            if monitor not in NO_DESCENT_ABORT:
                self.respond(monitor, Response.ABORT, f"{monitor.name} below the Checkpoint")
                return

    def _check_navigation(self, t_us: int, mode: Mode) -> None:
        prm, nav, bank = self.params, self.navigation, self.bank
        tr = nav.nav.translation
        if mode in NAV_MODES + (Mode.SAFE,) and tr.initialised:
            limit = prm.get("TAG_NAV_SIG_M") if mode == Mode.DESCENT else prm.get("FP_NAV_SIG_M")
            sigma = norm(tr.pos_sigma_m())
            if bank.check(M.NAV_COVARIANCE, sigma > limit,
                          f"position sigma {sigma:.2f} m above {limit:.2f} m"):
                self.respond(M.NAV_COVARIANCE, Response.SAFE, "navigation uncertainty too large")
        if mode == Mode.HOVER:  # the survey's scan slews are larger by design
            # A slew (after a spin test, a mode change) closes the error at its rate
            # limit: only an error that is large and not shrinking is a failure.
            err_deg = math.degrees(self.control.pointing_err_rad)
            self._att_err_hist.append(err_deg)
            if len(self._att_err_hist) > ATT_TREND_S + 1:
                self._att_err_hist.pop(0)
            stuck = len(self._att_err_hist) > ATT_TREND_S and \
                err_deg > self._att_err_hist[0] - ATT_SHRINK_DEG
            bank.check(M.ATTITUDE_ERROR, err_deg > prm.get("FP_ATT_ERR_DEG") and stuck,
                       f"pointing error {err_deg:.1f} deg, not closing")
        else:
            self._att_err_hist.clear()
            bank.check(M.ATTITUDE_ERROR, False)
        # Escalations: a backup flown too long is no longer a backup.  A descent does
        # not go on without its landmarks or its altimeter for TAG_LM_TMO_S (single
        # misses are normal near the surface, where few landmarks are in view).
        if mode == Mode.DESCENT:
            lm_tmo = prm.get("TAG_LM_TMO_S")
            last_range = self.devices.altimeter.latest
            if _age_s(nav.last_landmark_us, t_us) > lm_tmo:
                self.respond(M.NAVCAM, Response.ABORT, "landmarks lost")
            elif nav.lidar_plane_bf is not None and \
                    _age_s(last_range.t_us if last_range else None, t_us) > lm_tmo:
                self.respond(M.LIDAR, Response.ABORT, "altimeter lost")
        if mode in TAG_MODES or mode == Mode.SAFE:
            return
        if not nav.nav.attitude.initialised:
            # Never an attitude: nothing beyond STANDBY can be flown.
            if mode != Mode.STANDBY and bank.check(M.STAR_TRACKER, True,
                                                   "no star-tracker attitude yet"):
                self.respond(M.STAR_TRACKER, Response.SAFE, "star tracker lost")
            return
        if _age_s(nav.last_star_tracker_us, t_us) > prm.get("FP_ST_TMO_S"):
            self.respond(M.STAR_TRACKER, Response.SAFE, "star tracker lost")
        elif mode in (Mode.HOVER, Mode.SURVEY) and nav.last_fix_us is not None and \
                _age_s(nav.last_fix_us, t_us) > prm.get("FP_FIX_TMO_S"):
            self.respond(M.NAVCAM, Response.SAFE, "navigation fixes lost")

    def _thrust_judged(self, mode: Mode) -> bool:
        """Whether the accelerometer shows the thrust alone: not when the surface may
        push (the sampler head in contact), nor without a working accelerometer."""
        touching = mode == Mode.TAG or (mode == Mode.DESCENT and
                                        self.tag_sequence.phase == TagPhase.FINAL and
                                        self.tag_sequence.near_surface())
        return not touching and self.navigation.last_imu is not None and \
            not self.bank.is_tripped(M.IMU)

    def _check_thrusters(self, t_us: int, mode: Mode) -> None:
        verdict = self.thrusters.check(self._thrust_judged(mode))
        if verdict is None:
            return
        failing, reason = verdict
        if self.bank.check(M.THRUSTER, failing, reason):
            if not self.propulsion.isolate_branch(t_us, reason):
                self.respond(M.THRUSTER, Response.SAFE, "no translation thrusters left")

    def _check_wheels(self, t_us: int) -> None:
        speeds = self.devices.wheels.latest
        if speeds is None:
            return
        failed = self.control.failed_wheels
        top = max((abs(w) for j, w in enumerate(speeds.speed_radps) if j not in failed),
                  default=0.0)
        if self.bank.check(M.MOMENTUM, top > self.params.get("FP_WHL_DUMP_FRAC") *
                           self.wheel_rating, f"wheel at {top:.0f} rad/s"):
            self.momentum.start("wheel speed")
        self._wheel_verdict(*self._speed_mismatch())

    def _speed_mismatch(self) -> tuple:
        """(wheel, rad/s) of the worst speed change off its torque command over the
        window; (None, 0) until the window is full."""
        worst, err = None, 0.0
        if len(self._wheel_hist) <= WHEEL_WINDOW_S:
            return worst, err
        (w0, c0), (w1, c1) = self._wheel_hist[0], self._wheel_hist[-1]
        for j in range(len(w1)):
            if j in self.control.failed_wheels:
                continue
            e = abs((w1[j] - w0[j]) - (c1[j] - c0[j]))
            if e > err:
                worst, err = j, e
        return worst, err

    def _wheel_verdict(self, worst, err: float) -> None:
        """The wheel monitor: the speed window, else the drives' current sense."""
        failing = worst is not None and err > self.params.get("FP_WHL_ERR_RADPS")
        reason = f"wheel {worst} off its command by {err:.2f} rad/s over {WHEEL_WINDOW_S} s"
        if not failing and self._drive_off is not None:
            worst, cmd, applied = self._drive_off
            failing = True
            reason = (f"wheel {worst}'s drive applies {applied:.2e} N m of {cmd:.2e} "
                      "commanded")
        if self.bank.check(M.WHEEL, failing, reason):
            self._drive_off = None
            if self.control.can_isolate_wheel(worst):
                self.control.isolate_wheel(worst)
                self._wheel_hist.clear()
                self.bank.reset(M.WHEEL)  # armed again for a second wheel
            else:
                self.respond(M.WHEEL, Response.SAFE, f"wheel {worst} failed and the others "
                             "cannot control all three axes")

    def _check_power(self) -> None:
        power = self.devices.power.latest
        if power is None:
            return
        volts = power.bus_voltage_v
        if self.bank.check(M.POWER, volts < self.params.get("FP_BUS_MIN_V"),
                           f"bus at {volts:.1f} V"):
            self.respond(M.POWER, Response.SAFE, "undervoltage")

    def _check_tasks(self, t_us: int) -> None:
        if self.scheduler is None:
            return
        new = self.health.new_faults(self.scheduler)
        self.bank.check(M.TASK, new > 0, f"{new} task fault(s) in the last second")
        missing = self.health.not_answering(self.scheduler, t_us,
                                            self.params.get("FP_HEALTH_S"))
        self.missing = missing
        if self.bank.check(M.HEALTH, bool(missing), f"task {', '.join(missing)} not "
                           "answering"):
            vital = [name for name in missing if name not in NONVITAL_TASKS]
            if vital:
                self.respond(M.HEALTH, Response.SAFE, f"task {vital[0]} not answering")

    # -- responses ---------------------------------------------------------------------
    def respond(self, monitor: MonitorId, response: Response, reason: str) -> None:
        mode = self.modes.current
        if response not in (Response.ABORT, Response.SAFE):
            return
        if not self.params.get("FP_ENABLE"):
            self.events.emit(Severity.WARNING, SOURCE, f"{reason}: {response.name} not taken "
                             "(FP_ENABLE off)")
            return
        if mode == Mode.DESCENT:
            prefix = "navigation degraded" if monitor in NAV_MONITORS else "fault"
            self.tag_sequence.wave_off(f"{prefix}: {reason}", to_start_height=True)
            if response == Response.SAFE:
                self.safe_after_sequence = reason
        elif mode in (Mode.TAG, Mode.BACKAWAY):
            if response == Response.SAFE:
                self.safe_after_sequence = reason
        elif mode != Mode.SAFE:
            self.modes.force_safe(reason)

    def _on_mode_change(self, old: Mode, new: Mode) -> None:
        now = self.clock.now_us()
        if new == Mode.SAFE:
            self.safe_mode.enter(now, self.modes.forced)
        elif old == Mode.SAFE:
            self.safe_mode.leave()
        if old in TAG_MODES and new == Mode.HOVER and self.safe_after_sequence is not None:
            # Judged at the next check, in the hover's terms: a monitor tripped on a
            # descent's limit (TAG_NAV_SIG_M) may pass the hover's.
            self._safe_pending, self.safe_after_sequence = self.safe_after_sequence, None
        self.bank.changed = True

    def _safe_after_back_away(self) -> None:
        reason, self._safe_pending = self._safe_pending, None
        if reason is not None and self.modes.current == Mode.HOVER and \
                any(self.bank.tripped.values()):
            self.modes.force_safe(f"{reason} (after the back-away)")

    def _check_safe_exit(self, t_us: int, mode: Mode) -> None:
        if mode != Mode.SAFE or not self.modes.forced or not self.params.get("SAFE_AUTO_EXIT"):
            self._healthy_since_us = None
            return
        if any(self.bank.tripped.values()):
            self._healthy_since_us = None
            return
        since = self._healthy_since_us
        if since is None:
            self._healthy_since_us = t_us
        elif (t_us - since) * 1e-6 >= self.params.get("SAFE_EXIT_S"):
            self._healthy_since_us = None
            if self.safe_mode.exit_to_hover(t_us, "health restored"):
                for resume in self.after_auto_exit:
                    resume(t_us)

    # -- telemetry -----------------------------------------------------------------------
    def _send_status(self, t_us: int) -> None:
        t_s = t_us // 1_000_000
        if not self.bank.changed and t_s - self._last_status_s < STATUS_PERIOD_S:
            return
        self._last_status_s = t_s
        self.bank.changed = False
        enabled, tripped, failing = self.bank.masks()
        missing_mask = 0
        if self.scheduler is not None:
            names = list(self.scheduler.task_counts())
            for name in self.missing:
                if names.index(name) < 32:
                    missing_mask |= 1 << names.index(name)
        wheels = self.devices.wheels.latest
        top = max((abs(w) for w in wheels.speed_radps), default=0.0) if wheels else 0.0
        failed = 0
        for j in self.control.failed_wheels:
            failed |= 1 << j
        self.send(mavlink.MAVLink_probe_fault_status_message(
            t_us, enabled, tripped, failing, self.bank.trip_counts(), missing_mask,
            self.safe_mode.phase, self.propulsion.branch, failed, top,
            min(self.momentum.dumps, 0xFFFF), self.propulsion.acs_dv_mps()))


def _age_s(last_us: int | None, t_us: int) -> float:
    return math.inf if last_us is None else (t_us - last_us) * 1e-6
