"""The touch-and-go sequence: descent through Checkpoint and Matchpoint, contact,
sampler gas, back-away burn, climb and hover; wave-offs; PROBE_TAG_STATUS
telemetry; the START_TAG and WAVE_OFF commands."""

import math

from flightsw.components.devices import Devices
from flightsw.components.navigation import NavigationComponent
from flightsw.config import FlightConfig
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.quat import dot, norm
from flightsw.gnc.tag import TagGuidance, TagPhase, TagProfile, hazard_clearance_m
from flightsw.icd import mavlink

BACKAWAY_SLOT = 6  # thruster slot of the back-away thruster (along -z spacecraft)
THRUSTER_SLOTS = 7
TAG_MODES = (Mode.DESCENT, Mode.TAG, Mode.BACKAWAY)
MAX_LATERAL_OFFSET_M = 20.0  # the descent starts only from above the target
TAG_RETRIES = 2  # automatic retries of a descent a fault aborted or refused
RETRY_RECHECK_US = 60_000_000
NEAR_SURFACE_M = 2.0  # head height (above the contact window) where a touch may come



class TagSequence:
    """State: the target and its descent guidance, the phase, the contact time, the
    wave-offs and their reasons, the predicted contact point and its hazard clearance.
    """

    def __init__(self, config: FlightConfig, body: SpinningBody, params: ParamTable,
                 modes: ModeManager, events: EventLog, commands: CommandDispatcher, clock,
                 devices: Devices, navigation: NavigationComponent, hover_guidance, send):
        self.config = config
        self.body = body
        self.params = params
        self.modes = modes
        self.events = events
        self.clock = clock
        self.devices = devices
        self.navigation = navigation
        self.hover_guidance = hover_guidance
        self.send = send
        self.guidance = None  # TagGuidance of the target, None until one is on board
        self.site = None  # (target_bf_m, normal_bf) of the touch-and-go target
        self.hazards = ()
        self.phase = TagPhase.IDLE
        self.waveoffs: list[str] = []
        self.event_times: dict[str, float] = {}  # for telemetry and the report
        self.t_contact_us = None
        self.gas_fired = False
        self.burn_cycles_left = 0
        self.predicted_contact_bf = (0.0, 0.0, 0.0)
        self.predicted_miss_m = math.nan
        self.hazard_clearance_m = math.inf
        self.start_head_height_m = 0.0
        self.climb_floor_m = 0.0  # the climb after a wave-off ends no lower than this
        self.retry_at_us = None  # when an automatic retry of the descent is due
        self.retries_left = TAG_RETRIES
        self.fault_active = lambda: False  # fault protection's "a monitor is tripped"
        self.cycle_s = 1.0 / config.base_rate_hz
        site = config.tag
        if site is not None:
            self.set_target(tuple(site.target_bf_m), tuple(site.normal_bf), tuple(site.hazards))
        commands.register_ground_command("START_TAG", self.cmd_start_tag)
        commands.register_ground_command("WAVE_OFF", self._cmd_wave_off)

    def set_target(self, target_bf: tuple, normal_bf: tuple, hazards: tuple = ()) -> None:
        """The touch-and-go target (from the configuration or the survey's choice)."""
        self.guidance = TagGuidance(self.body, target_bf, normal_bf,
                                    self.config.vehicle.arm_length_m)
        self.site = (target_bf, normal_bf)
        self.navigation.lidar_plane_bf = self.site
        self.hazards = tuple(hazards)

    def profile(self) -> TagProfile:
        prm = self.params
        return TagProfile(prm.get("TAG_CP_ALT_M"), prm.get("TAG_MP_ALT_M"),
                          prm.get("TAG_DESC_MPS"), prm.get("TAG_CP_MP_S"),
                          prm.get("TAG_CONTACT_MPS"), prm.get("TAG_ACC_LIM"))

    # -- commands --------------------------------------------------------------------
    def cmd_start_tag(self, params) -> CommandResult:
        result = self._start_tag()
        faulty = self.fault_active() or (self.modes.current == Mode.SAFE and self.modes.forced)
        if result in (CommandResult.BUSY, CommandResult.WRONG_MODE) and faulty:
            # Refused because a fault degraded navigation: the sequence tries again by
            # itself once it is healthy (the ground's ACK still says BUSY).
            self._schedule_retry("start refused during a fault")
        return result

    def _schedule_retry(self, why: str) -> None:
        if self.retries_left <= 0:
            return
        self.retry_at_us = self.clock.now_us() + round(self.params.get("TAG_RETRY_S") * 1e6)
        self.events.emit(Severity.NOTICE, "tag", f"touch-and-go will be retried ({why}; "
                         f"{self.retries_left} retries left)")

    def _retry(self, t_us: int) -> None:
        """A retry due: start again if healthy, else look again in a minute."""
        if self.fault_active() or self._start_tag() == CommandResult.BUSY:
            self.retry_at_us = t_us + RETRY_RECHECK_US
            return
        self.retry_at_us = None
        self.retries_left -= 1

    def _start_tag(self) -> CommandResult:
        if self.guidance is None:
            self.events.emit(Severity.WARNING, "tag", "no touch-and-go target on board")
            return CommandResult.FAILED
        nav = self.navigation.nav
        tr = nav.translation
        if not nav.ready or norm(tr.pos_sigma_m()) > self.params.get("TAG_NAV_SIG_M"):
            self.events.emit(Severity.WARNING, "tag", "navigation not good enough to descend")
            return CommandResult.BUSY
        t_s = self.clock.now_us() * 1e-6
        pos_bf = self.body.i_to_bf(t_s, tr.position_i())
        if norm(self.guidance.lateral_offset_bf(pos_bf)) > MAX_LATERAL_OFFSET_M:
            self.events.emit(Severity.WARNING, "tag", "not above the target: hover there first")
            return CommandResult.BUSY  # try again once the hover has converged
        result = self.modes.request(Mode.DESCENT, "start touch-and-go")
        if result != CommandResult.ACCEPTED:
            return result
        self.start_head_height_m = self.guidance.head_height_m(pos_bf)
        self.climb_floor_m = 0.0
        self.guidance.start(t_s, self.start_head_height_m)
        self.event_times["descent"] = t_s
        self.phase = self.guidance.phase
        self.t_contact_us = None
        self.gas_fired = False
        self.devices.sampler.command(self.clock.now_us(), mavlink.PROBE_SAMPLER_DEPLOY)
        self.events.emit(Severity.NOTICE, "tag", "descent started toward Checkpoint")
        return CommandResult.ACCEPTED

    def _cmd_wave_off(self, params) -> CommandResult:
        self.wave_off("commanded by the ground")
        return CommandResult.ACCEPTED

    def wave_off(self, reason: str, to_start_height: bool = False) -> None:
        """Abandon the descent: back away, climb, hover (a safe outcome).  A fault's
        abort climbs at least back to the height the descent started from (safe-home),
        and the descent is tried again once every monitor is clear for TAG_RETRY_S."""
        if to_start_height:
            self.climb_floor_m = self.start_head_height_m
            self._schedule_retry("aborted by a fault")
        self.waveoffs.append(reason)
        self.events.emit(Severity.WARNING, "tag", f"wave-off: {reason}")
        self._enter_backaway()

    def _enter_backaway(self) -> None:
        self.event_times.setdefault("backaway", self.clock.now_us() * 1e-6)
        self.modes.request(Mode.BACKAWAY, "back away")
        self.guidance.stop()
        self.phase = TagPhase.BACKAWAY_BURN
        v = self.config.vehicle
        if v.backaway_force_n > 0.0:
            burn_s = self.params.get("TAG_BACKAWAY_DV") * v.mass_kg / v.backaway_force_n
            self.burn_cycles_left = max(1, round(burn_s / self.cycle_s))
        else:
            self.burn_cycles_left = 0

    def backaway_pulse(self, cycle_s: float) -> tuple | None:
        """Thruster on-times of this cycle's back-away burn, None once it is over."""
        if self.burn_cycles_left <= 0:
            return None
        on = [0.0] * THRUSTER_SLOTS
        on[BACKAWAY_SLOT] = cycle_s
        self.burn_cycles_left -= 1
        return tuple(on)

    # -- the 10 Hz sequence ------------------------------------------------------------
    def step(self, t_us: int) -> None:
        mode = self.modes.current
        if mode == Mode.HOVER and self.retry_at_us is not None and t_us >= self.retry_at_us:
            self._retry(t_us)
            return
        if mode not in TAG_MODES or self.guidance is None:
            return
        t_s = t_us * 1e-6
        pos_bf, vel_bf = self.navigation.estimate_bf(t_s)
        head_h = self.guidance.head_height_m(pos_bf)
        if mode == Mode.DESCENT:
            self._descend(t_us, pos_bf, vel_bf, head_h)
        elif mode == Mode.TAG:
            self._in_contact(t_us)
        else:
            self._back_away(t_us, vel_bf, head_h)

    def _descend(self, t_us: int, pos_bf: tuple, vel_bf: tuple, head_h: float) -> None:
        prm = self.params
        t_s = t_us * 1e-6
        tag = self.guidance
        event = tag.advance(t_s, self.profile())
        if event is not None:
            self.event_times[event] = t_s
            rate = -tag.commanded_rate_mps(self.profile())
            self.events.emit(Severity.NOTICE, "tag",
                             f"{event} burn at head height {head_h:.1f} m, "
                             f"descent rate now {rate:.3f} m/s")
        self.phase = tag.phase
        point, _ = tag.predicted_contact_bf(pos_bf, vel_bf)
        self.predicted_contact_bf = point
        self.predicted_miss_m = math.dist(point, tag.target_bf_m)
        self.hazard_clearance_m = hazard_clearance_m(point, self.hazards)
        if self._contact_detected():
            self.t_contact_us = t_us
            self.event_times["contact"] = t_s
            self.modes.request(Mode.TAG, "contact")
            self.phase = TagPhase.CONTACT
            self.events.emit(Severity.NOTICE, "tag",
                             f"contact at head height estimate {head_h:.2f} m")
            return
        margin_m = prm.get("TAG_HAZ_MARGIN_M")
        if tag.phase >= TagPhase.TO_MATCHPOINT and head_h > prm.get("TAG_HAZ_CHECK_M") and \
                self.hazard_clearance_m < margin_m:
            self.wave_off(self._hazard_waveoff_reason(margin_m))
        elif tag.phase == TagPhase.FINAL and min(head_h, tag.h_ref_m) < -prm.get(
                "TAG_CONTACT_WIN"):
            # The estimate alone would not do: regolith that stops the probe without
            # the contact being sensed keeps the head near 0 while the reference
            # sinks on, so its going past the window ends the wait as well.
            self.wave_off("contact not detected in its window")

    def _in_contact(self, t_us: int) -> None:
        prm = self.params
        since_s = (t_us - self.t_contact_us) * 1e-6
        if not self.gas_fired and since_s >= prm.get("TAG_GAS_DELAY_S"):
            self.devices.sampler.command(t_us, mavlink.PROBE_SAMPLER_FIRE_GAS)
            self.gas_fired = True
            self.events.emit(Severity.INFO, "tag", "sampler gas fired")
        if since_s >= prm.get("TAG_CONTACT_S"):
            self.events.emit(Severity.NOTICE, "tag", "back-away burn")
            self._enter_backaway()

    def _back_away(self, t_us: int, vel_bf: tuple, head_h: float) -> None:
        """Burn, then coast up to the safe height, then hover there."""
        tag = self.guidance
        if self.phase == TagPhase.BACKAWAY_BURN and self.burn_cycles_left <= 0:
            self.phase = TagPhase.CLIMB
        if self.phase != TagPhase.CLIMB:
            return
        safe = self.params.get("TAG_SAFE_ALT_M")
        # Brake into the hover point once the thrusters can stop us near it.  After a
        # fault's abort the hover point is safe-home, which the hover then climbs to
        # under control: a coast of the whole way would drift off the site as the body
        # turns beneath (and out of sight of its landmarks).
        if head_h >= safe - 40.0 or dot(tag.normal_bf, vel_bf) <= 0.0:
            home_h = max(safe, head_h, self.climb_floor_m)
            self.hover_guidance.set_target(tag.home_point_bf(home_h))
            self.modes.request(Mode.HOVER, "climb done")
            self.phase = TagPhase.DONE
            self.devices.sampler.command(t_us, mavlink.PROBE_SAMPLER_STOW)
            self.events.emit(Severity.NOTICE, "tag",
                             f"climb done at head height {head_h:.1f} m; hovering")

    def near_surface(self) -> bool:
        """The head within the contact window of the surface (by the estimate): a touch
        may come any moment, sensed or not, and push the spacecraft."""
        if self.guidance is None or not self.navigation.ready:
            return False
        pos_bf, _ = self.navigation.estimate_bf(self.clock.now_us() * 1e-6)
        return self.guidance.head_height_m(pos_bf) < NEAR_SURFACE_M + \
            self.params.get("TAG_CONTACT_WIN")

    def _contact_detected(self) -> bool:
        status = self.devices.sampler.latest
        if status is not None and status.contact:
            return True
        imu = self.navigation.last_imu
        # The surface pushes back along -z spacecraft (the boresight looks down).
        return imu is not None and imu.accel_sc_mps2[2] < -self.params.get("TAG_CONTACT_ACC")

    def _hazard_waveoff_reason(self, margin_m: float) -> str:
        # A negative clearance is a contact inside the hazard: say so rather than
        # print "-3.0 m from", which reads as a typo.
        c = self.hazard_clearance_m
        if c < 0.0:
            return f"predicted contact {-c:.1f} m inside a mapped hazard's edge"
        return (f"predicted contact {c:.1f} m from a mapped hazard's edge "
                f"(TAG_HAZ_MARGIN_M {margin_m:.1f} m)")

    # -- telemetry ---------------------------------------------------------------------
    def send_telemetry(self, t_us: int) -> None:
        """PROBE_TAG_STATUS at 1 Hz while the sequence runs."""
        if self.guidance is None or not self.navigation.ready or \
                self.modes.current not in TAG_MODES:
            return
        pos_bf, vel_bf = self.navigation.estimate_bf(t_us * 1e-6)
        clearance = self.hazard_clearance_m
        self.send(mavlink.MAVLink_probe_tag_status_message(
            t_us, self.phase, self.guidance.head_height_m(pos_bf),
            dot(self.guidance.normal_bf, vel_bf), list(self.predicted_contact_bf),
            self.predicted_miss_m, clearance if math.isfinite(clearance) else 1e9,
            min(len(self.waveoffs), 255)))
