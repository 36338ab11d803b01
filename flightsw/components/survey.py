"""The survey and prospecting campaign as a component: the START_SURVEY and
CHOOSE_SITE commands, the 1 Hz prospecting task, the hand-over of the chosen
site to touch-and-go and the automatic descent that follows."""

from flightsw.components.devices import Devices
from flightsw.components.navigation import NavigationComponent
from flightsw.components.tag_sequence import TagSequence
from flightsw.config import FlightConfig
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.geometry.frames import SpinningBody
from flightsw.gnc.transfer import station_reference
from flightsw.prospect.campaign import SurveyCampaign, SurveyState


class Survey:
    """State: the campaign (None without a shape model on board) and whether an
    automatic touch-and-go waits for the survey's chosen site (PRS_AUTO_TAG).
    """

    def __init__(self, config: FlightConfig, body: SpinningBody, params: ParamTable,
                 modes: ModeManager, events: EventLog, commands: CommandDispatcher, clock,
                 devices: Devices, navigation: NavigationComponent, hover_guidance,
                 tag_sequence: TagSequence, send):
        self.params = params
        self.modes = modes
        self.events = events
        self.clock = clock
        self.devices = devices
        self.navigation = navigation
        self.hover_guidance = hover_guidance
        self.tag_sequence = tag_sequence
        self.campaign = None
        if config.prospect is not None:
            self.campaign = SurveyCampaign(
                config.prospect, body, params, events, send, devices.instruments,
                config.vehicle.arm_length_m,
                lambda: tag_sequence.profile().expected_duration_s(params.get("PRS_HOME_M")))
        self.auto_tag_pending = False
        self.auto_tag_after_us = 0
        self.interrupted = None  # the campaign's state when fault protection forced SAFE
        modes.add_listener(self._on_mode_change)
        commands.register_ground_command("START_SURVEY", self._cmd_start_survey)
        commands.register_ground_command("CHOOSE_SITE", self._cmd_choose_site)

    def _cmd_start_survey(self, params) -> CommandResult:
        if self.campaign is None:
            self.events.emit(Severity.WARNING, "survey", "no shape model on board")
            return CommandResult.FAILED
        if not self.navigation.ready:
            return CommandResult.BUSY
        result = self.modes.request(Mode.SURVEY, "start the spectral survey")
        if result != CommandResult.ACCEPTED:
            return result
        hover = self.hover_guidance.reference
        self.campaign.start(self.clock.now_us() * 1e-6, hover, float(params[0]))
        return CommandResult.ACCEPTED

    def _on_mode_change(self, old: Mode, new: Mode) -> None:
        if new == Mode.SAFE and old == Mode.SURVEY and self.modes.forced and \
                self.campaign is not None:
            self.interrupted = self.campaign.state
            self.campaign.interrupt(self.clock.now_us() * 1e-6)
        elif new == Mode.SURVEY:
            self.interrupted = None

    def resume_after_safe(self, t_us: int) -> None:
        """After SAFE ended by itself (health restored, SAFE_AUTO_EXIT): a survey that
        SAFE broke off goes on, from wherever SAFE left the probe.  (After a ground exit
        the ground says what comes next.)"""
        state, self.interrupted = self.interrupted, None
        if state is None or self.modes.current != Mode.HOVER:
            return
        tr = self.navigation.nav.translation
        if not tr.initialised:
            return
        here = tuple(tr.position_i())
        q = self.navigation.nav.attitude.q_i_to_sc

        def from_here(t_s: float, here=here, q=q):
            return station_reference(here, q, (0.0, 0.0, 0.0))

        if self.modes.request(Mode.SURVEY, "resume the survey after SAFE") != \
                CommandResult.ACCEPTED:
            return
        if not self.campaign.resume(t_us * 1e-6, from_here, state, self._home_reference):
            self.modes.request(Mode.HOVER, "nothing to resume")

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
        self.tag_sequence.set_target(tuple(float(x) for x in c.point_bf_m), normal, ())
        self.hover_guidance.set_target(self.campaign.safe_home_bf())

    def _home_reference(self, campaign):
        """Reference of safe-home above the chosen site (used by the transfer there)."""
        self._hand_site_to_guidance()
        return self.hover_guidance.reference

    def task_prospect(self, t_us: int) -> None:
        camp = self.campaign
        if camp is None:
            return
        spectra = self.devices.spectrometer.take_all()
        scans = self.devices.scan_lidar.take_all()
        mode = self.modes.current
        if mode == Mode.SURVEY:
            camp.step(t_us, self.navigation.pose_at, spectra, scans, self._home_reference)
            if camp.state == SurveyState.DONE:
                self.modes.request(Mode.HOVER, "survey done: safe-home above the chosen site")
                self.auto_tag_pending = bool(self.params.get("PRS_AUTO_TAG")) and \
                    camp.chosen is not None
                self.auto_tag_after_us = t_us + self.params.get("PRS_SETTLE_S") * 1e6
        elif mode == Mode.HOVER and self.auto_tag_pending and \
                t_us >= self.auto_tag_after_us and \
                t_us >= (camp.descent_start_s() or 0.0) * 1e6:
            self._auto_tag(t_us)

    def _auto_tag(self, t_us: int) -> None:
        result = self.tag_sequence.cmd_start_tag(())
        if result == CommandResult.ACCEPTED:
            self.auto_tag_pending = False
        elif result == CommandResult.BUSY:
            # Not there yet: hover on, the contact moves to the next good light.
            self.auto_tag_after_us = t_us + self.params.get("PRS_SETTLE_S") * 1e6
            self.campaign.plan_contact(t_us * 1e-6)
        else:
            self.auto_tag_pending = False
            self.events.emit(Severity.WARNING, "survey",
                             f"automatic touch-and-go refused: {result.name}")

