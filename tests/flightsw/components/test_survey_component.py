"""The survey component (flightsw/components/survey.py) on its own: the START_SURVEY and
CHOOSE_SITE commands through the real dispatcher, and the 1 Hz task's hand-over from a
finished survey to the automatic touch-and-go.

The campaign and the touch-and-go sequence are stand-ins that record what they are asked
(the campaign's own behaviour is tests/flightsw/prospect/test_campaign.py's); the mode
manager, dispatcher, parameter table and event log are the real ones.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from flightsw.components.survey import Survey
from flightsw.config import BodyModel, FlightConfig, VehicleConfig
from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import DEFAULT_TRANSITIONS, Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.geometry.frames import SpinningBody
from flightsw.icd import mavlink
from flightsw.params_table import FLIGHT_PARAMS
from flightsw.prospect.campaign import SurveyState

S = 1_000_000  # us
T0_US = 5000 * S
CONFIG = FlightConfig(
    vehicle=VehicleConfig(1500.0, (2400.0, 2100.0, 1700.0), 4, 0.12, 0.2, 1.0, 0.005),
    body=BodyModel(4.892, 85.65, -60.17, 4.296057 * 3600.0),
    hover_point_bf_m=(1082.5, 0.0, 625.0))
HOVER_REFERENCE = ("hover reference",)


class FakeCampaign:
    def __init__(self):
        self.state = SurveyState.SCANNING
        self.candidates = []
        self.chosen = None
        self.started = []
        self.planned_s = []
        self.descent_s = None
        self.shape = SimpleNamespace(normals=np.array([[0.0, 0.0, 1.0]] * 4))

    def start(self, t_s, hover, scan_s):
        self.started.append((t_s, hover, scan_s))

    def step(self, t_us, pose_at, spectra, scans, home_reference):
        pass

    def descent_start_s(self):
        return self.descent_s

    def plan_contact(self, t_s):
        self.planned_s.append(t_s)

    def choose(self, t_s, rank):
        if rank > len(self.candidates):
            return False
        self.chosen = self.candidates[rank - 1]
        return True

    def safe_home_bf(self):
        return ("safe home above", self.chosen.site_id)


class FakeTagSequence:
    def __init__(self):
        self.answers = []
        self.starts = 0
        self.targets = []

    def cmd_start_tag(self, params):
        self.starts += 1
        return self.answers.pop(0)

    def set_target(self, point, normal, hazards):
        self.targets.append((point, normal))


class Rig:
    def __init__(self, mode=Mode.HOVER, campaign=True, transitions=DEFAULT_TRANSITIONS):
        self.clock = SimClock(T0_US)
        self.events = EventLog(self.clock)
        self.modes = ModeManager(self.clock, self.events, initial=mode, transitions=transitions)
        self.params = ParamTable(FLIGHT_PARAMS)
        self.acks = []
        self.commands = CommandDispatcher(self.modes, self.events, self.acks.append)
        self.navigation = SimpleNamespace(ready=True, pose_at=None)
        self.hover = SimpleNamespace(reference=HOVER_REFERENCE, targets=[])
        self.hover.set_target = self.hover.targets.append
        self.tag = FakeTagSequence()
        empty = SimpleNamespace(take_all=list)
        devices = SimpleNamespace(spectrometer=empty, scan_lidar=empty, instruments=None)
        body = SpinningBody(85.65, -60.17, 4.296057 * 3600.0, 0.0)
        self.survey = Survey(CONFIG, body, self.params, self.modes, self.events, self.commands,
                             self.clock, devices, self.navigation, self.hover, self.tag,
                             self.acks.append)
        assert self.survey.campaign is None  # no shape model in CONFIG
        if campaign:
            self.survey.campaign = self.campaign = FakeCampaign()

    def command(self, cmd_id, *params):
        return self.commands.dispatch(cmd_id, params, source="test")

    def warnings(self):
        return [e.text for e in self.events.recent
                if e.source == "survey" and e.severity == Severity.WARNING]

    def tick(self, t_s):
        self.clock.advance_by_us(round(t_s * S) - (self.clock.now_us() - T0_US))
        self.survey.task_prospect(self.clock.now_us())


def test_start_survey_without_a_shape_model_fails_and_says_why():
    rig = Rig(campaign=False)
    assert rig.command(mavlink.PROBE_CMD_START_SURVEY) == CommandResult.FAILED
    assert rig.warnings() == ["no shape model on board"]
    assert rig.modes.current == Mode.HOVER


def test_start_survey_before_navigation_is_ready_is_busy_and_starts_nothing():
    """A survey places each spectrum with the pose of its time: no pose, no survey yet."""
    rig = Rig()
    rig.navigation.ready = False
    assert rig.command(mavlink.PROBE_CMD_START_SURVEY) == CommandResult.BUSY
    assert rig.modes.current == Mode.HOVER and rig.campaign.started == []


def test_start_survey_the_mode_manager_refuses_starts_nothing():
    """The mode manager has the last word: a table without HOVER -> SURVEY gives its
    WRONG_MODE back and the campaign is not started."""
    table = {**DEFAULT_TRANSITIONS, Mode.HOVER: frozenset({Mode.STANDBY})}
    rig = Rig(transitions=table)
    assert rig.command(mavlink.PROBE_CMD_START_SURVEY) == CommandResult.WRONG_MODE
    assert rig.modes.current == Mode.HOVER and rig.campaign.started == []


def test_start_survey_enters_survey_and_starts_the_campaign_from_the_hover_point():
    """Accepted: SURVEY mode, the campaign started now, from the hover reference, with the
    scan duration the ground gave (param1)."""
    rig = Rig()
    assert rig.command(mavlink.PROBE_CMD_START_SURVEY, 1234.0) == CommandResult.ACCEPTED
    assert rig.modes.current == Mode.SURVEY
    assert rig.campaign.started == [(T0_US / S, HOVER_REFERENCE, 1234.0)]


def test_choose_site_without_a_campaign_fails_and_says_why():
    rig = Rig(campaign=False)
    assert rig.command(mavlink.PROBE_CMD_CHOOSE_SITE, 1.0) == CommandResult.FAILED
    assert rig.warnings() == ["no ranked candidates yet"]


def test_a_chosen_site_goes_to_touch_and_go_with_its_facet_normal_and_home_above_it():
    """CHOOSE_SITE n: the rank-n candidate's point and its facet's normal become the
    touch-and-go target (no hazards mapped), its safe-home point the hover target."""
    rig = Rig()
    rig.campaign.candidates = [SimpleNamespace(site_id=k, point_bf_m=np.array([k, 0.0, 250.0]))
                               for k in (2, 3)]
    rig.campaign.shape.normals[3] = [0.0, 0.6, 0.8]
    assert rig.command(mavlink.PROBE_CMD_CHOOSE_SITE, 2.0) == CommandResult.ACCEPTED
    assert rig.tag.targets == [((3.0, 0.0, 250.0), (0.0, 0.6, 0.8))]
    assert rig.hover.targets == [("safe home above", 3)]


def test_a_rank_the_campaign_refuses_is_invalid_and_hands_nothing_over():
    rig = Rig()
    rig.campaign.candidates = [SimpleNamespace(site_id=1, point_bf_m=np.zeros(3))]
    assert rig.command(mavlink.PROBE_CMD_CHOOSE_SITE, 2.0) == CommandResult.INVALID_PARAM
    assert rig.tag.targets == [] and rig.hover.targets == []


def test_without_a_shape_model_the_prospect_task_does_nothing():
    rig = Rig(mode=Mode.SURVEY, campaign=False)
    rig.tick(1.0)
    assert rig.modes.current == Mode.SURVEY and rig.tag.starts == 0


def finished_survey(rig, chosen=True, auto=True):
    """The survey ends at t = 10 s with a site chosen (or none); settle time 100 s."""
    rig.params.set("PRS_AUTO_TAG", auto)
    rig.params.set("PRS_SETTLE_S", 100.0)
    rig.modes.request(Mode.SURVEY)
    rig.campaign.state = SurveyState.DONE
    rig.campaign.chosen = object() if chosen else None
    rig.tick(10.0)


@pytest.mark.parametrize(("chosen", "auto"), [(True, True), (False, True), (True, False)])
def test_a_finished_survey_goes_back_to_hover_and_arms_touch_and_go_only_with_a_site(chosen,
                                                                                    auto):
    """SURVEY -> HOVER above the chosen site; an automatic touch-and-go is armed only with
    PRS_AUTO_TAG set and a site chosen."""
    rig = Rig()
    finished_survey(rig, chosen, auto)
    assert rig.modes.current == Mode.HOVER
    assert rig.survey.auto_tag_pending == (chosen and auto)


def test_touch_and_go_starts_after_the_settle_time_and_the_planned_light():
    """Not before PRS_SETTLE_S has passed, nor before the campaign's planned descent start;
    then START_TAG once, and nothing more is pending."""
    rig = Rig()
    finished_survey(rig)
    rig.campaign.descent_s = T0_US / S + 150.0  # mission time of the planned descent
    rig.tag.answers = [CommandResult.ACCEPTED]
    rig.tick(109.0)
    rig.tick(140.0)  # settled (110 s), but the light is planned for 150 s
    assert rig.tag.starts == 0
    rig.tick(150.0)
    assert rig.tag.starts == 1 and not rig.survey.auto_tag_pending
    rig.tick(151.0)
    assert rig.tag.starts == 1


def test_a_busy_touch_and_go_is_retried_after_the_settle_time_with_the_contact_replanned():
    """START_TAG answers BUSY (not above the site yet): hover on, try again PRS_SETTLE_S
    later, the contact moved to the next good light from now."""
    rig = Rig()
    finished_survey(rig)
    rig.tag.answers = [CommandResult.BUSY, CommandResult.ACCEPTED]
    rig.tick(110.0)
    assert rig.tag.starts == 1 and rig.survey.auto_tag_pending
    assert rig.campaign.planned_s == [T0_US / S + 110.0]
    assert rig.survey.auto_tag_after_us == T0_US + 210 * S
    rig.tick(209.0)
    assert rig.tag.starts == 1
    rig.tick(210.0)
    assert rig.tag.starts == 2 and not rig.survey.auto_tag_pending


def test_a_refused_touch_and_go_is_given_up_with_a_warning():
    """Any other answer is final: no retry, and the operator reads why."""
    rig = Rig()
    finished_survey(rig)
    rig.tag.answers = [CommandResult.WRONG_MODE]
    rig.tick(110.0)
    rig.tick(500.0)
    assert rig.tag.starts == 1 and not rig.survey.auto_tag_pending
    assert rig.warnings() == ["automatic touch-and-go refused: WRONG_MODE"]
