"""The fault campaign's plan and options (sim/fault_campaign.py, the sweep's options in
prospector/cli.py): one-line refusals, phases found in a synthetic event list, fault times
inside their windows, the runs' lengths, the devices picked."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prospector.cli import main
from sim import fault_campaign as fc

# A nominal touch-and-go and survey as their events.log would say it.
TAG_LOG = """\
       0.000 INFO      cmd: MAV_CMD_DO_SET_MODE from sys255/190: ACCEPTED
     120.000 NOTICE    modes: HOVER -> MASS_MEASURE (spin-method mass measurement)
     773.700 NOTICE    modes: MASS_MEASURE -> HOVER (spin test done, pointing restored)
    1200.000 NOTICE    modes: HOVER -> DESCENT (start touch-and-go)
    1200.000 NOTICE    tag: descent started toward Checkpoint
    5641.600 NOTICE    tag: checkpoint burn at head height 125.0 m, descent rate now 0.118 m/s
    6760.200 NOTICE    modes: DESCENT -> TAG (contact)
    6761.200 INFO      tag: sampler gas fired
    6766.200 NOTICE    modes: TAG -> BACKAWAY (back away)
    7062.700 NOTICE    modes: BACKAWAY -> HOVER (climb done)
    7062.700 NOTICE    tag: climb done at head height 110.0 m; hovering
    7240.000 NOTICE    modes: HOVER -> MASS_MEASURE (spin-method mass measurement)
"""
SURVEY_LOG = """\
     900.000 NOTICE    modes: HOVER -> SURVEY (start the spectral survey)
     900.000 INFO      survey: to the survey station, 1200 m from the centre, in 3805 s
    4706.000 INFO      survey: at the station: scanning
    6506.000 INFO      survey: scan done: coverage 0.332 of the illuminated surface
   10458.000 INFO      survey: at safe-home above the chosen site
   10458.000 NOTICE    modes: SURVEY -> HOVER (survey done: safe-home above the chosen site)
