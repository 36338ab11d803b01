"""The touch-and-go sequence (flightsw/components/tag_sequence.py) on its own, cycle by cycle.

Pinned here, each with its thresholds at and around the boundary:
- START_TAG's preconditions (a target on board, navigation ready and within TAG_NAV_SIG_M,
  within MAX_LATERAL_OFFSET_M of the target's vertical, the mode manager's consent) and
  what an accepted start sets up (descent mode, guidance from the current head height,
  sampler deployed);
- the hazard wave-off: armed from the Checkpoint burn on, above TAG_HAZ_CHECK_M, for a
  predicted contact less than TAG_HAZ_MARGIN_M from a mapped hazard's edge, with the
  reason naming the clearance;
- the contact window (head or reference more than TAG_CONTACT_WIN below the surface);
- contact sensing (sampler switch, or the IMU's push back beyond TAG_CONTACT_ACC);
- gas after TAG_GAS_DELAY_S, back-away after TAG_CONTACT_S, the burn's length from
  TAG_BACKAWAY_DV, the climb's end at TAG_SAFE_ALT_M - 40 m or when the climb stops;
- PROBE_TAG_STATUS.

The spacecraft around the sequence is made of stand-ins: navigation returns the
position and velocity a test sets (body-fixed), the sampler records its commands.  The
parameter table, mode manager, event log, command dispatcher and descent guidance are
the real ones.  The target is on a plane z = 250 m (normal +z), arm 3 m: the head
height is z - 253 m.
"""

import math
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.components.tag_sequence import BACKAWAY_SLOT, THRUSTER_SLOTS, TagSequence
from flightsw.config import BodyModel, FlightConfig, TagSite, VehicleConfig
from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.geometry.frames import SpinningBody
from flightsw.gnc.tag import TagPhase, TagProfile
from flightsw.icd import mavlink
from flightsw.params_table import FLIGHT_PARAMS

METRE = 1.0
S = 1_000_000  # us
T0_US = 1000 * S
TARGET_BF_M = (0.0, 0.0, 250.0)
NORMAL_BF = (0.0, 0.0, 1.0)
ARM_M = 3.0
MASS_KG = 1500.0
BACKAWAY_N = 20.0  # 0.4 m/s x 1500 kg / 20 N = 30 s of burn = 300 cycles at 10 Hz


def above(head_height_m, lateral_m=(0.0, 0.0)):
    """Centre of mass that puts the head head_height_m above the target's plane."""
    return (lateral_m[0], lateral_m[1], TARGET_BF_M[2] + ARM_M + head_height_m)


class FakeNavigation:
    def __init__(self, body, clock):
        self.body, self.clock = body, clock
        self.pos_bf = above(150.0)
        self.vel_bf = (0.0, 0.0, 0.0)
        self.sigma_m = (0.1, 0.0, 0.0)
        self.ready = True
        self.last_imu = None
        self.lidar_plane_bf = None
        translation = SimpleNamespace(
            pos_sigma_m=lambda: self.sigma_m,
            position_i=lambda: self.body.bf_to_i(self.clock.now_us() * 1e-6, self.pos_bf))
        self.nav = SimpleNamespace(translation=translation)
        self.asked_s = []

    def estimate_bf(self, t_s):
        self.asked_s.append(t_s)
        return self.pos_bf, self.vel_bf


class FakeSampler:
    def __init__(self):
        self.commands = []
        self.latest = None

    def command(self, t_us, action):
        self.commands.append((t_us, action))


class FakeHover:
    def __init__(self):
        self.targets = []

    def set_target(self, point_bf):
        self.targets.append(point_bf)


def config(tag=True, backaway_force_n=BACKAWAY_N, hazards=()):
    site = TagSite(TARGET_BF_M, NORMAL_BF, hazards) if tag else None
    return FlightConfig(
        vehicle=VehicleConfig(MASS_KG, (2400.0, 2100.0, 1700.0), 4, 0.12, 0.2, 1.0, 0.005,
                              backaway_force_n=backaway_force_n, arm_length_m=ARM_M),
        body=BodyModel(4.892, 85.65, -60.17, 4.296057 * 3600.0),
        hover_point_bf_m=(1082.5, 0.0, 625.0), tag=site)


