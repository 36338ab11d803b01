"""The HIL rig on the emulated board: a short closed-loop hover in lockstep (reproducible,
the same flight as SIL), garbage on the line, link loss and recovery, real time."""

import json
from dataclasses import replace

import pytest
from pymavlink import mavutil

from flightsw.hal.mavlink_stream import FrameReader
from flightsw.icd import FLIGHT_SYSTEM_ID
from hil.rig import Fault, HilOptions, run_hil
from sim.runner import RUN_FILES, run_scenario
from sim.scenario import load_scenario

HOVER_S = 8.0  # long enough to command HOVER (t = 5 s) and hold it


def _scenario(duration_s=HOVER_S, **extra):
    return load_scenario("bennu-hover", {"scenario.duration_s": duration_s,
                                         "scenario.seed": 4, **extra})


def _frames(path):
    """(timestamp, frame bytes) of a .tlog, parsed with the generated codec."""
    data = path.read_bytes()
    out, pos = [], 0
    reader = FrameReader()
    while pos < len(data):
        stamp = int.from_bytes(data[pos:pos + 8], "big")
        pos += 8
        msgs = reader.feed(data[pos:pos + 300])
        assert msgs, "unreadable frame in the log"
        raw = bytes(msgs[0].get_msgbuf())
        out.append((stamp, raw, msgs[0]))
        pos += len(raw)
        reader = FrameReader()
    return out


def _sent_by_flight(frames):
    return [(t, raw) for t, raw, m in frames if m.get_srcSystem() == FLIGHT_SYSTEM_ID]


# These runs are compared byte for byte: a board that a loaded machine starves for more
# than the default 0.25 s must be waited for, not flown past as a stall (degraded frames
# are timed, so they would differ).  The stall path has its own test (kill-board).
PATIENT = HilOptions(write_report=False, stall_timeout_s=5.0)


@pytest.fixture(scope="module")
def lockstep_runs(firmware_elf, tmp_path_factory):
    base = tmp_path_factory.mktemp("hil")
    a = run_hil(_scenario(), base / "a", PATIENT, progress=False)
    b = run_hil(_scenario(), base / "b", PATIENT, progress=False)
    sil = run_scenario(_scenario(), base / "sil", write_report=False, progress=False)
    return base, a, b, sil


def test_lockstep_run_leaves_the_run_directory_of_a_sil_run(lockstep_runs):
    base, a, _, _ = lockstep_runs
    for name in RUN_FILES:
        if name != "report.html":
            assert (base / "a" / name).stat().st_size > 0, name
    assert (base / "a" / "link_stats.json").exists()
    hil = json.loads((base / "a" / "summary.json").read_text())["hil"]
    assert hil["mode"] == "lockstep" and hil["emulated_board"]
    assert hil["lockstep_stalls"] == 0 and hil["link_monitor"]["losses"] == 0
    assert hil["flight_link"]["frames_lost"] == 0
    assert a["final_mode"] == "HOVER"
    # A standard .tlog: mavutil reads every frame, the board's heartbeats among them.
    log = mavutil.mavlink_connection(str(base / "a" / "flight.tlog"), dialect="prospector")
    kinds = set()
    while (msg := log.recv_match()) is not None:
        assert msg.get_type() != "BAD_DATA"
        kinds.add((msg.get_type(), msg.get_srcSystem(), msg.get_srcComponent()))
    assert ("HEARTBEAT", 2, 158) in kinds and ("HIGHRES_IMU", 2, 1) in kinds
    assert ("PROBE_WHEEL_CMD", 1, 1) in kinds


def test_lockstep_runs_are_byte_identical(lockstep_runs):
    base, _, _, _ = lockstep_runs
    assert (base / "a" / "flight.tlog").read_bytes() == (base / "b" / "flight.tlog").read_bytes()
    assert (base / "a" / "events.log").read_text() == (base / "b" / "events.log").read_text()


