"""The judge's fault and survival figures on synthetic downlinks and truths: the event format
parsed, detection matched, `recovered` as sim/fault_figures.py defines it, clearance with
the head's planned contact left out, impacts counted, escape decided."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from flightsw.core.modes import Mode
from flightsw.icd import mavlink
from sim.fault_figures import (
    MonitorEvent,
    clearance_figures,
    fault_figures,
    fault_outcomes,
    fault_protection_status,
    mode_at,
    monitor_events,
    parse_faultprot,
)
from sim.telemetry import FlightEvent, FlightTelemetry
from sim.truth_record import TruthRecord

US = 1_000_000
HOVER, SAFE, DESCENT, TAG, BACKAWAY = (int(Mode.HOVER), int(Mode.SAFE), int(Mode.DESCENT),
                                       int(Mode.TAG), int(Mode.BACKAWAY))


def _ev(t_s, text, source="faultprot"):
    return FlightEvent(round(t_s * US), 4, source, text)


@pytest.mark.parametrize("text, expected", [
    ("trip IMU: no IMU sample for 0.7 s; response SAFE",
     ("trip", "IMU", "no IMU sample for 0.7 s", "SAFE")),
    ("trip THRUSTER: dv 0.3 mm/s against 0.0; branch A; response RECONFIGURE",
     ("trip", "THRUSTER", "dv 0.3 mm/s against 0.0; branch A", "RECONFIGURE")),
    ("trip NAV_COVARIANCE: sigma 12 m", ("trip", "NAV_COVARIANCE", "sigma 12 m", None)),
    ("clear STAR_TRACKER", ("clear", "STAR_TRACKER", "", None)),
    ("clear GYRO_BIAS: innovation back to 0.001 deg", ("clear", "GYRO_BIAS",
                                                        "innovation back to 0.001 deg", None)),
    ("trip PROBE_MONITOR_WHEEL: wheel 2 stalled; response BACKUP",
     ("trip", "WHEEL", "wheel 2 stalled", "BACKUP")),
])
def test_faultprot_event_texts_parse(text, expected):
    e = parse_faultprot(12.5, text)
    assert (e.action, e.monitor, e.reason, e.response) == expected and e.t_s == 12.5


@pytest.mark.parametrize("text", ["attitude on gyros alone", "trip BOGUS: x; response SAFE",
                                  "tripped IMU: x", "", "clear"])
def test_other_faultprot_texts_are_not_monitor_events(text):
    assert parse_faultprot(0.0, text) is None


def test_status_bits_stand_in_for_a_missing_event():
    star, imu = 0, 1  # PROBE_MONITOR bits
    events = [_ev(10.0, "trip IMU: stale; response SAFE")]
    tripped = [(int(10.2 * US), 1 << imu), (int(30 * US), (1 << imu) | (1 << star)),
               (int(40 * US), 1 << star)]
    got = monitor_events(events, tripped)
    assert [(e.t_s, e.action, e.monitor, e.response) for e in got] == [
        (10.0, "trip", "IMU", "SAFE"),  # the status 0.2 s later is the same trip
        (30.0, "trip", "STAR_TRACKER", None),
        (40.0, "clear", "IMU", None)]


def test_mode_at_reads_the_heartbeat_changes():
    changes = [(0, 1), (5 * US, HOVER), (100 * US, SAFE)]
    assert mode_at(changes, -1.0) is None
    assert mode_at(changes, 5.0) == HOVER and mode_at(changes, 99.9) == HOVER
    assert mode_at(changes, 100.0) == SAFE and mode_at([], 3.0) is None


FAULTS = [
    {"t_s": 100.0, "kind": "imu_loss", "duration_s": 20.0},
    {"t_s": 200.0, "kind": "thruster_stuck_on", "index": 2, "branch": "A"},
    {"t_s": 300.0, "kind": "wheel_failure", "index": 0},
    {"t_s": 400.0, "kind": "imu_loss"},
    {"t_s": 50.0, "kind": "lidar_loss", "duration_s": 5.0},
]


def _events(*items):
    return [MonitorEvent(t, a, m, "why", r) for t, a, m, r in items]


def test_detection_latency_response_and_recovery():
    events = _events((45.0, "trip", "LIDAR", "LOG"),  # before the lidar fault: not its trip
                     (100.6, "trip", "IMU", "SAFE"), (120.0, "clear", "IMU", None),
                     (215.0, "trip", "THRUSTER", "RECONFIGURE"),
                     (300.4, "trip", "WHEEL", "RECONFIGURE"),
                     (400.7, "trip", "IMU", "SAFE"))
    modes = [(0, HOVER), (101 * US, SAFE), (180 * US, HOVER), (401 * US, SAFE)]
    out = fault_outcomes(FAULTS, events, modes, final_mode=HOVER)
    imu, thr, wheel, imu2, lidar = out
    assert (imu["monitor"], imu["detected_at_s"], imu["response"]) == ("IMU", 100.6, "SAFE")
    assert imu["detection_latency_s"] == pytest.approx(0.6)
    # Cleared, SAFE entered and left: recovered (not in SAFE at the end).
    assert imu["cleared_at_s"] == 120.0 and imu["safe_at_s"] == 101.0 and imu["recovered"]
    # Never cleared, and SAFE after its detection (at 401 s, for another fault: the
    # judge does not guess causes): not recovered.
    assert thr["detected_at_s"] == 215.0 and thr["safe_at_s"] == 401.0
    assert thr["recovered"] is False
    # The second IMU fault takes the trips from its own t_s: the first takes 100.6 only.
    assert imu2["detected_at_s"] == 400.7 and imu2["cleared_at_s"] is None
    assert lidar["detected_at_s"] is None and lidar["recovered"] is None
    assert wheel["index"] == 0 and wheel["response"] == "RECONFIGURE"


def test_recovered_needs_a_clear_or_no_safe_and_not_ending_in_safe():
    fault = [{"t_s": 10.0, "kind": "star_tracker_loss"}]
    trip = _events((11.0, "trip", "STAR_TRACKER", "BACKUP"))
    cleared = trip + _events((40.0, "clear", "STAR_TRACKER", None))
    hover = [(0, HOVER)]
    to_safe = [(0, HOVER), (12 * US, SAFE)]
    assert fault_outcomes(fault, trip, hover, HOVER)[0]["recovered"] is True  # flew on
    assert fault_outcomes(fault, trip, to_safe, SAFE)[0]["recovered"] is False
    assert fault_outcomes(fault, cleared, to_safe, SAFE)[0]["recovered"] is False  # ends SAFE
    left_safe = to_safe + [(60 * US, HOVER)]
    assert fault_outcomes(fault, cleared, left_safe, HOVER)[0]["recovered"] is True
    assert fault_outcomes(fault, trip, left_safe, HOVER)[0]["recovered"] is False
    # Another monitor's trip does not count.
    other = _events((11.0, "trip", "NAV_COVARIANCE", "SAFE"))
    assert fault_outcomes(fault, other, hover, HOVER)[0]["detected_at_s"] is None


def _safety(**over):
    base = {"bounding_radius_m": 1.5, "escape_radius_m": 20_000.0, "max_radius_m": 1300.0,
            "final_radius_m": 1250.0, "final_energy_j_per_kg": 0.095,
            "final_radial_speed_mps": 0.01, "final_escape_speed_mps": 0.0885,
            "bus_contacts": [], "head_contacts": []}
    return base | over


def test_clearance_leaves_out_the_heads_planned_contact_only():
    modes = [(0, HOVER), (1000 * US, DESCENT), (1500 * US, TAG), (1510 * US, BACKAWAY),
             (1700 * US, HOVER)]
    clearance = {"t_s": np.array([0, 999, 1400, 1505, 1800]),
                 "bus_m": np.array([998.0, 900.0, 2.0, 1.4, 80.0]),
                 "head_m": np.array([996.0, 897.0, 0.3, -0.35, 77.0])}
    safety = _safety(head_contacts=[[1499.8, 1506.0]])
    out = clearance_figures(safety, clearance, modes)
    assert out["min_clearance_m"] == pytest.approx(1.4)  # the bus in the TAG second
    assert out["surface_impacts"] == 0 and out["escaped"] is False
    assert out["surface_contacts"] == [{"part": "head", "start_s": 1499.8, "end_s": 1506.0,
                                        "planned": True}]
    # The same touch in HOVER is an impact, and its clearance counts.
    hover = [(0, HOVER)]
    out = clearance_figures(safety, clearance, hover)
    assert out["surface_impacts"] == 1 and out["min_clearance_m"] == pytest.approx(-0.35)


def test_every_bus_contact_is_an_impact():
    safety = _safety(bus_contacts=[[50.0, 52.0], [90.0, None]], head_contacts=[[49.0, 60.0]])
    clearance = {"t_s": np.array([50]), "bus_m": np.array([-0.2]), "head_m": np.array([-1.0])}
    out = clearance_figures(safety, clearance, [(0, DESCENT)])
    assert out["surface_impacts"] == 2  # the head's was in DESCENT: planned
    assert out["min_clearance_m"] == pytest.approx(-0.2)
    assert [c["part"] for c in out["surface_contacts"]] == ["head", "bus", "bus"]


@pytest.mark.parametrize("over, escaped", [
    ({}, False),  # a body-fixed hover: positive energy (co-rotation), held by thrust
    ({"final_radial_speed_mps": 0.2}, True),  # receding faster than escape speed
    ({"final_radial_speed_mps": 0.05}, False),  # a climb, slower than escape speed
    ({"final_radial_speed_mps": -0.2}, False),  # coming back
    ({"max_radius_m": 25_000.0}, True),
])
def test_escape(over, escaped):
    assert clearance_figures(_safety(**over), None, [])["escaped"] is escaped


def test_no_truth_no_figures():
    out = clearance_figures(None, None, [])
    assert out["min_clearance_m"] is None and out["escaped"] is None


def test_fault_protection_status_named():
    m = mavlink.MAVLink_probe_fault_status_message(
        5, enabled=0xFFFF & ~(1 << 14), tripped=1 << 6, failing=0, trips=[0] * 6 + [2] + [0] * 9,
        health_missing=0, safe_phase=4, thruster_branch=1, wheels_failed=0b0100,
        wheel_speed_max_radps=123.0, dumps=3, dump_dv_mps=0.002)
    st = fault_protection_status(m)
    assert st["trips"] == {"THRUSTER": 2} and st["tripped"] == ["THRUSTER"]
    assert st["disabled"] == ["LINK"] and st["safe_phase"] == "COAST"
    assert st["thruster_branch"] == "B" and st["wheels_failed"] == [2] and st["dumps"] == 3
    assert fault_protection_status(None) is None


def test_fault_figures_from_a_decoded_downlink():
    """Through FlightTelemetry: faultprot events kept, heartbeats as mode changes."""
    tele = FlightTelemetry()
    for t_s, mode in ((0.0, HOVER), (1.0, HOVER), (31.0, SAFE)):
        tele.on_message(round(t_s * US), mavlink.MAVLink_heartbeat_message(
            0, 0, 0, mode, 0, 3))
    for t_s, text in ((30.4, "faultprot: trip NAVCAM: no fix for 1.0 s; response SAFE"),
                      (32.0, "faultprot: attitude on gyros alone"),
                      (33.0, "sched: task nav raised RuntimeError")):
        tele.on_message(round(t_s * US), mavlink.MAVLink_statustext_message(4, text.encode()))
    assert tele.mode_changes == [(0, HOVER), (31 * US, SAFE)]
    assert [e.text for e in tele.faultprot_events][0].startswith("trip NAVCAM")
    truth = TruthRecord(faults=[{"t_s": 30.0, "kind": "navcam_loss", "injected_at_s": 30.0,
                                 "removed_at_s": None}],
                        safety=_safety(), clearance=None,
                        actuators={"acs_impulse_ns": 0.5, "branch_b_impulse_ns": 0.0})
    out = fault_figures(tele, truth)
    f = out["faults"][0]
    assert (f["monitor"], f["detected_at_s"], f["response"]) == ("NAVCAM", 30.4, "SAFE")
    assert f["recovered"] is False and out["monitor_trips"] == 1
    assert out["acs_impulse_ns"] == 0.5 and out["fault_protection"] is None
    assert out["min_clearance_m"] is None and out["escaped"] is False


def test_summary_of_a_run_without_faults_or_fault_protection():
    out = fault_figures(FlightTelemetry(), TruthRecord())
    assert out["faults"] == [] and out["surface_impacts"] is None
    assert SimpleNamespace(**out).monitor_trips == 0


def test_a_watchdog_bite_is_the_detection_of_a_fault_protection_task_fault():
    """The executive's watchdog reports in fault protection's forms under its own source:
    its bite detects a task_exception of fault_prot (which cannot report itself)."""
    tele = FlightTelemetry()
    for t_s, text in ((103.1, "watchdog: trip TASK: fault_prot silent for 3.1 s; response "
                               "RESTART"),
                      (103.1, "faultprot: restarted"),
                      (106.2, "watchdog: trip TASK: fault_prot silent for 3.1 s after its "
                              "restart; response SAFE")):
        tele.on_message(round(t_s * US), mavlink.MAVLink_statustext_message(3, text.encode()))
    truth = TruthRecord(faults=[{"t_s": 100.05, "kind": "task_exception", "task": "fault_prot",
                                 "injected_at_s": 100.05, "removed_at_s": None}],
                        safety=_safety(), clearance=None,
                        actuators={"acs_impulse_ns": 0.0, "branch_b_impulse_ns": 0.0})
    f = fault_figures(tele, truth)["faults"][0]
    assert (f["monitor"], f["detected_at_s"], f["response"]) == ("TASK", 103.1, "RESTART")
    assert f["detection_latency_s"] == 3.05