class Rig:
    def __init__(self, mode=Mode.HOVER, **cfg):
        self.clock = SimClock(T0_US)
        self.sent = []
        self.events = EventLog(self.clock)
        self.modes = ModeManager(self.clock, self.events, initial=mode)
        self.params = ParamTable(FLIGHT_PARAMS)
        self.commands = CommandDispatcher(self.modes, self.events, self.sent.append)
        self.body = SpinningBody(85.65, -60.17, 4.296057 * 3600.0, 0.0)
        self.navigation = FakeNavigation(self.body, self.clock)
        self.navigation.nav.ready = True
        self.sampler = FakeSampler()
        self.hover = FakeHover()
        self.seq = TagSequence(config(**cfg), self.body, self.params, self.modes, self.events,
                               self.commands, self.clock, SimpleNamespace(sampler=self.sampler),
                               self.navigation, self.hover, self.sent.append)

    def texts(self, severity=None):
        return [e.text for e in self.events.recent
                if e.source == "tag" and (severity is None or e.severity == severity)]

    def start(self, head_height_m=150.0):
        self.navigation.pos_bf = above(head_height_m)
        assert self.seq.cmd_start_tag(()) == CommandResult.ACCEPTED
        return self.seq

    def step(self, dt_s=0.1):
        self.clock.advance_by_us(round(dt_s * S))
        self.seq.step(self.clock.now_us())

    def in_phase(self, phase, head_height_m, h_ref_m=None, lateral_m=(0.0, 0.0)):
        """A descent under way in `phase`, the probe (and the reference) at a head height."""
        seq = self.start(head_height_m)
        seq.guidance.phase = phase
        seq.guidance.h_ref_m = head_height_m if h_ref_m is None else h_ref_m
        self.navigation.pos_bf = above(head_height_m, lateral_m)
        self.navigation.vel_bf = (0.0, 0.0, -0.1)
        return seq

    def status(self):
        return [m for m in self.sent if m.get_type() == "PROBE_TAG_STATUS"]


# -- set-up and START_TAG -----------------------------------------------------------------

def test_the_configured_target_is_on_board_with_its_hazards_and_lidar_plane():
    rig = Rig(hazards=(((10.0, 0.0, 250.0), 2.0),))
    seq = rig.seq
    assert seq.site == (TARGET_BF_M, NORMAL_BF)
    assert rig.navigation.lidar_plane_bf == seq.site
    assert seq.hazards == (((10.0, 0.0, 250.0), 2.0),)
    assert seq.guidance.target_bf_m == TARGET_BF_M and seq.guidance.arm_length_m == ARM_M
    assert seq.guidance.body is rig.body  # the references co-rotate with this body
    assert seq.phase == TagPhase.IDLE and seq.waveoffs == []
    assert {mavlink.PROBE_CMD_START_TAG, mavlink.PROBE_CMD_WAVE_OFF} <= rig.commands.registered


def test_a_fresh_sequence_fires_no_back_away_pulse():
    """Before any wave-off or contact the back-away thruster stays off, whatever asks."""
    rig = Rig()
    assert rig.seq.backaway_pulse(0.1) is None


def test_status_before_the_first_descent_cycle_claims_no_prediction():
    """PROBE_TAG_STATUS between START_TAG and the first cycle: no predicted miss (NaN),
    the contact point at the origin, an infinite clearance sent as 1e9."""
    rig = Rig()
    rig.start()
    rig.seq.send_telemetry(rig.clock.now_us())
    (m,) = rig.status()
    assert math.isnan(m.predicted_miss_m)
    assert list(m.predicted_contact_bf_m) == [0.0, 0.0, 0.0]
    assert m.hazard_clearance_m == 1e9 and m.phase == TagPhase.TO_CHECKPOINT


