"""A small stand-in for the flight side of the ground link, for the ground tools' tests.

It listens on 127.0.0.1 (TCP, one ground station at a time, reconnects
accepted), speaks the ICD with MAVLink 2 signing when given a key, answers the
parameter protocol with the flight software's own ParamTable and ParamService,
and acknowledges the commands of the ground-command table by the table's own
rules (arguments, modes).  It is not the flight software: it flies nothing;
the tests of `prospector run --ground` check the real one.
"""

from __future__ import annotations

import socket
import threading
import time

from flightsw.core.modes import Mode
from flightsw.core.params import ParamService, ParamTable
from flightsw.icd import FLIGHT_COMPONENT_ID, FLIGHT_SYSTEM_ID, GROUND_SYSTEM_ID, mavlink, new_codec
from flightsw.icd.ground_commands import BY_ID, GROUND_SELECTABLE_MODES
from flightsw.params_table import FLIGHT_PARAMS

TELEMETRY_PERIOD_S = 0.2  # faster than the probe's 1 Hz: tests need not wait


class FakeProbe:
    def __init__(self, signing_key: bytes | None = None, mode: Mode = Mode.HOVER) -> None:
        self.mode = mode
        self.survey_state = mavlink.PROBE_SURVEY_STATE_IDLE
        self.monitors_enabled = (1 << 16) - 1
        self.monitors_tripped = 0
        self.commands: list[tuple[str, tuple]] = []  # accepted commands, in order
        self.rejected_frames = 0
        self.drop_param_indices: set[int] = set()  # PARAM_VALUEs lost once (then sent again)
        self.table = ParamTable(FLIGHT_PARAMS)
        self._key = signing_key
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-probe", daemon=True)

    @property
    def address(self) -> str:
        return f"tcp:127.0.0.1:{self.port}"

    def __enter__(self) -> FakeProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self._listener.close()

    # -- the link ---------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                peer, _ = self._listener.accept()
            except TimeoutError:
                continue
            with peer:
                self._talk(peer)

    def _new_codec(self):
        codec = new_codec(FLIGHT_SYSTEM_ID, FLIGHT_COMPONENT_ID)
        if self._key is not None:
            codec.signing.secret_key = self._key
            codec.signing.sign_outgoing = True
            codec.signing.link_id = 0
            codec.signing.timestamp = int((time.time() - 1420070400) * 1e5)
        return codec

    def _talk(self, peer: socket.socket) -> None:
        peer.settimeout(0.02)
        codec = self._new_codec()
        params = ParamService(self.table, lambda msg: self._send_param(peer, codec, msg))
        next_telemetry = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_telemetry:
                    next_telemetry = now + TELEMETRY_PERIOD_S
                    for msg in self._telemetry():
                        self._send(peer, codec, msg)
                data = peer.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return  # the ground station went away; wait for the next one
            for msg in codec.parse_buffer(data) or []:
                if msg.get_type() == "BAD_DATA":
                    self.rejected_frames += 1
                elif msg.get_srcSystem() == GROUND_SYSTEM_ID and not params.handle(msg):
                    self._handle(peer, codec, msg)

    def _send(self, peer, codec, msg) -> None:
        peer.sendall(msg.pack(codec))

    def _send_param(self, peer, codec, msg) -> None:
        if msg.get_type() == "PARAM_VALUE" and msg.param_index in self.drop_param_indices:
            self.drop_param_indices.discard(msg.param_index)  # as if lost on the way down
            return
        self._send(peer, codec, msg)

    def _telemetry(self):
        yield mavlink.MAVLink_heartbeat_message(
            mavlink.MAV_TYPE_SPACECRAFT_ORBITER, mavlink.MAV_AUTOPILOT_GENERIC,
            mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, int(self.mode), mavlink.MAV_STATE_ACTIVE, 3)
        yield mavlink.MAVLink_probe_survey_status_message(
            0, self.survey_state, 0.25, 10, 40, 65535, 123, [0] * 7)
        yield mavlink.MAVLink_probe_fault_status_message(
            0, self.monitors_enabled, self.monitors_tripped, 0, [0] * 16, 0,
            mavlink.PROBE_SAFE_PHASE_NONE, 0, 0, 0.0, 0, 0.0)

    # -- commands -----------------------------------------------------------------

    def _handle(self, peer, codec, msg) -> None:
        if msg.get_type() != "COMMAND_LONG":
            return
        if msg.target_system != FLIGHT_SYSTEM_ID or \
                msg.target_component not in (FLIGHT_COMPONENT_ID, 0):  # 0: every component
            return  # not for us: no answer at all
        result = self._execute(msg)
        self._send(peer, codec, mavlink.MAVLink_command_ack_message(
            msg.command, result, 0, 0, msg.get_srcSystem(), msg.get_srcComponent()))

    def _execute(self, msg) -> int:
        spec = BY_ID.get(msg.command)
        if spec is None:
            return mavlink.MAV_RESULT_UNSUPPORTED
        params = (msg.param1, msg.param2, msg.param3, msg.param4, msg.param5, msg.param6,
                  msg.param7)
        if spec.name == "SET_MODE":
            names = {int(Mode[n]): n for n in GROUND_SELECTABLE_MODES}
            if msg.param2 not in names:
                return mavlink.MAV_RESULT_DENIED
            self.mode = Mode[names[int(msg.param2)]]
            self.commands.append((spec.name, (names[int(msg.param2)],)))
            return mavlink.MAV_RESULT_ACCEPTED
        if spec.allowed_modes is not None and self.mode.name not in spec.allowed_modes:
            return mavlink.MAV_RESULT_TEMPORARILY_REJECTED
        if spec.validate(params) is not None:
            return mavlink.MAV_RESULT_DENIED
        args = params[:len(spec.args)]
        self.commands.append((spec.name, args))
        if spec.name == "START_SURVEY":
            self.mode, self.survey_state = Mode.SURVEY, mavlink.PROBE_SURVEY_STATE_TO_STATION
        elif spec.name == "START_TAG":
            self.mode = Mode.DESCENT
        elif spec.name == "MONITOR_ENABLE":
            bit = 1 << int(args[0])
            self.monitors_enabled = (self.monitors_enabled | bit if args[1]
                                     else self.monitors_enabled & ~bit)
        elif spec.name == "MONITOR_RESET":
            self.monitors_tripped &= ~(1 << int(args[0]))
        return mavlink.MAV_RESULT_ACCEPTED
