"""SAFE mode's sequence: survive with whatever still works.

Phases (PROBE_SAFE_PHASE): a SAFE the ground or the boot selected is PARKED: rates
nulled on the wheels, thrusters silent, as before.  A SAFE fault protection forced
runs DAMP (rates nulled, thrusters silent, until the rates are small), then CLIMB
(radially, at SAFE_CLIMB_MPS, to SAFE_R_MIN_M from the centre, on whatever navigation
remains), ORBIT_INSERT (a burn onto the circular terminator-plane orbit through that
point) and COAST (thrusters silent; the orbit needs neither thrust nor navigation).
Should the orbit decay below 80 % of SAFE_R_MIN_M, it climbs again.

SAFE ends on the ground's SET_MODE, or by itself when SAFE_AUTO_EXIT is set and
fault protection has seen every monitor clear for SAFE_EXIT_S (it calls `exit`).
"""

from flightsw.components.navigation import NavigationComponent
from flightsw.config import FlightConfig
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.quat import norm
from flightsw.gnc.safe_orbit import circular_velocity_i, climb_target_i
from flightsw.icd import mavlink

DAMPED_RADPS = 2e-3  # rates below this count as damped
DAMP_HOLD_S = 10.0  # for this long
INSERT_DONE_MPS = 1e-3  # the orbit burn ends within this of the orbit's velocity
CLIMB_DONE_M = 5.0
REDO_CLIMB_FRACTION = 0.8
TRUSTED_SIGMA_FRACTION = 0.05  # position sigma below 5 % of SAFE_R_MIN_M


class SafePhase:
    NONE = mavlink.PROBE_SAFE_PHASE_NONE
    DAMP = mavlink.PROBE_SAFE_PHASE_DAMP
    CLIMB = mavlink.PROBE_SAFE_PHASE_CLIMB
    ORBIT_INSERT = mavlink.PROBE_SAFE_PHASE_ORBIT_INSERT
    COAST = mavlink.PROBE_SAFE_PHASE_COAST
    PARKED = mavlink.PROBE_SAFE_PHASE_PARKED
    NAMES = {0: "NONE", 1: "DAMP", 2: "CLIMB", 3: "ORBIT_INSERT", 4: "COAST", 5: "PARKED"}


class SafeMode:
    def __init__(self, config: FlightConfig, body: SpinningBody, params: ParamTable,
                 modes: ModeManager, events: EventLog, navigation: NavigationComponent,
                 control):
        self.body = body
        self.params = params
        self.modes = modes
        self.events = events
        self.navigation = navigation
        self.control = control  # flies the way home after an automatic exit
        self.gm_m3s2 = config.body.gm_m3s2
        prospect = config.prospect
        self.sun_i = prospect.sun_dir_i if prospect is not None else body.pole_i
        self.phase = SafePhase.NONE
        self.climb_target_i = None
        self.orbit_velocity_i = None
        self.damped_since_us = None
        self.entered_us = None

    def enter(self, t_us: int, forced: bool) -> None:
        self.entered_us = t_us
        self.damped_since_us = None
        self._set_phase(SafePhase.DAMP if forced else SafePhase.PARKED)

    def leave(self) -> None:
        self.phase = SafePhase.NONE

    def _set_phase(self, phase: int) -> None:
        if phase != self.phase:
            self.phase = phase
            if phase != SafePhase.NONE:
                self.events.emit(Severity.NOTICE, "safe", f"phase {SafePhase.NAMES[phase]}")

    def update(self, t_us: int, translation_ok: bool) -> None:
        """Advance the phase (10 Hz, in SAFE).  translation_ok: the thrusters and a
        translation estimate are there to fly with."""
        nav = self.navigation.nav
        phase = self.phase
        if phase in (SafePhase.NONE, SafePhase.PARKED):
            return
        tr = nav.translation
        if phase == SafePhase.DAMP:
            rate = norm(nav.attitude.rate_sc_radps)
            if rate > DAMPED_RADPS:
                self.damped_since_us = None
                return
            if self.damped_since_us is None:
                self.damped_since_us = t_us
            if (t_us - self.damped_since_us) * 1e-6 < DAMP_HOLD_S or not translation_ok \
                    or not tr.initialised:
                return
            self._start_climb_or_insert(tr.position_i())
        elif phase == SafePhase.CLIMB:
            if not translation_ok:
                return
            if norm(tr.position_i()) >= norm(self.climb_target_i) - CLIMB_DONE_M:
                self._start_insert(tr.position_i())
        elif phase == SafePhase.ORBIT_INSERT:
            # The orbit through where the probe is now: a target fixed at the burn's
            # start goes stale as gravity bends the path during a burn of minutes.
            self.orbit_velocity_i = circular_velocity_i(tr.position_i(), self.gm_m3s2,
                                                        self.sun_i, self.body.pole_i)
            v = tr.velocity_i()
            dv = [self.orbit_velocity_i[k] - v[k] for k in range(3)]
            if norm(dv) < INSERT_DONE_MPS:
                self._set_phase(SafePhase.COAST)
        elif phase == SafePhase.COAST and translation_ok and tr.initialised:
            # Climb again only on an estimate worth acting on: with no absolute sensor
            # left the estimate drifts off a good orbit, and burning on it would leave
            # the orbit for nothing (or for an escape).
            r_min = self.params.get("SAFE_R_MIN_M")
            trusted = norm(tr.pos_sigma_m()) < TRUSTED_SIGMA_FRACTION * r_min
            if trusted and norm(tr.position_i()) < REDO_CLIMB_FRACTION * r_min:
                self._start_climb_or_insert(tr.position_i())

    def _start_climb_or_insert(self, pos_i) -> None:
        r_min = self.params.get("SAFE_R_MIN_M")
        if norm(pos_i) < r_min - CLIMB_DONE_M:
            self.climb_target_i = climb_target_i(pos_i, r_min)
            self._set_phase(SafePhase.CLIMB)
        else:
            self._start_insert(pos_i)

    def _start_insert(self, pos_i) -> None:
        self.orbit_velocity_i = circular_velocity_i(pos_i, self.gm_m3s2, self.sun_i,
                                                    self.body.pole_i)
        self._set_phase(SafePhase.ORBIT_INSERT)

    def exit_to_hover(self, t_us: int, reason: str) -> bool:
        """Autonomous exit: SAFE -> STANDBY -> HOVER, flying round the body back to the
        hover point as it was."""
        if self.modes.request(Mode.STANDBY, reason) != 0:
            return False
        # Entering HOVER far from its point starts the transfer home (GuidanceControl).
        return self.modes.request(Mode.HOVER, reason) == 0