def test_profile_reads_each_descent_parameter_into_its_field():
    rig = Rig()
    values = {"TAG_CP_ALT_M": 130.0, "TAG_MP_ALT_M": 50.0, "TAG_DESC_MPS": 0.25,
              "TAG_CP_MP_S": 500.0, "TAG_CONTACT_MPS": 0.125, "TAG_ACC_LIM": 0.0625}
    for name, v in values.items():
        rig.params.set(name, v)
    assert rig.seq.profile() == TagProfile(130.0, 50.0, 0.25, 500.0, 0.125, 0.0625)


def test_start_without_a_target_fails_and_says_why():
    rig = Rig(tag=False)
    assert rig.seq.cmd_start_tag(()) == CommandResult.FAILED
    assert rig.texts(Severity.WARNING) == ["no touch-and-go target on board"]
    assert rig.modes.current == Mode.HOVER


def test_an_accepted_start_descends_from_the_current_head_height():
    rig = Rig()
    rig.seq.t_contact_us, rig.seq.gas_fired = 5, True  # left over from an earlier attempt
    seq = rig.start(head_height_m=140.0)
    t_s = T0_US * 1e-6
    assert rig.modes.current == Mode.DESCENT
    assert seq.guidance.phase == TagPhase.TO_CHECKPOINT == seq.phase
    assert seq.guidance.h_ref_m == pytest.approx(140.0, abs=1e-9 * METRE)
    assert seq.event_times == {"descent": t_s}
    assert seq.t_contact_us is None and seq.gas_fired is False
    assert rig.sampler.commands == [(T0_US, mavlink.PROBE_SAMPLER_DEPLOY)]
    assert "descent started toward Checkpoint" in rig.texts(Severity.NOTICE)
    assert rig.modes.history[-1].reason == "start touch-and-go"  # in events.log


def test_start_waits_for_navigation_to_be_ready():
    rig = Rig()
    rig.navigation.nav.ready = False
    assert rig.seq.cmd_start_tag(()) == CommandResult.BUSY
    assert rig.texts() == ["navigation not good enough to descend"]
    assert rig.modes.current == Mode.HOVER and rig.sampler.commands == []


def test_start_needs_the_position_sigma_norm_within_tag_nav_sig_m():
    rig = Rig()
    limit = rig.params.get("TAG_NAV_SIG_M")
    rig.navigation.sigma_m = (0.6 * limit, 0.8 * limit, 0.01 * limit)  # norm just above
    assert rig.seq.cmd_start_tag(()) == CommandResult.BUSY
    assert rig.texts() == ["navigation not good enough to descend"]
    rig.navigation.sigma_m = (limit, 0.0, 0.0)  # at the limit
    assert rig.seq.cmd_start_tag(()) == CommandResult.ACCEPTED


@pytest.mark.parametrize(("lateral_m", "result"), [
    ((20.0, 0.0), CommandResult.ACCEPTED), ((0.0, -20.0), CommandResult.ACCEPTED),
    ((12.0, 16.0), CommandResult.ACCEPTED),  # 20 m, on neither axis
    ((20.01, 0.0), CommandResult.BUSY), ((12.0, 16.01), CommandResult.BUSY)])
def test_start_only_from_within_20_m_of_the_targets_vertical(lateral_m, result):
    rig = Rig()
    rig.navigation.pos_bf = above(150.0, lateral_m)
    assert rig.seq.cmd_start_tag(()) == result
    if result == CommandResult.BUSY:
        assert rig.texts() == ["not above the target: hover there first"]
        assert rig.modes.current == Mode.HOVER and rig.seq.phase == TagPhase.IDLE


def test_a_start_the_mode_manager_refuses_changes_nothing():
    rig = Rig(mode=Mode.STANDBY)
    assert rig.seq.cmd_start_tag(()) == CommandResult.WRONG_MODE
    assert rig.modes.current == Mode.STANDBY and rig.seq.phase == TagPhase.IDLE
    assert rig.seq.event_times == {} and rig.sampler.commands == []


