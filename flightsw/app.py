"""The flight software, assembled: which components exist, how they are connected,
and in which rate group each one's work runs.  Wiring only: the behaviour lives in
flightsw/components/.

`FlightSoftware(config, bus, clock, record, signing_key=...)` is all a host
needs: the SIL runner, the HIL rig and replay plug in a different Bus and Clock
and nothing else.  One cycle: bus_in (messages through the uplink guard to
drivers, commands, parameters) -> nav -> sequence -> control (actuator messages
out) -> a parameter list in progress -> periodic telemetry at the rates of
the rate table (1 Hz unless a ground station sets another); at 1 Hz guidance
status, HEARTBEAT, fault protection and prospecting; at 0.1 Hz scheduler
statistics.  After every frame the scheduler looks at the executive's watchdog,
which fault protection's 1 Hz task pets (flightsw/core/watchdog.py).

The signing key is an argument, not part of FlightConfig: the configuration is
written to the run directory and a secret must never be.
"""

from flightsw.components.devices import Devices
from flightsw.components.fault_protection import FaultProtection
from flightsw.components.ground_services import GroundServices
from flightsw.components.guidance_control import GuidanceControl
from flightsw.components.housekeeping import Housekeeping
from flightsw.components.mass_measurement import MassMeasurement
from flightsw.components.momentum import MomentumManager
from flightsw.components.navigation import NavigationComponent
from flightsw.components.propulsion import Propulsion
from flightsw.components.safe_mode import SafeMode
from flightsw.components.survey import Survey
from flightsw.components.tag_sequence import TagSequence
from flightsw.components.telemetry_rates import TelemetryRates
from flightsw.components.uplink import UplinkGuard
from flightsw.config import FlightConfig
from flightsw.core.commands import CommandDispatcher
from flightsw.core.events import EventLog
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamService, ParamTable
from flightsw.core.scheduler import RateGroup, Scheduler, Task
from flightsw.core.watchdog import Watchdog
from flightsw.fault.watchdog_safe import minimal_safe
from flightsw.geometry.frames import SpinningBody
from flightsw.hal.bus import Bus, BusPort
from flightsw.icd import mavlink
from flightsw.params_table import FLIGHT_PARAMS

PARAM_MESSAGES = ("PARAM_SET", "PARAM_REQUEST_LIST", "PARAM_REQUEST_READ")
# PARAM_VALUEs per control cycle while a parameter list goes down: 90 parameters
# take 0.6 s at 10 Hz, and one cycle's share stays far inside its task budget.
PARAMS_PER_CYCLE = 16
DEFAULT_TELEMETRY_INTERVAL_US = 1_000_000
# Fault protection runs at 1 Hz: three runs missed bite (and again after its restart).
WATCHDOG_TIMEOUT_S = 3.0


