"""The flight software, assembled: which components exist, how they are connected,
and in which rate group each one's work runs.  Wiring only: the behaviour lives in
flightsw/components/.

`FlightSoftware(config, bus, clock, record)` is all a host needs: the SIL
runner, the HIL rig and replay plug in a different Bus and Clock and nothing
else.  One cycle: bus_in (messages to drivers, commands, parameters) -> nav
-> sequence -> control (actuator messages out); at 1 Hz guidance status,
telemetry, fault protection and prospecting; at 0.1 Hz scheduler statistics.
"""

from flightsw.components.devices import Devices
from flightsw.components.fault_protection import FaultProtection
from flightsw.components.guidance_control import GuidanceControl
from flightsw.components.housekeeping import Housekeeping
from flightsw.components.mass_measurement import MassMeasurement
from flightsw.components.momentum import MomentumManager
from flightsw.components.navigation import NavigationComponent
from flightsw.components.propulsion import Propulsion
from flightsw.components.safe_mode import SafeMode
from flightsw.components.survey import Survey
from flightsw.components.tag_sequence import TagSequence
from flightsw.config import FlightConfig
from flightsw.core.commands import CommandDispatcher
from flightsw.core.events import EventLog
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamService, ParamTable
from flightsw.core.scheduler import RateGroup, Scheduler, Task
from flightsw.geometry.frames import SpinningBody
from flightsw.hal.bus import Bus, BusPort
from flightsw.params_table import FLIGHT_PARAMS

PARAM_MESSAGES = ("PARAM_SET", "PARAM_REQUEST_LIST", "PARAM_REQUEST_READ")


class FlightSoftware:
    def __init__(self, config: FlightConfig, bus: Bus, clock, record=None, params=None):
        self.config = config
        self.clock = clock
        self.port = BusPort(bus, clock.now_us, record)
        send = self.port.send
        # Core services every component shares.
        self.events = EventLog(clock, send)
        self.modes = ModeManager(clock, self.events, initial=Mode.SAFE)
        self.params = ParamTable(FLIGHT_PARAMS) if params is None else params
        self.param_service = ParamService(self.params, send, self.events)
        self.commands = CommandDispatcher(self.modes, self.events, send)
        core = (self.params, self.modes, self.events, self.commands)
        b = config.body
        body = SpinningBody(b.pole_ra_deg, b.pole_dec_deg, b.rotation_period_s, b.w0_deg)
        self.body = body

        # The components, each registering its own commands and parameter listeners.
        self.devices = dev = Devices(self.port, config.vehicle.wheel_count)
        self.propulsion = prop = Propulsion(config, self.port, self.events)
        self.navigation = nav = NavigationComponent(config, body, self.params, dev, send)
        nav.propulsion = prop
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
        ctl.attach(tag, self.survey, self.mass)
        ctl.attach_fault_protection(prop, safe, momentum)

        self.port.subscribe("COMMAND_LONG", self.commands.dispatch_command_long)
        self.port.subscribe("COMMAND_LONG", self.fault_protection.on_ground_message)
        for kind in PARAM_MESSAGES:
            self.port.subscribe(kind, self.param_service.handle)
        self.scheduler = self._make_scheduler(config)
        self.housekeeping.watch(self.scheduler)
        self.fault_protection.watch(self.scheduler, {
            "bus_in": lambda t_us: self.port.pump(), "nav": nav.task_nav,
            "sequence": self._task_sequence, "control": ctl.task_control},
            slow_backups={"telemetry": self._task_telemetry},
            after_auto_exit=(self.survey.resume_after_safe,))

    def _make_scheduler(self, config: FlightConfig) -> Scheduler:
        fast = RateGroup("fast", config.base_rate_hz, [
            Task("bus_in", lambda t_us: self.port.pump(), 3000),
            Task("nav", self.navigation.task_nav, 2000),
            Task("sequence", self._task_sequence, 500),
            Task("control", self.control.task_control, 1000),
            Task("fault_fast", self.fault_protection.task_fast, 300),
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
        self.housekeeping.send_heartbeat()
        self.navigation.send_telemetry(t_us)
        self.tag_sequence.send_telemetry(t_us)

    # -- host interface ------------------------------------------------------------
    def run_frame(self) -> None:
        """Run the tasks due at the clock's current time (one minor frame)."""
        self.scheduler.run_frame()