# -- wave-off and back-away burn ----------------------------------------------------------

def test_ground_wave_off_backs_away_and_the_burn_lasts_dv_times_mass_over_force():
    rig = Rig()
    seq = rig.start()
    rig.clock.advance_by_us(5 * S)
    result = rig.commands.dispatch(mavlink.PROBE_CMD_WAVE_OFF)
    assert result == CommandResult.ACCEPTED
    assert seq.waveoffs == ["commanded by the ground"]
    assert "wave-off: commanded by the ground" in rig.texts(Severity.WARNING)
    assert rig.modes.current == Mode.BACKAWAY
    assert rig.modes.history[-1].reason == "back away"
    assert seq.phase == TagPhase.BACKAWAY_BURN and seq.guidance.phase == TagPhase.IDLE
    assert seq.event_times["backaway"] == T0_US * 1e-6 + 5.0
    # 0.4 m/s x 1500 kg / 20 N = 30 s at 10 Hz
    assert seq.burn_cycles_left == 300
    pulses = []
    while (p := seq.backaway_pulse(0.1)) is not None:
        pulses.append(p)
    assert len(pulses) == 300
    assert all(len(p) == THRUSTER_SLOTS for p in pulses)
    assert all(p[BACKAWAY_SLOT] == 0.1 and sum(p) == 0.1 for p in pulses)


def test_the_first_back_away_time_is_kept_when_a_second_wave_off_follows():
    rig = Rig()
    seq = rig.start()
    seq.wave_off("first")
    rig.clock.advance_by_us(3 * S)
    seq.wave_off("second")
    assert seq.waveoffs == ["first", "second"]
    assert seq.event_times["backaway"] == T0_US * 1e-6


@settings(max_examples=30, deadline=None)
@given(dv=st.floats(0.05, 2.0), force_n=st.floats(0.5, 2000.0))
def test_the_burn_is_the_delta_v_at_the_vehicle_force_in_whole_cycles_at_least_one(dv, force_n):
    rig = Rig(backaway_force_n=force_n)
    rig.params.set("TAG_BACKAWAY_DV", dv)
    rig.start().wave_off("test")
    burn_s = rig.params.get("TAG_BACKAWAY_DV") * MASS_KG / force_n
    assert rig.seq.burn_cycles_left == max(1, round(burn_s / 0.1))
    assert abs(rig.seq.burn_cycles_left * 0.1 - burn_s) <= max(0.05 + 1e-9, 0.1 - burn_s)


def test_a_vehicle_without_a_back_away_thruster_burns_nothing():
    rig = Rig(backaway_force_n=0.0)
    seq = rig.start()
    seq.wave_off("test")
    assert seq.burn_cycles_left == 0 and seq.backaway_pulse(0.1) is None


# -- the descent: hazard check --------------------------------------------------------------

HAZARD = ((10.0, 0.0, 250.0), 2.0)  # edge 8 m from the target along +x


def hazard_rig(**params):
    rig = Rig(hazards=(HAZARD,))
    for name, v in params.items():
        rig.params.set(name, v)
    return rig


@pytest.mark.parametrize(("x_m", "waves_off"), [
    (0.0, False),  # on the target: 8 m from the edge
    (6.9, False),  # 1.1 m
    (7.0, False),  # exactly the margin
    (7.1, True),  # 0.9 m
    (11.0, True),  # inside the hazard
])
def test_hazard_wave_off_when_the_predicted_contact_is_within_the_margin(x_m, waves_off):
    """TAG_HAZ_MARGIN_M 1 m, the hazard's edge 8 m from the target along +x: a predicted
    contact at x = 7 m is exactly the margin away (flies on), at 7.1 m 0.9 m (waves off)."""
    rig = hazard_rig(TAG_HAZ_MARGIN_M=1.0)
    seq = rig.in_phase(TagPhase.FINAL, head_height_m=30.0, lateral_m=(x_m, 0.0))
    rig.step()
    clearance = math.dist((x_m, 0.0, 250.0), HAZARD[0]) - HAZARD[1]
    assert seq.hazard_clearance_m == pytest.approx(clearance, abs=1e-9 * METRE)
    assert seq.predicted_contact_bf == pytest.approx((x_m, 0.0, 250.0), abs=1e-9 * METRE)
    assert seq.predicted_miss_m == pytest.approx(x_m, abs=1e-9 * METRE)
    assert (rig.modes.current == Mode.BACKAWAY) == waves_off
    assert len(seq.waveoffs) == int(waves_off)


