"""prospector log info / log export / replay: results, exit status, one-line errors."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from prospector.cli import main

GOLDEN = Path(__file__).parent / "golden" / "hover-60s"


@pytest.fixture
def run_dir(tmp_path):
    target = tmp_path / "run"
    shutil.copytree(GOLDEN, target)
    return target


def _one_line_error(capsys, status, expected):
    out, err = capsys.readouterr()
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("prospector: error: ") and expected in err
    assert "Traceback" not in out + err


def test_log_info_prints_counts_rates_and_damage(run_dir, capsys):
    assert main(["log", "info", str(run_dir / "flight.tlog")]) == 0
    out = capsys.readouterr().out
    assert "HIGHRES_IMU" in out and "60.000 s" in out and "damage: none" in out
    assert main(["log", "info", str(run_dir), "--json"]) == 0
    assert '"frames"' in capsys.readouterr().out


def test_log_info_reports_damage_with_a_warning(run_dir, capsys):
    data = bytearray((run_dir / "flight.tlog").read_bytes())
    data[1000:1004] = b"\x00\x00\x00\x00"
    (run_dir / "flight.tlog").write_bytes(bytes(data[:-5]))
    assert main(["log", "info", str(run_dir)]) == 0
    out, err = capsys.readouterr()
    assert "skipped" in err and "damage: " in out and "incomplete" in out


@pytest.mark.parametrize("content, expected", [
    (b"", "empty file"),
    (b"#!/bin/sh\necho not a log\n" * 20, "no MAVLink frames"),
])
def test_log_info_refuses_what_is_not_a_log(tmp_path, capsys, content, expected):
    path = tmp_path / "x.tlog"
    path.write_bytes(content)
    _one_line_error(capsys, main(["log", "info", str(path)]), expected)


def test_log_info_of_a_missing_file(tmp_path, capsys):
    _one_line_error(capsys, main(["log", "info", str(tmp_path / "none.tlog")]), "no such file")


def test_export_npz_and_csv(run_dir, tmp_path, capsys):
    npz = tmp_path / "x.npz"
    assert main(["log", "export", str(run_dir), "--format", "npz", "--out", str(npz),
                 "--types", "HIGHRES_IMU,heartbeat"]) == 0
    with np.load(npz) as z:
        assert z["HIGHRES_IMU.xacc"].dtype == np.float32
        assert len(z["HEARTBEAT.timestamp_us"]) == 61
    # Never overwritten silently.
    _one_line_error(capsys, main(["log", "export", str(run_dir), "--format", "npz", "--out",
                                  str(npz)]), "exists")
    assert main(["log", "export", str(run_dir), "--format", "npz", "--out", str(npz),
                 "--force"]) == 0
    csv_dir = tmp_path / "csv"
    assert main(["log", "export", str(run_dir), "--format", "csv", "--out", str(csv_dir)]) == 0
    lines = (csv_dir / "PROBE_NAV_STATE.csv").read_text().splitlines()
    assert lines[0].startswith("timestamp_us,src_system,src_component,seq,time_usec,pos_i_m[0]")
    assert len(lines) == 62
    _one_line_error(capsys, main(["log", "export", str(run_dir), "--format", "csv", "--out",
                                  str(csv_dir)]), "exists")


def test_export_refuses_unknown_types(run_dir, tmp_path, capsys):
    _one_line_error(capsys, main(["log", "export", str(run_dir), "--format", "npz", "--out",
                                  str(tmp_path / "x.npz"), "--types", "NOPE"]),
                    "not messages of the ICD: NOPE")


def test_replay_identical_exits_0_and_says_so(run_dir, tmp_path, capsys):
    assert main(["replay", str(run_dir), "--out", str(tmp_path / "r")]) == 0
    assert "IDENTICAL" in capsys.readouterr().out


def test_replay_with_a_parameter_change_exits_1_with_the_report(run_dir, tmp_path, capsys):
    status = main(["replay", str(run_dir / "flight.tlog"), "--out", str(tmp_path / "r"),
                   "--param", "HOV_ZETA=1.5", "--until", "30"])
    out = capsys.readouterr().out
    assert status == 1
    assert "DIVERGED at t = " in out and "drift" in out


@pytest.mark.parametrize("args, expected", [
    (["--param", "NOPE=1"], "unknown flight-software parameter"),
    (["--param", "HOV_ZETA"], "expected NAME=VALUE"),
    (["--config", "/nonexistent/flight_config.json"], "not found"),
])
def test_replay_bad_input_is_one_line(run_dir, tmp_path, capsys, args, expected):
    status = main(["replay", str(run_dir), "--out", str(tmp_path / "r")] + args)
    _one_line_error(capsys, status, expected)


def _foreign_record(k: int) -> bytes:
    """A MAVLink 2 frame of id 60000, unknown to our ICD (another dialect), as a .tlog record."""
    import struct

    frame = bytes([0xFD, 2, 0, 0, k % 256, 9, 1]) + (60000).to_bytes(3, "little") + b"\x01\x02"
    return struct.pack(">Q", 1_603_152_000_000_000 + k) + frame + b"\x55\xaa"


def test_a_log_of_another_dialect_is_one_line(tmp_path, capsys):
    path = tmp_path / "other.tlog"
    path.write_bytes(b"".join(_foreign_record(k) for k in range(50)))
    _one_line_error(capsys, main(["log", "info", str(path)]), "another MAVLink dialect")


def test_foreign_frames_among_ours_are_a_warning_with_counts(run_dir, capsys):
    data = (run_dir / "flight.tlog").read_bytes()
    (run_dir / "flight.tlog").write_bytes(data + b"".join(_foreign_record(k) for k in range(3)))
    assert main(["log", "info", str(run_dir)]) == 0
    out, err = capsys.readouterr()
    assert "3 frames of message ids this ICD does not know (60000)" in err


def _damage_a_timestamp(tlog: Path, index: int, top_byte: int = 0x7F) -> None:
    """Set the top byte of record `index`'s 8-byte timestamp (its frame stays whole)."""
    from ground.logs.frames import frame_table

    data = bytearray(tlog.read_bytes())
    table = frame_table(bytes(data))
    data[int(table.first[index]) - 8] = top_byte
    tlog.write_bytes(bytes(data))