class FlightSoftware:
    def __init__(self, config: FlightConfig, bus: Bus, clock, record=None, params=None, *,
                 signing_key: bytes | None = None):
        self.config = config
        self.clock = clock
        self.port = BusPort(bus, clock.now_us, record)
        send = self.port.send
        # Core services every component shares.
        self.events = EventLog(clock, send)
        self.modes = ModeManager(clock, self.events, initial=Mode.SAFE)
        self.params = ParamTable(FLIGHT_PARAMS) if params is None else params
        self.param_service = ParamService(self.params, send, self.events,
                                          values_per_cycle=PARAMS_PER_CYCLE)
        self.commands = CommandDispatcher(self.modes, self.events, send)
        # Every frame from outside the probe is judged before anything acts on it.
        self.uplink = UplinkGuard(clock, self.params, self.events, send, signing_key=signing_key)
        self.port.gate = self.uplink.admit
        core = (self.params, self.modes, self.events, self.commands)
        b = config.body
        body = SpinningBody(b.pole_ra_deg, b.pole_dec_deg, b.rotation_period_s, b.w0_deg)
        self.body = body

        # The components, each registering its own commands and parameter listeners.
        self.devices = dev = Devices(self.port, config.vehicle.wheel_count)
        self.propulsion = prop = Propulsion(config, self.port, self.events)
        self.navigation = nav = NavigationComponent(config, body, self.params, dev, send)
        nav.propulsion = prop
        nav.events = self.events
        self.control = ctl = GuidanceControl(config, body, *core, dev, nav, send)
        self.housekeeping = Housekeeping(self.modes, self.commands, send)
        self.tag_sequence = tag = TagSequence(config, body, *core, clock, dev, nav,
                                              ctl.guidance, send)
        self.survey = Survey(config, body, *core, clock, dev, nav, ctl.guidance, tag, send)
        self.mass = MassMeasurement(config, *core, clock, dev, nav, ctl, tag, send)
        self.safe_mode = safe = SafeMode(config, body, self.params, self.modes, self.events, nav,
                                         ctl)
        self.momentum = momentum = MomentumManager(config, self.params, self.events,
                                                   self.commands, prop)
        self.fault_protection = FaultProtection(config, *core[:3], self.commands, dev, nav,
                                                ctl, tag, prop, safe, momentum, clock, send)
        self.fault_protection.ground_lost = self.uplink.ground_heartbeat_lost
        # Run at the control rate, so a ground station may ask for up to 10 Hz.
        self.telemetry_rates = rates = TelemetryRates(self.commands, send,
                                                      round(1e6 / config.base_rate_hz))
        self.ground_services = GroundServices(clock, self.commands, rates, send,
                                              self.modes.heartbeat_message, dev.power,
                                              self.fault_protection.bank, self.uplink)
        for msg_id, producer in (
                (mavlink.MAVLINK_MSG_ID_SYS_STATUS, self.ground_services.send_sys_status),
                (mavlink.MAVLINK_MSG_ID_PROBE_NAV_STATE, nav.send_telemetry),  # + NAV_BIAS
                (mavlink.MAVLINK_MSG_ID_PROBE_TAG_STATUS, tag.send_telemetry),
                (mavlink.MAVLINK_MSG_ID_PROBE_LINK_STATUS, self._send_link_status)):
            rates.add(msg_id, producer, DEFAULT_TELEMETRY_INTERVAL_US)
        ctl.attach(tag, self.survey, self.mass)
        ctl.attach_fault_protection(prop, safe, momentum)

        self.port.subscribe("COMMAND_LONG", self.commands.dispatch_command_long)
        self.port.subscribe("COMMAND_LONG", self.fault_protection.on_ground_message)
        self.port.subscribe("COMMAND_INT", self.fault_protection.on_ground_message)
        self.ground_services.subscribe(self.port)
        for kind in PARAM_MESSAGES:
            self.port.subscribe(kind, self.param_service.handle)
        self.scheduler = self._make_scheduler(config)
        self.housekeeping.watch(self.scheduler)
        self.fault_protection.watch(self.scheduler, {
            "bus_in": lambda t_us: self.port.pump(), "nav": nav.task_nav,
            "sequence": self._task_sequence, "control": ctl.task_control},
            slow_backups={"telemetry": self._task_telemetry},
            after_auto_exit=(self.survey.resume_after_safe,))
        self.watchdog = Watchdog(self.events, WATCHDOG_TIMEOUT_S, self.fault_protection.restart,
                                 minimal_safe(self.modes, safe, tag, clock))
        self.fault_protection.pet_watchdog = self.watchdog.pet
        self.ground_services.watchdog = self.watchdog
        self.scheduler.set_watchdog(self.watchdog.check)

    def _make_scheduler(self, config: FlightConfig) -> Scheduler:
        fast = RateGroup("fast", config.base_rate_hz, [
            Task("bus_in", lambda t_us: self.port.pump(), 3000),
            Task("nav", self.navigation.task_nav, 2000),
            Task("sequence", self._task_sequence, 500),
            Task("control", self.control.task_control, 1000),
            Task("fault_fast", self.fault_protection.task_fast, 300),
            Task("params_out", self.param_service.send_pending, 1000),
            Task("tlm_rates", self.telemetry_rates.run, 1000),
        ])
        slow = RateGroup("slow", 1, [
            Task("guidance", self.control.task_guidance, 1000),
            Task("telemetry", self._task_telemetry, 1000),
            Task("fault_prot", self.fault_protection.task, 500),
            Task("prospect", self.survey.task_prospect, 20000),
        ])
        background = RateGroup("background", 0.1, [])
        return Scheduler(self.clock, [fast, slow, background], events=self.events,
                         timing_telemetry=config.timing_telemetry)

    def _task_sequence(self, t_us: int) -> None:
        """Mode logic at the control rate: the spin test, else touch-and-go."""
        if not self.mass.step(t_us):
            self.tag_sequence.step(t_us)

    def _task_telemetry(self, t_us: int) -> None:
        self.housekeeping.send_heartbeat()  # always 1 Hz: ground stations watch for it
        self.uplink.task(t_us)

    def _send_link_status(self, t_us: int) -> None:
        self.port.send(self.uplink.status_message(t_us))

    # -- host interface ------------------------------------------------------------
    def run_frame(self) -> None:
        """Run the tasks due at the clock's current time (one minor frame)."""
        self.scheduler.run_frame()