@settings(max_examples=40, deadline=None)
@given(margin_m=st.floats(0.0, 8.0), x_m=st.floats(-5.0, 15.0))
def test_hazard_margin_at_any_distance(margin_m, x_m):
    """Wave-off iff the clearance is below TAG_HAZ_MARGIN_M (1 um either side left out)."""
    rig = hazard_rig(TAG_HAZ_MARGIN_M=margin_m)
    margin_m = rig.params.get("TAG_HAZ_MARGIN_M")
    clearance = math.dist((x_m, 0.0, 250.0), HAZARD[0]) - HAZARD[1]
    if abs(clearance - margin_m) < 1e-6:
        return
    seq = rig.in_phase(TagPhase.TO_MATCHPOINT, head_height_m=100.0, lateral_m=(x_m, 0.0))
    rig.step()
    assert (len(seq.waveoffs) == 1) == (clearance < margin_m)


def test_hazard_wave_off_reason_names_the_clearance_and_the_margin():
    rig = hazard_rig(TAG_HAZ_MARGIN_M=3.0)
    seq = rig.in_phase(TagPhase.TO_MATCHPOINT, head_height_m=100.0, lateral_m=(5.5, 0.0))
    rig.step()
    assert seq.waveoffs == ["predicted contact 2.5 m from a mapped hazard's edge "
                            "(TAG_HAZ_MARGIN_M 3.0 m)"]
    assert rig.modes.current == Mode.BACKAWAY and seq.phase == TagPhase.BACKAWAY_BURN


def test_hazard_wave_off_reason_says_inside_for_a_contact_in_the_hazard():
    rig = hazard_rig()
    seq = rig.in_phase(TagPhase.FINAL, head_height_m=30.0, lateral_m=(11.0, 0.0))
    rig.step()
    assert seq.waveoffs == ["predicted contact 1.0 m inside a mapped hazard's edge"]


def test_a_contact_on_the_hazards_edge_is_zero_metres_from_it():
    rig = hazard_rig()
    seq = rig.in_phase(TagPhase.FINAL, head_height_m=30.0, lateral_m=(8.0, 0.0))
    rig.step()
    assert seq.waveoffs == ["predicted contact 0.0 m from a mapped hazard's edge "
                            "(TAG_HAZ_MARGIN_M 1.0 m)"]


def test_no_hazard_check_before_the_checkpoint_burn():
    rig = hazard_rig()
    seq = rig.in_phase(TagPhase.TO_CHECKPOINT, head_height_m=140.0, lateral_m=(11.0, 0.0))
    rig.step()
    assert seq.waveoffs == [] and rig.modes.current == Mode.DESCENT
    assert seq.hazard_clearance_m == pytest.approx(-1.0, abs=1e-9 * METRE)


@pytest.mark.parametrize(("head_height_m", "waves_off"), [(10.0, False), (10.01, True),
                                                          (9.0, False)])
def test_no_hazard_check_at_or_below_tag_haz_check_m(head_height_m, waves_off):
    """TAG_HAZ_CHECK_M 10 m: at or below it the probe is committed."""
    rig = hazard_rig()
    seq = rig.in_phase(TagPhase.FINAL, head_height_m, lateral_m=(11.0, 0.0))
    rig.step()
    assert (seq.waveoffs != []) == waves_off


def test_no_hazards_mapped_is_infinite_clearance_and_no_wave_off():
    rig = Rig()
    seq = rig.in_phase(TagPhase.FINAL, head_height_m=30.0, lateral_m=(5.0, 0.0))
    rig.step()
    assert seq.hazard_clearance_m == math.inf and seq.waveoffs == []


