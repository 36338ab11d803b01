"""--version, --json and --quiet of the commands that print summaries, and the Parquet
export of a flight log (prospector/args.py, cli.py, log_cli.py, log_parquet.py)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prospector.args import strict_json
from prospector.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "hover-60s"


def prospector(*args):
    return subprocess.run([sys.executable, "-m", "prospector.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


@pytest.fixture
def golden_run(tmp_path):
    target = tmp_path / "run"
    shutil.copytree(GOLDEN, target)
    return target


def test_version_names_the_package_version_and_the_icd():
    from flightsw.icd import icd_fingerprint

    result = prospector("--version")
    assert result.returncode == 0 and result.stderr == ""
    line = result.stdout.strip()
    assert line.startswith("prospector ") and len(line.splitlines()) == 1
    assert f"ICD fingerprint {icd_fingerprint():08x}" in line


def test_run_json_prints_the_summary_as_one_document(tmp_path):
    out = tmp_path / "run"
    result = prospector("run", "--scenario", "bennu-hover", "--duration", "20", "--out",
                        str(out), "--no-report", "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)  # the whole of stdout is one JSON document
    on_disk = json.loads((out / "summary.json").read_text())
    assert printed == strict_json(on_disk)
    assert printed["sim_duration_s"] == 20.0


def test_run_quiet_prints_nothing(tmp_path):
    result = prospector("run", "--scenario", "bennu-hover", "--duration", "5", "--out",
                        str(tmp_path / "run"), "--no-report", "--quiet")
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""
    assert (tmp_path / "run" / "summary.json").exists()


def test_quiet_still_prints_errors(tmp_path):
    result = prospector("run", "--scenario", "no-such-scenario", "--out",
                        str(tmp_path / "run"), "--quiet")
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "no-such-scenario" in result.stderr


def test_json_and_quiet_together_are_refused_with_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["run", "--scenario", "x", "--out", "y", "--json",
                                   "--quiet"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("argv", [
    ["hil", "--emulate", "--scenario", "bennu-hover", "--out", "o", "--json"],
    ["sweep", "--scenario", "bennu-hover", "--seeds", "1", "--out", "o", "--quiet"],
    ["survey-sweep", "--scenario", "bennu", "--seeds", "1", "--out", "o", "--json"],
    ["replay", "r", "--out", "o", "--quiet"],
])
def test_summary_commands_take_json_and_quiet(argv):
    args = build_parser().parse_args(argv)
    assert args.json or args.quiet


def test_replay_json_is_the_replay_summary(golden_run, tmp_path, capsys):
    assert main(["replay", str(golden_run), "--out", str(tmp_path / "r"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["identical"] is True
    assert printed == json.loads((tmp_path / "r" / "replay_summary.json").read_text())


def test_replay_quiet_prints_nothing(golden_run, tmp_path, capsys):
    assert main(["replay", str(golden_run), "--out", str(tmp_path / "r"), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_parquet_export_reads_back_equal_to_the_csv(golden_run, tmp_path, capsys):
    pq_dir, csv_dir = tmp_path / "pq", tmp_path / "csv"
    assert main(["log", "export", str(golden_run), "--format", "parquet", "--out",
                 str(pq_dir)]) == 0
    assert "Parquet files" in capsys.readouterr().out
    assert main(["log", "export", str(golden_run), "--format", "csv", "--out",
                 str(csv_dir)]) == 0
    csv_files = sorted(p.name.removesuffix(".csv") for p in csv_dir.glob("*.csv"))
    pq_files = sorted(p.name.removesuffix(".parquet") for p in pq_dir.glob("*.parquet"))
    assert csv_files == pq_files and "HIGHRES_IMU" in pq_files
    for name in pq_files:
        from_pq = pd.read_parquet(pq_dir / f"{name}.parquet")
        from_csv = pd.read_csv(csv_dir / f"{name}.csv", keep_default_na=False)
        assert list(from_pq.columns) == list(from_csv.columns), name
        assert len(from_pq) == len(from_csv), name
        for column in from_pq.columns:
            a = from_pq[column].to_numpy()
            if a.dtype.kind in "fiu":
                # The CSV holds each number's shortest text in its wire type.
                b = from_csv[column].to_numpy().astype(a.dtype)
                np.testing.assert_array_equal(a, b, err_msg=f"{name}.{column}")
            else:
                assert [str(v) for v in a] == from_csv[column].astype(str).tolist(), column
    imu = pd.read_parquet(pq_dir / "HIGHRES_IMU.parquet")
    assert imu["xacc"].dtype == np.float32 and imu["timestamp_us"].dtype == np.uint64


def test_parquet_export_never_overwrites_silently(golden_run, tmp_path, capsys):
    out = tmp_path / "pq"
    argv = ["log", "export", str(golden_run), "--format", "parquet", "--out", str(out)]
    assert main(argv) == 0
    before = (out / "HEARTBEAT.parquet").read_bytes()
    capsys.readouterr()
    assert main(argv) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "exists" in err and "--force" in err
    assert (out / "HEARTBEAT.parquet").read_bytes() == before
    assert main(argv + ["--force", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_parquet_export_of_a_damaged_log_says_so_in_one_line(golden_run, tmp_path, capsys):
    log = golden_run / "flight.tlog"
    data = bytearray(log.read_bytes())
    data[1000:1004] = b"\x00\x00\x00\x00"
    log.write_bytes(bytes(data[:-5]))
    assert main(["log", "export", str(golden_run), "--format", "parquet", "--out",
                 str(tmp_path / "pq")]) == 0
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("prospector: warning: ")
    assert (tmp_path / "pq" / "HEARTBEAT.parquet").exists()


def test_sweep_json_prints_the_aggregate_and_quiet_nothing(tmp_path):
    out = tmp_path / "sweep"
    result = prospector("sweep", "--scenario", "bennu-hover", "--seeds", "1", "--jobs", "1",
                        "--set", "scenario.duration_s=2.0", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["runs"] == 1
    assert printed == strict_json(json.loads((out / "aggregate.json").read_text()))
    result = prospector("sweep", "--scenario", "bennu-hover", "--seeds", "1", "--jobs", "1",
                        "--set", "scenario.duration_s=2.0", "--out", str(out), "--force",
                        "--quiet")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
