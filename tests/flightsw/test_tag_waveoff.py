"""Touch-and-go wave-off: the hazard margin around its threshold, and the ground's WAVE_OFF.

The rule pinned here: from the Checkpoint burn on, while the sampler head is above
TAG_HAZ_CHECK_M, a predicted contact less than TAG_HAZ_MARGIN_M from the edge of a mapped
hazard makes the probe wave off; below TAG_HAZ_CHECK_M the probe is committed and flies
on.  The ground may wave off a descent at any time (PROBE_CMD_WAVE_OFF), and only a
descent.

The end-to-end cases fly short descents (safe-home at 200 m, as tests/sim/test_tag.py)
against the simulator and read what the flight software decided from what it sent:
summary.json, events.log and the telemetry in flight.tlog.  The hazard is placed with
the simulator's own site model (sim.site) so that its edge is a chosen distance from the
target; navigation puts the predicted contact within a few centimetres of the target
after the Checkpoint burn (PROBE_TAG_STATUS), far less than the 0.5 m steps used here.
"""

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymavlink import mavutil

from flightsw.core.commands import CommandResult
from flightsw.gnc.tag import hazard_clearance_m
from flightsw.icd import mavlink
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.world import World

METRE = 1.0
MARGIN_M = 3.0  # TAG_HAZ_MARGIN_M for these runs (default 1 m): room for 0.5 m steps
STEP_M = 0.5  # how far inside or outside the margin the hazard's edge is put
HAZARD_LATLON = [8.55, -88.0]  # ~8.7 m from the target at [8.55, -90.0], same face
SHORT = {
    "tag.safe_home_height_m": 200.0,
    "params": {"TAG_DESC_MPS": 0.3, "TAG_CP_MP_S": 300.0, "TAG_SAFE_ALT_M": 60.0,
               "TAG_HAZ_MARGIN_M": MARGIN_M},
    "commands": [
        {"t_s": 0.0, "name": "SET_MODE", "args": ["STANDBY"]},
        {"t_s": 5.0, "name": "SET_MODE", "args": ["HOVER"]},
        {"t_s": 60.0, "name": "START_TAG"},
    ],
}
# With SHORT: Checkpoint burn at ~410 s, contact at ~1180 s.
AFTER_CHECKPOINT_S = 600.0
AFTER_CONTACT_S = 1200.0


def _scenario(duration_s, hazard_radius_m=None, **extra):
    overrides = {**SHORT, "scenario.duration_s": duration_s, "scenario.seed": 1}
    if hazard_radius_m is not None:
        overrides["tag.hazards"] = [{"latlon_deg": HAZARD_LATLON, "radius_m": hazard_radius_m,
                                     "height_m": 0.6, "mapped": True}]
    overrides.update(extra)
    return load_scenario("bennu-tag", overrides)


def _hazard_radius_for_clearance(clearance_m: float) -> float:
    """The radius that puts the hazard's edge clearance_m from the target (sim.site's
    placement of the hazard on the target's plane)."""
    site = World(_scenario(10.0, hazard_radius_m=1.0)).site
    centre_to_target_m = math.dist(site.hazards[0].center_bf_m, site.point_bf_m)
    return centre_to_target_m - clearance_m


def _fly(tmp_path, sc):
    out = tmp_path / "run"
    summary = run_scenario(sc, out, write_report=False, progress=False)
    return summary, out


def _messages(run_dir, kind):
    log = mavutil.mavlink_connection(str(run_dir / "flight.tlog"), dialect="prospector")
    out = []
    while (m := log.recv_match(type=kind)) is not None:
        out.append(m)
    return out


def _checked_tag_status(run_dir, check_height_m):
    """PROBE_TAG_STATUS while the hazard check is armed: past Checkpoint, above the height."""
    return [m for m in _messages(run_dir, "PROBE_TAG_STATUS")
            if m.phase in (mavlink.PROBE_TAG_PHASE_TO_MATCHPOINT, mavlink.PROBE_TAG_PHASE_FINAL)
            and m.height_m > check_height_m]