# -- the descent: burns, contact window, contact -------------------------------------------

def test_the_checkpoint_burn_is_an_event_with_its_time_height_and_new_rate():
    rig = Rig()
    seq = rig.start(head_height_m=124.95)  # reached the Checkpoint height (125 m)
    rig.navigation.pos_bf = above(124.95)
    rig.navigation.vel_bf = (0.0, 0.0, -0.2)
    rig.step()
    t_s = T0_US * 1e-6 + 0.1
    assert seq.phase == TagPhase.TO_MATCHPOINT
    assert seq.event_times["checkpoint"] == pytest.approx(t_s)
    # (125 - 54) m in 600 s
    assert "checkpoint burn at head height 124.9 m, descent rate now 0.118 m/s" in rig.texts()


def test_matchpoint_burn_follows_at_its_height():
    rig = Rig()
    seq = rig.in_phase(TagPhase.TO_MATCHPOINT, head_height_m=54.0)
    rig.step()
    assert seq.phase == TagPhase.FINAL and "matchpoint" in seq.event_times
    assert "matchpoint burn at head height 54.0 m, descent rate now 0.100 m/s" in rig.texts()


@pytest.mark.parametrize(("head_m", "ref_m", "waves_off"), [
    (-1.0, 0.5, False), (-1.01, 0.5, True),  # the head estimate past the window
    (0.5, -0.99, False), (0.5, -1.01, True),  # the reference past it
    (-0.5, -0.5, False)])
def test_contact_window_ends_the_wait_one_tag_contact_win_below_the_surface(head_m, ref_m,
                                                                            waves_off):
    rig = Rig()
    seq = rig.in_phase(TagPhase.FINAL, head_height_m=head_m, h_ref_m=ref_m)
    seq.guidance.hdot_ref_mps = 0.0
    rig.step(dt_s=1e-6)  # the reference barely moves
    assert (seq.waveoffs == ["contact not detected in its window"]) == waves_off
    assert (rig.modes.current == Mode.BACKAWAY) == waves_off


def test_the_contact_window_is_not_applied_before_the_final_phase():
    rig = Rig()
    seq = rig.in_phase(TagPhase.TO_MATCHPOINT, head_height_m=-5.0, h_ref_m=60.0)
    rig.step()
    assert seq.waveoffs == []


def test_contact_from_the_sampler_switch_enters_tag():
    rig = Rig()
    seq = rig.in_phase(TagPhase.FINAL, head_height_m=0.2)
    rig.sampler.latest = SimpleNamespace(contact=True)
    rig.step()
    now = rig.clock.now_us()
    assert rig.modes.current == Mode.TAG and seq.phase == TagPhase.CONTACT
    assert rig.modes.history[-1].reason == "contact"
    assert seq.t_contact_us == now and seq.event_times["contact"] == now * 1e-6
    assert "contact at head height estimate 0.20 m" in rig.texts(Severity.NOTICE)


@pytest.mark.parametrize(("accel_z", "contact"), [
    (-4e-3, False), (-4.01e-3, True), (0.0, False), (4.01e-3, False)])
def test_contact_from_the_imu_is_a_push_beyond_tag_contact_acc_along_minus_z(accel_z,
                                                                             contact):
    rig = Rig()
    seq = rig.in_phase(TagPhase.FINAL, head_height_m=0.2)
    rig.sampler.latest = SimpleNamespace(contact=False)
    rig.navigation.last_imu = SimpleNamespace(accel_sc_mps2=(0.0, 0.0, accel_z))
    rig.step()
    assert (rig.modes.current == Mode.TAG) == contact
    assert (seq.t_contact_us is not None) == contact


def test_no_contact_without_switch_or_imu():
    rig = Rig()
    seq = rig.in_phase(TagPhase.FINAL, head_height_m=0.2)
    rig.step()
    assert rig.modes.current == Mode.DESCENT and seq.t_contact_us is None


