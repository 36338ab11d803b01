"""A run flown with a signed uplink replays bit for bit when the replay is given the
same key (the uplink guard re-judges every recorded frame alike), and diverges
without it; a bad key file for the replay is one line and exit status 2."""

import json
import os
from pathlib import Path

import pytest

from ground.replay import load_recording, replay

KEY = bytes(range(64, 96))
COMMANDS = [
    {"t_s": 0.0, "name": "SET_MODE", "args": ["STANDBY"]},
    {"t_s": 5.0, "name": "SET_MODE", "args": ["HOVER"]},
    {"t_s": 12.0, "name": "SET_PARAM", "args": ["ATT_BW_RADPS", 0.25]},
]


@pytest.fixture(scope="module")
def signed_run(tmp_path_factory):
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    sc = load_scenario("bennu-hover", {"scenario.seed": 3, "scenario.duration_s": 20.0,
                                       "commands": COMMANDS})
    out = tmp_path_factory.mktemp("signed") / "run"
    run_scenario(sc, out, write_report=False, progress=False, signing_key=KEY)
    return out


def test_the_signed_run_obeyed_its_signed_scenario_uplink(signed_run):
    summary = json.loads((signed_run / "summary.json").read_text())
    assert summary["final_mode"] == "HOVER"
    text = (signed_run / "flight.tlog").read_bytes()
    assert KEY not in text
    assert KEY.hex() not in (signed_run / "events.log").read_text()


def test_replay_with_the_key_is_identical_and_without_it_diverges(signed_run, tmp_path):
    rec = load_recording(signed_run)
    same = replay(rec, tmp_path / "with", progress=False, signing_key=KEY)
    assert same.identical, same.report("log")
    # Without the key every recorded ground command is refused: the flight differs.
    without = replay(load_recording(signed_run), tmp_path / "without", progress=False)
    assert not without.identical


def test_replay_cli_refuses_a_bad_key_file_in_one_line(signed_run, tmp_path, capsys):
    from prospector.cli import main

    key_file = tmp_path / "key.hex"
    key_file.write_text("not hex\n")
    os.chmod(key_file, 0o600)
    code = main(["replay", str(signed_run), "--out", str(tmp_path / "r"),
                 "--signing-key", str(key_file)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and str(key_file) in err and "Traceback" not in err

    good = tmp_path / "good.hex"
    good.write_text(KEY.hex() + "\n")
    os.chmod(good, 0o600)
    assert main(["replay", str(signed_run), "--out", str(tmp_path / "ok"),
                 "--signing-key", str(good)]) == 0
    assert Path(tmp_path / "ok" / "replay.tlog").exists()