@pytest.mark.slow
def test_predicted_contact_just_inside_the_margin_waves_off_after_checkpoint(tmp_path):
    """Edge 2.5 m from the target, margin 3 m: the probe waves off at the first check
    after the Checkpoint burn, naming the clearance and the margin."""
    clearance = MARGIN_M - STEP_M
    summary, out = _fly(tmp_path, _scenario(
        AFTER_CHECKPOINT_S, _hazard_radius_for_clearance(clearance)))
    assert summary["outcome"] == "waved_off", summary["outcome_reason"]
    (reason,) = summary["waveoffs"]["reasons"]
    found = re.fullmatch(r"predicted contact (-?[\d.]+) m from a mapped hazard's edge "
                         r"\(TAG_HAZ_MARGIN_M ([\d.]+) m\)", reason)
    assert found, reason
    assert abs(float(found[1]) - clearance) <= 0.2 * METRE
    assert float(found[2]) == MARGIN_M
    events = summary["tag_events_s"]
    # Not before Checkpoint (the check is armed by its burn), and at once after it.
    assert events["checkpoint"] <= events["backaway"] <= events["checkpoint"] + 1.0
    assert "contact" not in events
    assert summary["touchdown_miss_m"] is None
    log = (out / "events.log").read_text()
    assert "DESCENT -> BACKAWAY" in log and "wave-off: predicted contact" in log


@pytest.mark.slow
def test_predicted_contact_just_outside_the_margin_flies_on_to_contact(tmp_path):
    """Edge 3.5 m from the target, margin 3 m: no wave-off; the probe samples."""
    clearance = MARGIN_M + STEP_M
    summary, out = _fly(tmp_path, _scenario(
        AFTER_CONTACT_S, _hazard_radius_for_clearance(clearance)))
    assert summary["waveoffs"] == {"count": 0, "reasons": []}
    assert summary["outcome"] == "sampled", summary["outcome_reason"]
    # The check was armed and saw the hazard where it is: outside the margin.
    checked = _checked_tag_status(out, 10.0)
    assert len(checked) > 100
    assert all(MARGIN_M < m.hazard_clearance_m < clearance + 0.2 for m in checked)


@pytest.mark.slow
def test_no_hazard_check_below_tag_haz_check_m(tmp_path):
    """The same hazard 0.5 m inside the margin, with TAG_HAZ_CHECK_M above the whole
    descent (250 m, safe-home at 200 m): the probe is committed and samples."""
    clearance = MARGIN_M - STEP_M
    params = {**SHORT["params"], "TAG_HAZ_CHECK_M": 250.0}
    summary, out = _fly(tmp_path, _scenario(
        AFTER_CONTACT_S, _hazard_radius_for_clearance(clearance), params=params))
    assert summary["waveoffs"] == {"count": 0, "reasons": []}
    assert summary["outcome"] == "sampled", summary["outcome_reason"]
    # The clearance it flew past was inside the margin all along.
    status = [m for m in _messages(out, "PROBE_TAG_STATUS")
              if m.phase == mavlink.PROBE_TAG_PHASE_FINAL]
    assert status and all(m.hazard_clearance_m < MARGIN_M for m in status)