def test_contact_is_checked_before_the_hazard_wave_off():
    """A contact sensed while the check would still be armed is a contact."""
    rig = hazard_rig(TAG_HAZ_CHECK_M=0.0)
    seq = rig.in_phase(TagPhase.FINAL, head_height_m=0.2, lateral_m=(11.0, 0.0))
    rig.sampler.latest = SimpleNamespace(contact=True)
    rig.step()
    assert rig.modes.current == Mode.TAG and seq.waveoffs == []


# -- in contact, back-away, climb -------------------------------------------------------------

def in_contact(rig):
    seq = rig.in_phase(TagPhase.FINAL, head_height_m=0.0)
    rig.sampler.latest = SimpleNamespace(contact=True)
    rig.step()
    assert rig.modes.current == Mode.TAG
    rig.sampler.commands.clear()
    return seq


def test_gas_fires_once_at_tag_gas_delay_s_then_back_away_at_tag_contact_s():
    """TAG_GAS_DELAY_S 1 s and TAG_CONTACT_S 6 s after the contact, each at its tick."""
    rig = Rig()
    seq = in_contact(rig)
    t_contact = seq.t_contact_us
    rig.step(0.9)
    assert rig.sampler.commands == [] and not seq.gas_fired
    rig.step(0.1)  # 1.0 s after contact
    assert rig.sampler.commands == [(t_contact + S, mavlink.PROBE_SAMPLER_FIRE_GAS)]
    assert seq.gas_fired and "sampler gas fired" in rig.texts(Severity.INFO)
    rig.step(4.9)  # 5.9 s
    assert rig.modes.current == Mode.TAG and len(rig.sampler.commands) == 1
    rig.step(0.1)  # 6.0 s
    assert rig.modes.current == Mode.BACKAWAY and seq.phase == TagPhase.BACKAWAY_BURN
    assert "back-away burn" in rig.texts(Severity.NOTICE)
    assert seq.event_times["backaway"] == pytest.approx((t_contact + 6 * S) * 1e-6)
    assert seq.waveoffs == [] and seq.burn_cycles_left == 300


def test_back_away_burns_then_climbs_then_hovers_at_the_safe_height():
    rig = Rig()
    rig.params.set("TAG_SAFE_ALT_M", 150.0)
    seq = in_contact(rig)
    rig.step(6.0)
    rig.navigation.vel_bf = (0.0, 0.0, 0.3)
    rig.navigation.pos_bf = above(5.0)
    rig.step()
    assert seq.phase == TagPhase.BACKAWAY_BURN  # burn cycles still to fly
    seq.burn_cycles_left = 1  # the last pulse still to fire: no climb yet
    rig.step()
    assert seq.phase == TagPhase.BACKAWAY_BURN
    seq.burn_cycles_left = 0
    rig.step()
    assert seq.phase == TagPhase.CLIMB and rig.modes.current == Mode.BACKAWAY
    rig.navigation.pos_bf = above(109.9)  # climbing, below 150 - 40 m
    rig.step()
    assert seq.phase == TagPhase.CLIMB and rig.hover.targets == []
    rig.navigation.pos_bf = above(110.0)  # the thrusters can stop it at the hover point
    rig.step()
    assert seq.phase == TagPhase.DONE and rig.modes.current == Mode.HOVER
    assert rig.modes.history[-1].reason == "climb done"
    assert rig.hover.targets == [pytest.approx(above(150.0), abs=1e-9 * METRE)]
    assert rig.sampler.commands[-1] == (rig.clock.now_us(), mavlink.PROBE_SAMPLER_STOW)
    assert "climb done at head height 110.0 m; hovering" in rig.texts(Severity.NOTICE)


