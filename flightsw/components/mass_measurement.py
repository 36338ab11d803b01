"""Sample-mass measurement by the spin method: a spin test before and one after the
touch-and-go, the change of inertia about x giving the captured mass; the
MEASURE_MASS command and PROBE_MASS_ESTIMATE telemetry."""

import math

from flightsw.components.devices import Devices
from flightsw.components.guidance_control import GuidanceControl
from flightsw.components.navigation import NavigationComponent
from flightsw.components.tag_sequence import TagSequence
from flightsw.config import FlightConfig
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.gnc.mass_measure import SpinInertiaMeasurement, SpinState, sample_mass_kg
from flightsw.gnc.tag import TagPhase
from flightsw.icd import mavlink

BASELINE, AFTER_SAMPLING = 0, 1
POINTING_RESTORED_RAD = math.radians(1.0)


class MassMeasurement:
    """State: the spin test under way, which one it is, each test's inertia and sigma,
    the sample mass estimate.  After a touch-and-go it starts the second spin test by
    itself (TAG_AUTO_MASS) once the hover has settled for TAG_MASS_WAIT_S.
    """

    def __init__(self, config: FlightConfig, params: ParamTable, modes: ModeManager,
                 events: EventLog, commands: CommandDispatcher, clock, devices: Devices,
                 navigation: NavigationComponent, control: GuidanceControl,
                 tag_sequence: TagSequence, send):
        self.config = config
        self.params = params
        self.modes = modes
        self.events = events
        self.clock = clock
        self.devices = devices
        self.navigation = navigation
        self.control = control
        self.tag_sequence = tag_sequence
        self.send = send
        self.spin = SpinInertiaMeasurement(params.get("MASS_SPIN_RADPS"),
                                           params.get("MASS_MEAS_S"))
        self.which = BASELINE
        self.inertia_results: dict[int, tuple[float, float]] = {}
        self.sample_mass_estimate: tuple[float, float] | None = None
        commands.register_ground_command("MEASURE_MASS", self.cmd_measure_mass)

    def cmd_measure_mass(self, params) -> CommandResult:
        which = int(params[0])
        if which == AFTER_SAMPLING and BASELINE not in self.inertia_results:
            self.events.emit(Severity.WARNING, "mass", "no baseline measurement yet")
            return CommandResult.FAILED
        result = self.modes.request(Mode.MASS_MEASURE, "spin-method mass measurement")
        if result != CommandResult.ACCEPTED:
            return result
        self.which = which
        self.spin = SpinInertiaMeasurement(self.params.get("MASS_SPIN_RADPS"),
                                           self.params.get("MASS_MEAS_S"))
        self.spin.start(self.clock.now_us() * 1e-6)
        self.events.emit(Severity.INFO, "mass", f"spin test {which} started")
        return CommandResult.ACCEPTED

    def rate_reference(self) -> tuple | None:
        """The body rate the spin test commands, None while attitude is held instead."""
        if not self.spin.rate_controlled():
            return None
        return (self.spin.rate_command_x(), 0.0, 0.0)

    def _second_test_due(self, t_us: int) -> bool:
        prm = self.params
        return (self.modes.current == Mode.HOVER and self.tag_sequence.phase == TagPhase.DONE
                and self.tag_sequence.t_contact_us is not None  # a descent aborted: no sample
                and self.tag_sequence.retry_at_us is None
                and AFTER_SAMPLING not in self.inertia_results
                and BASELINE in self.inertia_results and bool(prm.get("TAG_AUTO_MASS"))
                and t_us - self.modes.entered_us >= prm.get("TAG_MASS_WAIT_S") * 1e6)

    def step(self, t_us: int) -> bool:
        """The 10 Hz part; True when this cycle belonged to the mass measurement."""
        if self._second_test_due(t_us):
            self.cmd_measure_mass((1.0, 0, 0, 0, 0, 0, 0))
            return True
        if self.modes.current != Mode.MASS_MEASURE:
            return False
        self._spin_step(t_us)
        return True

    def _spin_step(self, t_us: int) -> None:
        att = self.navigation.nav.attitude
        att.bias_frozen = self.spin.state in (SpinState.SPIN_UP, SpinState.MEASURE,
                                             SpinState.SPIN_DOWN)
        tach = self.devices.wheels.take()
        h_sc = self.control.wheel_h_sc() if tach is not None else None
        change = self.spin.step(t_us * 1e-6, att.rate_sc_radps, h_sc, att.q_i_to_sc,
                                self.config.vehicle.inertia_kgm2)
        if change is None:
            if self.spin.state == SpinState.DONE and \
                    self.control.pointing_err_rad < POINTING_RESTORED_RAD:
                self.modes.request(Mode.HOVER, "spin test done, pointing restored")
            return
        self.events.emit(Severity.INFO, "mass", f"spin test: {change}")
        if change == SpinState.DONE:
            self._finish(t_us)

    def _finish(self, t_us: int) -> None:
        which = self.which
        result = (self.spin.inertia_kgm2, self.spin.inertia_sigma_kgm2)
        self.inertia_results[which] = result
        mass, sigma = math.nan, math.nan
        if which == AFTER_SAMPLING and BASELINE in self.inertia_results:
            before = self.inertia_results[BASELINE]
            mass, sigma = sample_mass_kg(before[0], before[1], result[0], result[1],
                                         self.config.vehicle.arm_length_m)
            self.sample_mass_estimate = (mass, sigma)
            self.events.emit(Severity.NOTICE, "mass",
                             f"sample mass {mass * 1000:.1f} g, 3-sigma "
                             f"{3 * sigma * 1000:.1f} g")
        self.send(mavlink.MAVLink_probe_mass_estimate_message(
            t_us, which, result[0], result[1], mass, sigma))

