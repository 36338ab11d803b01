"""`prospector hil` with a ground link and a signing key: the scenario's uplink, signed by
the rig and routed unchanged by the emulated board, is obeyed; the link is in the summary."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_signed_hil_run_with_a_ground_link_flies_its_scenario(firmware_elf, tmp_path):
    key_file = tmp_path / "probe.key"
    key_file.write_text("c3" * 32 + "\n")
    os.chmod(key_file, 0o600)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "prospector.cli", "hil", "--emulate", "--scenario", "bennu-hover",
         "--duration", "8", "--ground", f"tcpin:127.0.0.1:{port}", "--signing-key",
         str(key_file), "--out", str(out), "--no-report"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    events = (out / "events.log").read_text()
    assert events.count("MAV_CMD_DO_SET_MODE from sys255/190: ACCEPTED") == 2
    assert "rejected" not in events
    summary = json.loads((out / "summary.json").read_text())
    (link,) = summary["ground_link"]
    assert link["connection"] == f"tcpin:127.0.0.1:{port}" and link["signed"]
    assert (out / "params.parm").stat().st_size > 0