def test_lockstep_flies_the_sil_flight(lockstep_runs):
    """Same commands from the flight software, same hover figures.

    Not bit for bit: SimBus hands the flight software's actuator commands to the
    world as float64 objects, while over a link they arrive as float32."""
    base, a, _, sil = lockstep_runs
    hil_out = _sent_by_flight(_frames(base / "a" / "flight.tlog"))
    sil_out = _sent_by_flight(_frames(base / "sil" / "flight.tlog"))
    assert [raw[7:10] for _, raw in hil_out] == [raw[7:10] for _, raw in sil_out]
    assert [t for t, _ in hil_out] == [t for t, _ in sil_out]
    for key in ("hover_error_m_p50", "hover_error_m_p99"):
        assert a[key] == pytest.approx(sil[key], abs=1e-3), key
    assert a["attitude_error_deg_p99"] == pytest.approx(sil["attitude_error_deg_p99"], abs=1e-4)
    assert a["final_mode"] == sil["final_mode"]


def test_garbage_on_the_flight_line_changes_nothing(lockstep_runs, tmp_path):
    """The board sprays 48 random bytes every 10 ms between its frames on the flight
    link; the SerialBus resynchronises and the flight log is byte for byte the clean one."""
    base, _, _, _ = lockstep_runs
    options = replace(PATIENT, faults=(Fault("noise", 0.0, 48.0),))
    summary = run_hil(_scenario(), tmp_path / "noisy", options, progress=False)
    flight = summary["hil"]["flight_link"]
    assert flight["rx_bytes_skipped"] > 1000 and flight["frames_lost"] == 0
    assert summary["hil"]["degraded_frames"] == 0
    assert (tmp_path / "noisy" / "flight.tlog").read_bytes() == (
        base / "a" / "flight.tlog").read_bytes()


def test_board_killed_mid_run_goes_safe_and_comes_back(firmware_elf, tmp_path):
    """The board killed at 2 s: SAFE for the link, the board restarted, the ground brings
    the probe back to HOVER, and it stays there to the end, 2 s past the star tracker
    timeout (FP_ST_TMO_S, 10 s) counted from the outage.  Navigation once let the late
    samples a restarted board delivers take its time back, integrated part of the
    bridged gap twice, gated out the star tracker updates after it, and fault protection
    forced SAFE again ("star tracker lost").  Whether late samples come, and how many,
    depends on the emulator's timing: test_app.py pins navigation's part without it."""
    out = tmp_path / "loss"
    summary = run_hil(_scenario(14.0), out,
                      HilOptions(write_report=False, faults=(Fault("kill-board", 2.0),)),
                      progress=False)
    hil = summary["hil"]
    events = (out / "events.log").read_text().splitlines()

    def first(text):
        return next(i for i, line in enumerate(events) if text in line)

    order = [first("fault injected: kill-board"), first("link to board lost"),
             first("-> SAFE (link to board lost"), first("emulated board restarted"),
             first("link to board restored"), first("STANDBY -> HOVER")]
    assert order == sorted(order)
    assert hil["link_monitor"]["losses"] == 1 and hil["link_monitor"]["restorations"] == 1
    assert hil["board_starts"] == 2
    # The ground's procedure starts it; HOVER comes from it or from the scenario's own
    # command at 5 s, depending on when the board was back.
    assert hil["ground_recovery_commands"][0][1] == "SET_MODE STANDBY"
    # SAFE once, for the link; after the recovery the probe holds HOVER to the end.
    safe_entries = [line for line in events if "-> SAFE" in line]
    assert len(safe_entries) == 1 and "link to board lost" in safe_entries[0], safe_entries
    assert summary["final_mode"] == "HOVER"
    for name in ("flight.tlog", "summary.json", "events.log", "history.npz", "link_stats.json"):
        assert (out / name).stat().st_size > 0, name


def test_real_time_run_records_its_timing(firmware_elf, tmp_path):
    summary = run_hil(_scenario(4.0), tmp_path / "rt",
                      HilOptions(mode="realtime", write_report=False), progress=False)
    hil = summary["hil"]
    assert hil["mode"] == "realtime"
    assert hil["wakeup_lateness_us"]["n"] >= 40
    assert hil["round_trip_ms"]["n"] >= 1
    assert "cycle_slips" in hil and "stale_sensor_frames" in hil
    assert summary["sim_duration_s"] >= 4.0
    # Real time logs execution times (PROBE_TASK_STATS) unless told otherwise.
    reader, kinds = FrameReader(), set()
    data = (tmp_path / "rt" / "flight.tlog").read_bytes()
    for msg in reader.feed(data[8:]):  # stamps are skipped as garbage
        kinds.add(msg.get_type())
    assert "HIGHRES_IMU" in kinds