"""
WINDOWS = {"transfer_to_station": (900.0, 4706.0), "station": (4706.0, 6506.0),
           "transfer_to_site": (6506.0, 10458.0), "hover": (773.7, 1200.0),
           "descent_above": (1200.0, 5641.6), "descent_below": (5641.6, 6760.2),
           "contact": (6760.2, 6766.2), "backaway": (6766.2, 7062.7)}


def _events(phase):
    log = SURVEY_LOG if fc.PHASES[phase].scenario == "bennu" else TAG_LOG
    return fc.parse_events(log.splitlines())


@pytest.mark.parametrize("phase", list(fc.PHASES))
def test_each_phase_is_found_in_the_reference_events(phase):
    """Every phase from its own events; hover is the last HOVER before the descent (not
    the first, before the spin test)."""
    assert fc.find_window(_events(phase), fc.PHASES[phase]) == WINDOWS[phase]


def test_events_are_parsed_and_other_lines_skipped():
    events = fc.parse_events(["garbage", "", "  12.500 WARNING   faultprot: trip IMU: x; "
                              "response SAFE", "   3.000 INFO      tag: a: b: c"])
    assert events == [fc.Event(12.5, "faultprot", "trip IMU: x; response SAFE"),
                      fc.Event(3.0, "tag", "a: b: c")]


@pytest.mark.parametrize("cut, phase, words", [
    ("checkpoint burn", "descent_above", "no event 'tag: checkpoint burn...' after 1200.0 s"),
    ("HOVER -> DESCENT", "hover", "no event 'modes: HOVER -> DESCENT...'"),
    ("DESCENT -> TAG", "contact", "no event 'modes: DESCENT -> TAG...'"),
])
def test_a_phase_missing_from_the_reference_is_one_line_naming_it(cut, phase, words):
    lines = [x for x in TAG_LOG.splitlines() if cut not in x]
    with pytest.raises(fc.CampaignError) as err:
        fc.find_window(fc.parse_events(lines), fc.PHASES[phase])
    text = str(err.value)
    assert f"phase {phase}" in text and words in text and "\n" not in text


@given(seed=st.integers(0, 10_000), kind=st.sampled_from(fc.CAMPAIGN_KINDS),
       phase=st.sampled_from(list(fc.PHASES)))
def test_the_fault_time_is_inside_its_phase_and_the_same_every_time(seed, kind, phase):
    case = fc.Case(kind, phase, seed, "permanent")
    lo, hi = WINDOWS[phase]
    t = fc.fault_time(case, WINDOWS[phase])
    assert t == fc.fault_time(case, WINDOWS[phase])
    assert lo < t < hi
    if phase == "contact":  # before the gas fires, a second after the contact
        assert t < lo + 1.0


def test_the_matrix_goes_seed_by_seed_and_leaves_out_what_no_scenario_flies():
    cases, refused = fc.matrix_cases(fc.CAMPAIGN_KINDS, list(fc.PHASES), [1, 2])
    # The spectrometer flies in the survey only.
    assert sorted(refused) == sorted(("spectrometer_loss", p) for p in fc.PHASES
                                     if fc.PHASES[p].scenario == "bennu-tag")
    cells = len(fc.CAMPAIGN_KINDS) * len(fc.PHASES) - len(refused)
    assert len(cases) == 2 * cells
    assert {c.seed for c in cases[:cells]} == {1}  # every cell once before any twice
    assert len({(c.kind, c.phase) for c in cases[:cells]}) == cells
    # Cut short after 16 runs, it has flown every phase, after 40 every kind (the
    # spectrometer's first diagonal reaches a survey phase at the fifth).
    assert {c.phase for c in cases[:16]} == set(fc.PHASES)
    assert {c.kind for c in cases[:40]} == set(fc.CAMPAIGN_KINDS)
    # Faults that can end alternate: from one phase to the next, and from a seed to the next.
    imu = [c for c in cases if c.kind == "imu_loss" and c.phase in ("station", "hover")]
    assert [(c.phase, c.seed, c.persistence, c.resume_class) for c in imu] == [
        ("station", 1, "permanent", None), ("hover", 1, "permanent", None),
        ("station", 2, "transient", "transient"), ("hover", 2, "transient", "transient")]
    first = [c.persistence for c in cases[:cells] if c.kind == "imu_loss"]
    assert first.count("transient") == first.count("permanent") == 4
    wheel = [c for c in cases if c.kind == "wheel_failure" and c.phase == "hover"]
    assert [(c.persistence, c.resume_class) for c in wheel] == [("permanent", "redundancy")] * 2
    both, _ = fc.matrix_cases(["navcam_loss", "wheel_failure"], ["hover"], [1], "both")
    assert [(c.kind, c.persistence) for c in both] == [
        ("navcam_loss", "transient"), ("navcam_loss", "permanent"),
        ("wheel_failure", "permanent")]


def test_fault_entries_carry_the_kinds_own_keys():
    def entry(kind, device=None, pers="permanent"):
        return fc.fault_entry(fc.Case(kind, "hover", 3, pers), 900.0, 300.0, device)

    assert entry("navcam_loss", pers="transient") == {"t_s": 900.0, "kind": "navcam_loss",
                                                      "duration_s": 300.0}
    assert entry("thruster_stuck_on", 4) == {"t_s": 900.0, "kind": "thruster_stuck_on",
                                             "index": 4, "branch": "A"}
    assert entry("wheel_failure", 2)["index"] == 2
    assert entry("task_exception")["task"] in fc.TASK_NAMES
    gyro = entry("imu_bias_jump")["gyro_radps"]
    assert sorted(abs(g) for g in gyro) == [0.0, 0.0, fc.GYRO_JUMP_RADPS]


def test_the_active_device_is_the_one_the_reference_uses_most():
    t = np.arange(0.0, 2000.0)
    on = np.zeros((t.size, 8))
    on[1000:1300, 3] = 0.05  # slot 3 fires after the fault, slot 5 only before
    on[:1000, 5] = 0.5
    wheels = np.zeros((t.size, 4))
    wheels[:, 2] = -40.0
    wheels[:, 0] = 10.0
    hist = {"t_s": t, "thruster_on_s": on, "wheel_speed_radps": wheels}
    off = fc.Case("thruster_stuck_off", "hover", 7, "permanent")
    assert fc.pick_device(off, 1000.0, "active", hist, 7, 4) == 3
    assert fc.pick_device(off, 1000.0, "rotate", hist, 7, 4) == 0  # 7 % 7
    wheel = fc.Case("wheel_failure", "hover", 1, "permanent")
    assert fc.pick_device(wheel, 500.0, "active", hist, 7, 4) == 2
    assert fc.pick_device(fc.Case("navcam_loss", "hover", 1, "permanent"), 500.0, "active",
                          hist, 7, 4) is None


def test_a_run_lasts_until_what_it_must_show():
    """At least post_s after the fault; a fault to ride out before the contact: until a
    retried descent could have sampled; a survey phase: its milestone, delayed by the
    fault; after the contact: the climb as well; a hold: hold_s after the fault."""
    tag = _events("hover")
    survey = _events("station")

    def length(kind, phase, pers, t, post=1800.0, hold=False):
        case = fc.Case(kind, phase, 1, pers, hold=hold)
        entry = fc.fault_entry(case, t, 300.0, 0 if kind == "wheel_failure" else None)
        return fc.run_duration(case, t, entry, survey if phase == "station" else tag, post,
                               86400.0)

    assert length("imu_loss", "descent_above", "permanent", 3000.0) == 4800.0
    # The climb after the reference's back-away (7062.7 s), to the second.
    assert length("imu_loss", "contact", "permanent", 6761.0, post=60.0) == 7363.0
    assert length("imu_loss", "backaway", "permanent", 6800.0) == 8600.0
    assert length("imu_loss", "descent_above", "transient", 3000.0) == 3300.0 + \
        fc.RESUME_AFTER_S
    assert length("wheel_failure", "descent_below", "permanent", 6000.0) == \
        6000.0 + fc.RESUME_AFTER_S
    assert length("wheel_failure", "contact", "permanent", 6760.6) == 8561.0
    assert length("navcam_loss", "station", "transient", 5000.0) == 6506.0 + 300.0 + \
        fc.MILESTONE_SLACK_S
    assert length("navcam_loss", "station", "permanent", 5000.0) == 6800.0
    assert length("navcam_loss", "hover", "permanent", 1000.0, hold=True) == 88300.0


@pytest.mark.parametrize("args, words", [
    (("--kinds", "star_tracker_loss,bogus"), "--kinds: expected 'all' or a comma list of"),
    (("--phases", "cruise"), "--phases: expected 'all' or a comma list of"),
    (("--kinds", ""), "--kinds"),
    (("--transient-s", "900"), "--transient-s: expected a duration in (0, 600]"),
    (("--post-s", "10"), "--post-s: expected at least 60 s"),
    (("--hold-s", "100"), "--hold-s"),
    (("--max-wall-min", "0"), "--max-wall-min"),
    (("--hold-cases", "imu_loss@cruise"), "--hold-cases: expected 'default' or KIND@PHASE"),
    (("--hold-cases", "kill_board@hover"), "--hold-cases"),
    (("--scenario", "bennu-tag"), "--scenario: the fault campaign flies its phases' own"),
    (("--resume", "--force"), "--resume"),
    (("--seeds", "3-1"), "--seeds"),
    (("--set", "nonsense"), "--set: expected KEY=VALUE"),
    (("--set", "spacecraft.mass_kg=-5"), "spacecraft.mass_kg"),
])
def test_bad_campaign_options_are_one_line_and_write_nothing(tmp_path, capsys, monkeypatch,
                                                            args, words):
    import sim.fault_campaign_run as fcr

    def no_flight(*a, **k):
        raise AssertionError("the campaign began flying")

    monkeypatch.setattr(fcr, "references", no_flight)
    out = tmp_path / "campaign"
    argv = ["sweep", "--fault-campaign", "--out", str(out), *args]
    if "--seeds" not in args:
        argv += ["--seeds", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and words in err, err
    assert not out.exists()


@pytest.mark.parametrize("args, words", [
    (("--fault-campaign", "everything"), "--fault-campaign: invalid choice"),
    (("--fault-campaign", "--transient-s", "abc"), "--transient-s: expected a number"),
    (("--fault-campaign", "--persistence", "sometimes"), "--persistence: invalid choice"),
    (("--fault-campaign", "--pick", "worst"), "--pick: invalid choice"),
])
def test_malformed_campaign_options_are_usage_errors(tmp_path, capsys, args, words):
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "--seeds", "1", "--out", str(tmp_path / "c"), *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and words in err, err


@pytest.mark.parametrize("args, words", [
    (("--scenario", "bennu-hover", "--kinds", "imu_loss"), "--kinds: only with --fault-campaign"),
    (("--scenario", "bennu-hover", "--dry-run"), "--dry-run: only with --fault-campaign"),
    ((), "--scenario: required"),
])
def test_a_plain_sweep_refuses_campaign_options_and_needs_its_scenario(tmp_path, capsys, args,
                                                                        words):
    out = tmp_path / "sweep"
    assert main(["sweep", "--seeds", "1", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and words in err, err
    assert not out.exists()


def test_hold_cases_parse():
    assert fc.parse_hold_cases("default") == list(fc.DEFAULT_HOLD_CASES)
    assert fc.parse_hold_cases("imu_loss@hover, undervoltage@station") == [
        ("imu_loss", "hover"), ("undervoltage", "station")]
    assert fc.parse_choice_list("all", ("a", "b"), "--x") == ["a", "b"]
    assert fc.parse_choice_list("b,a", ("a", "b"), "--x") == ["a", "b"]


def test_a_run_cut_short_is_flown_once_more_longer():
    """A retried descent still under way at the end gets 1800 s more, a probe receding at
    the end within the escape radius 7200 s more (a climb not over, or leaving); once."""
    from sim.fault_campaign_run import EXTEND_DESCENT_S, EXTEND_RECEDING_S, extension

    job = {"name": "x", "duration_s": 9000.0, "overrides": {"scenario.duration_s": 9000.0},
           "case": {"kind": "navcam_loss", "phase": "hover", "seed": 1,
                    "persistence": "transient", "hold": False, "scenario": "bennu-tag"},
           "params_file": None}
    assert extension(job, {"descent_at_end": False, "escaped": False}) is None
    longer = extension(job, {"descent_at_end": True})
    assert longer["duration_s"] == 9000.0 + EXTEND_DESCENT_S == \
        longer["overrides"]["scenario.duration_s"]
    assert "--duration 10800" in longer["reproduce"]
    assert extension(longer, {"descent_at_end": True}) is None  # once
    away = extension(job, {"escaped": True, "max_radius_m": 4000.0})
    assert away["extended_s"] == EXTEND_RECEDING_S
    assert extension(job, {"escaped": True, "max_radius_m": 25_000.0}) is None  # gone
    assert extension(job, {"descent_at_end": True, "error": "boom"}) is None