@pytest.mark.slow
def test_ground_wave_off_backs_away_from_a_descent_and_is_refused_in_hover(tmp_path):
    """PROBE_CMD_WAVE_OFF: WRONG_MODE in HOVER (nothing changes, the descent still
    starts), ACCEPTED in DESCENT: back-away, the reason says the ground commanded it."""
    commands = SHORT["commands"][:2] + [
        {"t_s": 30.0, "name": "WAVE_OFF"},
        {"t_s": 60.0, "name": "START_TAG"},
        {"t_s": 200.0, "name": "WAVE_OFF"},
    ]
    summary, out = _fly(tmp_path, _scenario(320.0, commands=commands))
    acks = [m for m in _messages(out, "COMMAND_ACK")
            if m.command == mavlink.PROBE_CMD_WAVE_OFF]
    assert [CommandResult.from_ack(a) for a in acks] == [CommandResult.WRONG_MODE,
                                                          CommandResult.ACCEPTED]
    assert summary["outcome"] == "waved_off"
    assert summary["waveoffs"]["reasons"] == ["commanded by the ground"]
    assert summary["tag_events_s"]["descent"] == pytest.approx(60.0)
    assert summary["tag_events_s"]["backaway"] == pytest.approx(200.0, abs=0.11)
    assert summary["final_mode"] == "HOVER"  # climbed back and hovers
    log = (out / "events.log").read_text()
    assert "PROBE_CMD_WAVE_OFF from sys255/190: WRONG_MODE (in HOVER)" in log
    assert "PROBE_CMD_WAVE_OFF from sys255/190: ACCEPTED" in log
    assert "wave-off: commanded by the ground" in log
    assert re.search(r"DESCENT -> BACKAWAY", log)
    # The back-away burn was fired (TAG_BACKAWAY_DV, 0.4 m/s by default), then the probe
    # hovers where it stopped, the descent given up.
    assert summary["backaway_dv_mps"] == pytest.approx(0.4, rel=0.05)
    assert "climb done" in log
    phases = [m.phase for m in _messages(out, "PROBE_TAG_STATUS")]
    assert mavlink.PROBE_TAG_PHASE_BACKAWAY_BURN in phases
    assert mavlink.PROBE_TAG_PHASE_CONTACT not in phases


# -- the clearance itself: a pure function ---------------------------------------------------

def _edge_distance_by_sampling(point, centre, radius):
    """Distance from a point of the plane z = centre z to a disc's rim, by walking the rim
    (360 steps, then twice 1000 steps around the best); negative inside the disc (the
    oracle of hazard_clearance_m for points on the target's plane)."""

    def gap(angle):
        rim = (centre[0] + radius * math.cos(angle), centre[1] + radius * math.sin(angle),
               centre[2])
        return math.dist(point, rim)

    step = 2.0 * math.pi / 360
    best = min((k * step for k in range(360)), key=gap)
    for _ in range(2):
        angles = [best - step + 2.0 * step * k / 1000 for k in range(1001)]
        best = min(angles, key=gap)
        step = 2.0 * step / 1000
    inside = math.dist(point, centre) < radius
    return -gap(best) if inside else gap(best)


@settings(max_examples=40, deadline=None)
@given(point=st.tuples(st.floats(-20, 20), st.floats(-20, 20)),
       hazards=st.lists(st.tuples(st.floats(-20, 20), st.floats(-20, 20), st.floats(0.2, 8.0)),
                        max_size=4))
def test_clearance_is_the_distance_to_the_nearest_hazard_rim(point, hazards):
    p = (point[0], point[1], 0.0)
    discs = [((x, y, 0.0), r) for x, y, r in hazards]
    got = hazard_clearance_m(p, discs)
    if not discs:
        assert got == math.inf
        return
    want = min(_edge_distance_by_sampling(p, c, r) for c, r in discs)
    # The last walk's steps are 4e-8 rad: the sampled rim point is < 1e-6 m from the nearest.
    assert abs(got - want) <= 1e-5 * METRE


@pytest.mark.parametrize(("distance_m", "radius_m", "clearance_m"), [
    (10.0, 3.0, 7.0), (4.0, 3.0, 1.0), (3.0, 3.0, 0.0), (1.0, 3.0, -2.0), (0.0, 3.0, -3.0)])
def test_clearance_at_distances_around_the_rim(distance_m, radius_m, clearance_m):
    hazards = [((distance_m, 0.0, 0.0), radius_m), ((100.0, 0.0, 0.0), 1.0)]
    assert hazard_clearance_m((0.0, 0.0, 0.0), hazards) == pytest.approx(clearance_m)