def _last_of_its_frame(tlog: Path, near: int) -> int:
    """The index of a record, at or after `near`, that is the last message of its frame
    (the next record has a later time): its own time cannot be placed from neighbours."""
    from ground.logs.frames import frame_table

    data = tlog.read_bytes()
    table = frame_table(data)
    stamps = [int.from_bytes(data[int(f) - 8:int(f)], "big") for f in table.first]
    return next(i for i in range(near, len(stamps) - 1) if stamps[i + 1] > stamps[i])


def test_log_info_reports_a_damaged_timestamp_as_damage_not_a_traceback(run_dir, capsys):
    assert main(["log", "info", str(run_dir), "--json"]) == 0
    frames = json.loads(capsys.readouterr().out)["frames"]
    _damage_a_timestamp(run_dir / "flight.tlog", 500)
    assert main(["log", "info", str(run_dir)]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "60.000 s" in out and "damaged timestamps: 1" in out
    assert "1 frame(s) with a damaged timestamp" in err
    assert main(["log", "info", str(run_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["clean"] is False and data["damaged_timestamps"] == 1
    assert data["duration_s"] == 60.0 and data["frames"] == frames


def test_replay_of_a_log_with_a_damaged_timestamp_ends_with_the_mission(run_dir, tmp_path,
                                                                         capsys):
    # The last message of its frame: its time is unknown, it is left out.
    tlog = run_dir / "flight.tlog"
    _damage_a_timestamp(tlog, _last_of_its_frame(tlog, 500))
    status = main(["replay", str(run_dir), "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "r" / "replay_summary.json").read_text())
    assert summary["replayed_to_s"] == 60.0 and summary["frames_run"] == 601
    assert any("1 left out" in w for w in summary["warnings"])
    # Every other outbound message still matches; only the one left out is unaccounted for.
    assert status == 1 and "DIVERGED" in out
    assert summary["outbound_matching"] == summary["outbound_recorded"] == \
        summary["outbound_replayed"] - 1


def test_a_damaged_timestamp_between_two_of_one_time_is_placed_there(run_dir, tmp_path, capsys):
    from ground.logs.frames import frame_table

    stamps = frame_table((run_dir / "flight.tlog").read_bytes()).timestamp_us
    inside = next(i for i in range(100, len(stamps) - 1) if stamps[i - 1] == stamps[i + 1])
    _damage_a_timestamp(run_dir / "flight.tlog", inside)
    assert main(["replay", str(run_dir), "--out", str(tmp_path / "r")]) == 0
    assert "IDENTICAL" in capsys.readouterr().out
    summary = json.loads((tmp_path / "r" / "replay_summary.json").read_text())
    assert any("1 message(s) placed" in w for w in summary["warnings"])


@pytest.mark.parametrize("key, value, expected", [
    ("base_rate_hz", 0, "base_rate_hz: expected an integer"),
    ("vehicle", {"mass_kg": 1e308}, "vehicle.mass_kg: expected"),
])
def test_replay_of_a_config_with_a_bad_number_is_one_line(run_dir, tmp_path, capsys, key,
                                                          value, expected):
    path = run_dir / "flight_config.json"
    data = json.loads(path.read_text())
    if isinstance(value, dict):
        data["flight_config"][key].update(value)
    else:
        data["flight_config"][key] = value
    path.write_text(json.dumps(data))
    status = main(["replay", str(run_dir), "--out", str(tmp_path / "r")])
    _one_line_error(capsys, status, expected)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("which", ["log", "config"])
def test_replay_refuses_a_fifo_at_once(run_dir, tmp_path, capsys, which):
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    args = ["replay", str(run_dir), "--out", str(tmp_path / "r")]
    if which == "log":
        args[1] = str(fifo)
        args += ["--config", str(run_dir / "flight_config.json")]
    else:
        args += ["--config", str(fifo)]
    _one_line_error(capsys, main(args), "FIFO")


def test_log_info_refuses_a_fifo_and_a_device(tmp_path, capsys):
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        _one_line_error(capsys, main(["log", "info", str(path)]), "not a regular file")
