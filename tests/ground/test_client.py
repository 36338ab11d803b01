"""ProbeClient against a fake flight side on 127.0.0.1 (tests/ground/fake_probe.py), then
against the flight software itself (`prospector run --ground`, signed)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flightsw.icd import mavlink
from flightsw.params_table import FLIGHT_PARAMS
from ground.client import ProbeClient, ProbeClientError
from tests.ground.fake_probe import FakeProbe

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


@pytest.fixture
def probe():
    with FakeProbe() as fake:
        yield fake


def test_connect_sees_the_heartbeat_and_the_mode(probe):
    with ProbeClient.connect(probe.address, timeout_s=5) as client:
        assert client.mode == "HOVER"
        assert client.latest["HEARTBEAT"].type == mavlink.MAV_TYPE_SPACECRAFT_ORBITER


def test_set_mode_is_acknowledged_and_seen_in_the_heartbeat(probe):
    with ProbeClient.connect(probe.address) as client:
        ack = client.set_mode("standby")
        assert ack.accepted and ack.result_name == "ACCEPTED"
        client.wait_heartbeat()
        assert client.mode == "STANDBY"
    assert probe.commands == [("SET_MODE", ("STANDBY",))]


def test_a_mode_the_ground_cannot_select_is_refused_before_sending(probe):
    with ProbeClient.connect(probe.address) as client:
        with pytest.raises(ProbeClientError, match="ground selects only"):
            client.set_mode("TAG")
    assert probe.commands == []


def test_table_commands_return_the_probes_ack(probe):
    with ProbeClient.connect(probe.address) as client:
        assert client.command("START_SURVEY").accepted  # scan duration left at its default
        assert client.command("CHOOSE_SITE", 2).accepted  # allowed in SURVEY
        refused = client.command("CHOOSE_SITE", 11)  # rank above the table's limit
        assert refused.result == mavlink.MAV_RESULT_DENIED and not refused.accepted
        wrong_mode = client.command("START_TAG")  # only from HOVER
        assert wrong_mode.result_name == "TEMPORARILY_REJECTED"
    assert probe.commands == [("START_SURVEY", (0.0,)), ("CHOOSE_SITE", (2.0,))]


@pytest.mark.parametrize("name, args, match", [
    ("FLY_TO_MARS", (), "not a command of the table"),
    ("SET_PARAM", ("HOV_ZETA", 1.0), "not a command of the table"),
    ("CHOOSE_SITE", (), "expected rank, got 0"),
    ("CHOOSE_SITE", (1, 2), "expected rank, got 2"),
    ("CHOOSE_SITE", ("two",), "rank must be a number"),
])
def test_a_malformed_command_is_one_line_and_not_sent(probe, name, args, match):
    with ProbeClient.connect(probe.address) as client:
        with pytest.raises(ProbeClientError, match=match) as refused:
            client.command(name, *args)
    assert "\n" not in str(refused.value)
    assert probe.commands == []


def test_the_full_parameter_list_in_index_order(probe):
    with ProbeClient.connect(probe.address) as client:
        params = client.params()
    assert list(params) == [spec.name for spec in FLIGHT_PARAMS]
    assert params["FP_ENABLE"] == 1 and isinstance(params["FP_ENABLE"], int)
    assert params["HOV_ZETA"] == pytest.approx(0.9)


def test_parameters_lost_on_the_way_are_read_again_by_index(probe):
    probe.drop_param_indices = {0, 5, len(FLIGHT_PARAMS) - 1}
    with ProbeClient.connect(probe.address) as client:
        params = client.params(timeout_s=1.0)
    assert list(params) == [spec.name for spec in FLIGHT_PARAMS]
    assert probe.drop_param_indices == set()


def test_set_param_returns_the_value_held_and_a_refusal_raises(probe):
    with ProbeClient.connect(probe.address) as client:
        assert client.set_param("HOV_ZETA", 1.25) == pytest.approx(1.25)
        assert probe.table.get("HOV_ZETA") == pytest.approx(1.25)
        with pytest.raises(ProbeClientError, match="HOV_ZETA: set refused by the probe"):
            client.set_param("HOV_ZETA", 99.0)  # above its maximum
        with pytest.raises(ProbeClientError, match="NO_SUCH_PARAM: read refused"):
            client.set_param("NO_SUCH_PARAM", 1.0)
    assert probe.table.get("HOV_ZETA") == pytest.approx(1.25)


def test_signed_link_works_end_to_end():
    with FakeProbe(signing_key=KEY) as probe, \
            ProbeClient.connect(probe.address, signing_key=KEY) as client:
        assert client.set_mode("STANDBY").accepted
    assert probe.commands == [("SET_MODE", ("STANDBY",))] and probe.rejected_frames == 0


def test_a_wrong_key_hears_nothing_and_commands_nothing():
    with FakeProbe(signing_key=KEY) as probe:
        with pytest.raises(ProbeClientError, match="no HEARTBEAT"):
            ProbeClient.connect(probe.address, signing_key=OTHER_KEY, timeout_s=1.0)
    assert probe.commands == []


def test_a_key_file_is_read_and_never_quoted(tmp_path):
    key_file = tmp_path / "ground.key"
    key_file.write_text(KEY.hex() + "\n")
    key_file.chmod(0o600)
    with FakeProbe(signing_key=KEY) as probe, \
            ProbeClient.connect(probe.address, signing_key=key_file) as client:
        assert client.mode == "HOVER"
    key_file.chmod(0o644)
    with pytest.raises(ProbeClientError) as refused:
        ProbeClient.connect("tcp:127.0.0.1:1", signing_key=key_file)
    assert str(key_file) in str(refused.value) and KEY.hex() not in str(refused.value)


def test_a_key_of_the_wrong_length_is_refused():
    with pytest.raises(ProbeClientError, match="expected 32 bytes, got 31"):
        ProbeClient.connect("tcp:127.0.0.1:1", signing_key=KEY[:31])


def test_nothing_listening_is_one_line():
    with socket.socket() as placeholder:  # a port that is surely free: bound, not listening
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
        with pytest.raises(ProbeClientError, match=f"tcp:127.0.0.1:{port}: cannot open") as e:
            ProbeClient.connect(f"tcp:127.0.0.1:{port}", timeout_s=1.0)
    assert "\n" not in str(e.value)


def test_a_reconnecting_ground_station_is_answered_again(probe):
    with ProbeClient.connect(probe.address) as first:
        assert first.set_mode("STANDBY").accepted
    with ProbeClient.connect(probe.address) as second:
        assert second.mode == "STANDBY"
        assert second.set_mode("HOVER").accepted


def test_messages_yields_telemetry_of_one_type(probe):
    with ProbeClient.connect(probe.address) as client:
        statuses = list(client.messages("PROBE_FAULT_STATUS", duration_s=0.7))
    assert statuses and all(m.get_type() == "PROBE_FAULT_STATUS" for m in statuses)


# -- against the flight software itself: prospector run --ground ----------------------


@pytest.fixture(scope="module")
def signed_run(tmp_path_factory):
    root = Path(__file__).resolve().parents[2]
    work = tmp_path_factory.mktemp("client-run")
    key_file = work / "probe.key"
    key_file.write_text(KEY.hex() + "\n")
    key_file.chmod(0o600)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = subprocess.Popen(
        [sys.executable, "-m", "prospector.cli", "run", "--scenario", "bennu-hover",
         "--duration", "600", "--realtime", "--no-report", "--out", str(work / "run"),
         "--ground", f"tcpin:127.0.0.1:{port}", "--signing-key", str(key_file)],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:  # wait until the probe listens (a connect and close is harmless)
            assert run.poll() is None and time.monotonic() < deadline, "the run never listened"
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield f"tcp:127.0.0.1:{port}"
    finally:
        if run.poll() is None:
            os.kill(run.pid, signal.SIGTERM)
            run.wait(30)


@pytest.mark.slow
def test_the_flight_software_answers_a_signed_client(signed_run):
    with ProbeClient.connect(signed_run, signing_key=KEY, timeout_s=30) as client:
        params = client.params()
        assert list(params) == [spec.name for spec in FLIGHT_PARAMS]
        assert client.set_param("HOV_ZETA", 1.25) == pytest.approx(1.25)
        assert client.set_mode("STANDBY").accepted
        for _ in client.messages("HEARTBEAT", duration_s=2.5):
            pass
        assert client.mode == "STANDBY"
        refused = client.command("START_TAG")  # only from HOVER
        assert refused.result == mavlink.MAV_RESULT_TEMPORARILY_REJECTED
        assert client.set_mode("HOVER").accepted


@pytest.mark.slow
def test_the_flight_software_ignores_an_unsigned_client(signed_run):
    # Unsigned, the client still hears the probe (pymavlink accepts what it cannot check),
    # but nothing it sends is acted on: no COMMAND_ACK ever comes.
    with ProbeClient.connect(signed_run, timeout_s=30) as client:
        with pytest.raises(ProbeClientError, match="no COMMAND_ACK"):
            client.set_mode("SAFE", timeout_s=3.0)
        status = client.recv("PROBE_LINK_STATUS", timeout_s=5.0)
        assert status is not None and status.rejected_unsigned >= 1
        assert client.mode != "SAFE"


@pytest.mark.slow
def test_a_wrong_key_hears_nothing_from_the_flight_software(signed_run):
    with pytest.raises(ProbeClientError, match="no HEARTBEAT"):
        ProbeClient.connect(signed_run, signing_key=OTHER_KEY, timeout_s=3.0)
