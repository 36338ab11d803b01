"""Replay: identical on the same code, a divergence report after a change, refusals up front."""

import json
import shutil
from pathlib import Path

import pytest

from flightsw.run_dir import claim
from ground.replay import ReplayError, load_recording, param_overrides, replay

GOLDEN = Path(__file__).parent.parent / "golden"


@pytest.fixture
def run_dir(tmp_path):
    """A copy of a golden run directory (tests may spoil it)."""
    target = tmp_path / "run"
    shutil.copytree(GOLDEN / "hover-commands-90s", target)
    return target


def test_same_code_replays_identically_and_rewrites_the_same_log(run_dir, tmp_path):
    result = replay(load_recording(run_dir), tmp_path / "out", progress=False)
    assert result.identical and result.first_divergence is None
    assert result.outbound_recorded == result.outbound_replayed == result.outbound_matching > 0
    assert "IDENTICAL" in result.report("log")
    assert (tmp_path / "out" / "replay.tlog").read_bytes() == (run_dir / "flight.tlog").read_bytes()
    summary = json.loads((tmp_path / "out" / "replay_summary.json").read_text())
    assert summary["identical"] is True


def test_a_parameter_change_gives_the_first_divergence_and_the_drift(run_dir, tmp_path):
    rec = load_recording(run_dir)
    result = replay(rec, tmp_path / "out", overrides={"ATT_ZETA": 1.2}, progress=False)
    assert not result.identical
    first = result.first_divergence
    assert first["message"] == "PROBE_WHEEL_CMD" and first["field"].startswith("torque_nm[")
    assert "recorded" in first["values"] and "replayed" in first["values"]
    drift = {(f.message, f.field): f for f in result.field_drift}
    assert drift[("PROBE_WHEEL_CMD", "torque_nm")].max_abs > 0
    text = result.report(str(rec.log_path))
    assert "DIVERGED at t = " in text and "PROBE_WHEEL_CMD.torque_nm" in text
    assert (tmp_path / "out" / "replay_report.txt").read_text().strip() == text


def test_the_override_holds_against_the_recorded_uplink_of_that_parameter(run_dir, tmp_path):
    # The recording set HOV_BW_RADPS = 0.04 at t = 0; the override must win for the replay.
    result = replay(load_recording(run_dir), tmp_path / "out",
                    overrides={"HOV_BW_RADPS": 0.05}, progress=False)
    assert any("HOV_BW_RADPS = 0.05" in text for _, text in result.events_only_replayed)
    assert any("HOV_BW_RADPS = 0.039" in text for _, text in result.events_only_recorded)


def test_until_stops_early_and_still_compares(run_dir, tmp_path):
    result = replay(load_recording(run_dir), tmp_path / "out", until_s=12.0, progress=False)
    assert result.identical and result.replayed_to_s == pytest.approx(12.0)
    assert result.frames_run == 121


def test_a_log_of_another_icd_is_refused_before_starting(run_dir):
    config = json.loads((run_dir / "flight_config.json").read_text())
    config["icd_fingerprint"] = "00000000"
    (run_dir / "flight_config.json").write_text(json.dumps(config))
    with pytest.raises(ReplayError, match="recorded with ICD 00000000"):
        load_recording(run_dir)


@pytest.mark.parametrize("spoil, message", [
    (lambda d: (d / "flight_config.json").unlink(), "flight_config.json: not found"),
    (lambda d: (d / "flight_config.json").write_text("{"), "not a flight_config.json"),
    (lambda d: (d / "flight.tlog").write_bytes(b""), "empty file"),
    (lambda d: (d / "flight.tlog").write_bytes(b"hello, this is not a log" * 10),
     "no MAVLink frames"),
    (lambda d: (d / "flight.tlog").unlink(), "no such file"),
])
def test_bad_input_is_one_line(run_dir, spoil, message):
    spoil(run_dir)
    with pytest.raises(ReplayError, match=message) as err:
        load_recording(run_dir)
    assert "\n" not in str(err.value)


def test_a_damaged_log_replays_with_a_warning(run_dir, tmp_path):
    data = bytearray((run_dir / "flight.tlog").read_bytes())
    data[50_000:50_010] = b"\xff" * 10
    (run_dir / "flight.tlog").write_bytes(bytes(data))
    result = replay(load_recording(run_dir), tmp_path / "out", progress=False)
    assert any("damaged" in w for w in result.warnings)


def test_parameter_overrides_are_checked():
    assert param_overrides(["HOV_ZETA=1.1", "FP_ENABLE=false"]) == {"HOV_ZETA": 1.1,
                                                                    "FP_ENABLE": False}
    for bad, message in (("HOV_ZETA", "NAME=VALUE"), ("NOPE=1", "unknown"),
                         ("HOV_ZETA=abc", "expected float"), ("HOV_ZETA=100", "expected float")):
        with pytest.raises(ReplayError, match=message):
            param_overrides([bad])


def test_output_directory_is_not_overwritten(run_dir, tmp_path):
    rec = load_recording(run_dir)
    replay(rec, tmp_path / "out", progress=False)
    with pytest.raises(ReplayError, match="already holds a replay"):
        replay(rec, tmp_path / "out", progress=False)
    replay(rec, tmp_path / "out", force=True, progress=False)
    # A folder none of our commands wrote is refused, --force or not (the golden copy has no
    # marker); a run directory of ours takes a replay and keeps its recording.
    before = (run_dir / "flight.tlog").read_bytes()
    with pytest.raises(ReplayError, match="not written by prospector"):
        replay(rec, run_dir, force=True, progress=False)
    claim(run_dir, "run")
    replay(rec, run_dir, force=True, progress=False)
    assert (run_dir / "flight.tlog").read_bytes() == before


def test_a_log_recorded_before_an_enum_value_changed_is_refused(run_dir, monkeypatch):
    """PROBE_MODE_HOVER moved from 2 to 9: messages would decode alike, modes would not."""
    from flightsw.icd import mavlink

    enums = {name: dict(entries) for name, entries in mavlink.enums.items()}
    enums["PROBE_MODE"][9] = enums["PROBE_MODE"].pop(2)
    monkeypatch.setattr(mavlink, "enums", enums)
    with pytest.raises(ReplayError, match="recorded with ICD"):
        load_recording(run_dir)