@pytest.mark.parametrize(("vz", "done"), [(0.0, True), (-0.01, True), (0.01, False)])
def test_the_climb_ends_where_it_stops_rising(vz, done):
    rig = Rig()
    seq = rig.start()
    seq.wave_off("test")
    seq.burn_cycles_left = 0
    rig.navigation.pos_bf = above(30.0)
    rig.navigation.vel_bf = (0.0, 0.0, vz)
    rig.step()
    assert (seq.phase == TagPhase.DONE) == done
    if done:  # hover at the safe height, not where it stopped
        assert rig.hover.targets == [pytest.approx(above(150.0), abs=1e-9 * METRE)]


def test_a_climb_that_overshoots_hovers_where_it_is():
    rig = Rig()
    seq = rig.start()
    seq.wave_off("test")
    seq.burn_cycles_left = 0
    rig.navigation.pos_bf = above(180.0)
    rig.navigation.vel_bf = (0.0, 0.0, 0.2)
    rig.step()
    assert rig.hover.targets == [pytest.approx(above(180.0), abs=1e-9 * METRE)]


def test_each_cycle_asks_navigation_for_the_estimate_at_its_own_time():
    rig = Rig()
    rig.start()
    rig.navigation.asked_s.clear()
    rig.step()
    rig.seq.send_telemetry(rig.clock.now_us())
    assert rig.navigation.asked_s == [rig.clock.now_us() * 1e-6] * 2


def test_without_a_target_the_sequence_does_nothing_even_in_its_modes():
    rig = Rig(tag=False, mode=Mode.DESCENT)
    rig.step()
    assert rig.seq.phase == TagPhase.IDLE and rig.navigation.asked_s == []


def test_the_sequence_is_idle_outside_its_modes():
    rig = Rig()
    seq = rig.start()
    rig.modes.force_safe("test")
    rig.sampler.latest = SimpleNamespace(contact=True)
    rig.step()
    assert seq.phase == TagPhase.TO_CHECKPOINT and seq.t_contact_us is None


# -- telemetry ----------------------------------------------------------------------------

def test_tag_status_reports_phase_height_rate_prediction_clearance_and_waveoffs():
    rig = Rig(hazards=(HAZARD,))
    seq = rig.in_phase(TagPhase.TO_MATCHPOINT, head_height_m=80.0, lateral_m=(3.0, 4.0))
    rig.navigation.vel_bf = (0.0, 0.0, -0.125)
    rig.step()
    seq.waveoffs = ["a"] * 300
    rig.seq.send_telemetry(rig.clock.now_us())
    (m,) = rig.status()
    assert m.time_usec == rig.clock.now_us() and m.phase == TagPhase.TO_MATCHPOINT
    assert m.height_m == pytest.approx(80.0, abs=1e-4 * METRE)
    assert m.height_rate_mps == pytest.approx(-0.125)
    assert m.predicted_contact_bf_m == pytest.approx([3.0, 4.0, 250.0], abs=1e-4 * METRE)
    assert m.predicted_miss_m == pytest.approx(5.0, abs=1e-5 * METRE)
    assert m.hazard_clearance_m == pytest.approx(math.dist((3.0, 4.0), (10.0, 0.0)) - 2.0,
                                                 abs=1e-5 * METRE)
    assert m.waveoffs == 255


def test_tag_status_sends_a_large_finite_clearance_without_hazards():
    rig = Rig()
    rig.in_phase(TagPhase.FINAL, head_height_m=30.0)
    rig.step()
    rig.seq.send_telemetry(rig.clock.now_us())
    (m,) = rig.status()
    assert m.hazard_clearance_m == 1e9 and m.waveoffs == 0


def test_no_tag_status_outside_the_sequence_or_without_navigation():
    rig = Rig()
    rig.seq.send_telemetry(rig.clock.now_us())  # HOVER
    rig.start()
    rig.navigation.ready = False
    rig.seq.send_telemetry(rig.clock.now_us())
    assert rig.status() == []
    rig.navigation.ready = True
    rig.seq.send_telemetry(rig.clock.now_us())
    assert len(rig.status()) == 1
    no_target = Rig(tag=False, mode=Mode.DESCENT)
    no_target.seq.send_telemetry(no_target.clock.now_us())
    assert no_target.status() == []
