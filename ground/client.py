"""ProbeClient: operate the probe from a Python script over its ground link.

    from ground.client import ProbeClient
    with ProbeClient.connect("tcp:127.0.0.1:5760", signing_key=key) as probe:
        probe.set_mode("HOVER")
        ack = probe.command("START_SURVEY", 600)
        print(probe.mode, ack.result_name, len(probe.params()))

The connection is pymavlink's (`mavutil.mavlink_connection`: `tcp:HOST:PORT`
to a probe listening with `--ground tcpin:...`, `udpin:HOST:PORT` to receive
from a probe sending with `--ground udpout:...`), but the frames are packed and
parsed by our own ICD module rather than by whichever dialect pymavlink has
installed, so the client decodes exactly what this checkout's flight software
sends.  Commands are built from the ground-command table
(flightsw.icd.ground_commands), the one place their ids and arguments live.

Every failure is a ProbeClientError with a one-line message; the signing key
never appears in one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pymavlink import mavutil

from flightsw.core.modes import Mode
from flightsw.hal.signing_key import SigningKeyError, load_signing_key
from flightsw.icd import (
    FLIGHT_COMPONENT_ID,
    FLIGHT_SYSTEM_ID,
    GROUND_COMPONENT_ID,
    GROUND_SYSTEM_ID,
    mavlink,
)
from flightsw.icd.ground_commands import BY_NAME, GROUND_SELECTABLE_MODES, command_message

SIGNING_KEY_BYTES = 32
_INTEGER_PARAM_TYPES = frozenset({
    mavlink.MAV_PARAM_TYPE_UINT8, mavlink.MAV_PARAM_TYPE_INT8,
    mavlink.MAV_PARAM_TYPE_UINT16, mavlink.MAV_PARAM_TYPE_INT16,
    mavlink.MAV_PARAM_TYPE_UINT32, mavlink.MAV_PARAM_TYPE_INT32,
})
# How long one poll of the socket may block: short, so a deadline is kept to ~10 ms.
_POLL_S = 0.01


class ProbeClientError(Exception):
    """Anything the client cannot do; str() is one line."""


@dataclass(frozen=True)
class CommandAck:
    """The probe's COMMAND_ACK to one command of the table."""

    command: str  # the table's name, e.g. "START_SURVEY"
    result: int  # MAV_RESULT

    @property
    def result_name(self) -> str:
        entry = mavlink.enums["MAV_RESULT"].get(self.result)
        return entry.name.removeprefix("MAV_RESULT_") if entry else f"MAV_RESULT({self.result})"

    @property
    def accepted(self) -> bool:
        return self.result == mavlink.MAV_RESULT_ACCEPTED


def _signing_key_bytes(signing_key: bytes | str | Path | None) -> bytes | None:
    """The 32-byte secret: given as bytes, or read from a key file (64 hex digits)."""
    if signing_key is None:
        return None
    if isinstance(signing_key, bytes | bytearray):
        if len(signing_key) != SIGNING_KEY_BYTES:
            raise ProbeClientError(f"signing key: expected {SIGNING_KEY_BYTES} bytes, "
                                   f"got {len(signing_key)}")
        return bytes(signing_key)
    try:
        return load_signing_key(signing_key)
    except SigningKeyError as exc:
        raise ProbeClientError(str(exc)) from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class ProbeClient:
    """One ground station's connection to the probe (system 1, component 1)."""

    def __init__(self, connection, address: str = "") -> None:
        self._conn = connection
        self._address = address or getattr(connection, "address", "")
        self.latest: dict[str, object] = {}  # last message of each type from the probe
        self._param_types: dict[str, int] = {}

    # -- connecting ----------------------------------------------------------

    @classmethod
    def connect(
        cls,
        address: str,
        signing_key: bytes | str | Path | None = None,
        timeout_s: float = 5.0,
    ) -> ProbeClient:
        """Open `address` (a pymavlink connection string) and wait for the probe's HEARTBEAT.

        `signing_key`: the 32-byte secret (or the path of its key file); every
        frame sent is then signed and only frames signed with it are accepted.
        """
        key = _signing_key_bytes(signing_key)
        if not isinstance(address, str) or not address:
            raise ProbeClientError(f"connection string: expected e.g. tcp:127.0.0.1:5760, "
                                   f"got {address!r}")
        try:
            conn = mavutil.mavlink_connection(
                address, source_system=GROUND_SYSTEM_ID, source_component=GROUND_COMPONENT_ID,
                retries=0)
        except Exception as exc:  # pymavlink raises what the transport raises
            raise ProbeClientError(f"{address}: cannot open: {_one_line(exc)}") from None
        if conn is None:
            raise ProbeClientError(f"{address}: cannot open: pymavlink gave no connection")
        _use_our_dialect(conn)
        if key is not None:
            conn.setup_signing(key, sign_outgoing=True)
        client = cls(conn, address)
        try:
            client.wait_heartbeat(timeout_s)
        except ProbeClientError:
            client.close()
            raise
        return client

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def __enter__(self) -> ProbeClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- receiving -------------------------------------------------------------

    def recv(self, types: str | Iterable[str] | None = None, timeout_s: float = 1.0):
        """The next message from the probe (of `types`, if given), or None at the timeout."""
        wanted = None if types is None else ({types} if isinstance(types, str) else set(types))
        deadline = time.monotonic() + timeout_s
        while True:
            msg = self._recv_one()
            if msg is not None:
                if wanted is None or msg.get_type() in wanted:
                    return msg
                continue
            if time.monotonic() >= deadline:
                return None
            self._conn.select(_POLL_S)

    def messages(self, types: str | Iterable[str], duration_s: float) -> Iterator:
        """Every message of `types` the probe sends within `duration_s`."""
        deadline = time.monotonic() + duration_s
        while (left := deadline - time.monotonic()) > 0:
            msg = self.recv(types, left)
            if msg is not None:
                yield msg

    def _recv_one(self):
        """One parsed message from the probe, without waiting; None if none is ready."""
        if self._conn is None:
            raise ProbeClientError(f"{self._address}: connection closed")
        while True:
            try:
                msg = self._conn.recv_msg()
            except OSError as exc:
                raise ProbeClientError(f"{self._address}: link lost: {_one_line(exc)}") from None
            if msg is None:
                return None
            if msg.get_type() == "BAD_DATA" or msg.get_srcSystem() != FLIGHT_SYSTEM_ID:
                continue
            self.latest[msg.get_type()] = msg
            return msg

    def wait_heartbeat(self, timeout_s: float = 5.0):
        msg = self.recv("HEARTBEAT", timeout_s)
        if msg is None:
            raise ProbeClientError(f"{self._address}: no HEARTBEAT from the probe within "
                                   f"{timeout_s:g} s")
        return msg

    @property
    def mode(self) -> str:
        """The flight mode of the last HEARTBEAT (e.g. "HOVER")."""
        heartbeat = self.latest.get("HEARTBEAT")
        if heartbeat is None:
            raise ProbeClientError(f"{self._address}: no HEARTBEAT received yet")
        try:
            return Mode(heartbeat.custom_mode).name
        except ValueError:
            return f"MODE({heartbeat.custom_mode})"

    # -- commanding --------------------------------------------------------------

    def send(self, msg) -> None:
        """Send one ICD message (signed when a key is set up)."""
        if self._conn is None:
            raise ProbeClientError(f"{self._address}: connection closed")
        try:
            self._conn.mav.send(msg)
        except OSError as exc:
            raise ProbeClientError(f"{self._address}: cannot send: {_one_line(exc)}") from None

    def command(self, name: str, *args, timeout_s: float = 2.0) -> CommandAck:
        """Send a command of the ground-command table and return the probe's COMMAND_ACK.

        `args` as the table lists them (a mode name for SET_MODE); the probe
        judges the values and answers with a MAV_RESULT.
        """
        spec = BY_NAME.get(name)
        if spec is None or spec.command_id is None:
            known = ", ".join(n for n, c in BY_NAME.items() if c.command_id is not None)
            raise ProbeClientError(f"command {name!r}: not a command of the table ({known})")
        if not spec.required_args <= len(args) <= len(spec.args):
            wanted = " ".join(a.name for a in spec.args) or "no arguments"
            raise ProbeClientError(f"command {name}: expected {wanted}, got {len(args)} "
                                   "argument(s)")
        if name != "SET_MODE":
            for arg, value in zip(spec.args, args, strict=False):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ProbeClientError(f"command {name}: {arg.name} must be a number, "
                                           f"got {value!r}")
        self.send(command_message(name, tuple(args)))
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            ack = self.recv("COMMAND_ACK", left)
            if (ack is not None and ack.command == spec.command_id
                    and ack.result != mavlink.MAV_RESULT_IN_PROGRESS):
                return CommandAck(name, ack.result)
        raise ProbeClientError(f"command {name}: no COMMAND_ACK within {timeout_s:g} s")

    def set_mode(self, name: str, timeout_s: float = 2.0) -> CommandAck:
        """MAV_CMD_DO_SET_MODE to a ground-selectable mode (SAFE, STANDBY, HOVER)."""
        mode = str(name).upper()
        if mode not in GROUND_SELECTABLE_MODES:
            raise ProbeClientError(f"mode {name!r}: the ground selects only "
                                   f"{', '.join(GROUND_SELECTABLE_MODES)}")
        return self.command("SET_MODE", mode, timeout_s=timeout_s)

    # -- parameters ----------------------------------------------------------------

    def params(self, timeout_s: float = 5.0, retries: int = 3) -> dict[str, float | int]:
        """Every parameter, by PARAM_REQUEST_LIST, in index order; missing ones re-read."""
        self.send(mavlink.MAVLink_param_request_list_message(FLIGHT_SYSTEM_ID,
                                                             FLIGHT_COMPONENT_ID))
        by_index: dict[int, tuple[str, float | int]] = {}
        count = None
        for attempt in range(retries + 1):
            deadline = time.monotonic() + timeout_s
            while (count is None or len(by_index) < count) and time.monotonic() < deadline:
                msg = self.recv("PARAM_VALUE", deadline - time.monotonic())
                if msg is None:
                    break
                count = msg.param_count
                if 0 <= msg.param_index < count:
                    by_index[msg.param_index] = self._remember(msg)
            if count is not None and len(by_index) >= count:
                return {name: value for _, (name, value) in sorted(by_index.items())}
            if count is None or attempt == retries:
                break
            for index in sorted(set(range(count)) - set(by_index)):
                self.send(mavlink.MAVLink_param_request_read_message(
                    FLIGHT_SYSTEM_ID, FLIGHT_COMPONENT_ID, b"", index))
        got = f"{len(by_index)} of {count}" if count is not None else "none"
        raise ProbeClientError(f"{self._address}: parameter list incomplete ({got} received "
                               f"within {timeout_s:g} s, {retries} retries)")

    def param(self, name: str, timeout_s: float = 2.0) -> float | int:
        """One parameter's value, by PARAM_REQUEST_READ."""
        self.send(mavlink.MAVLink_param_request_read_message(
            FLIGHT_SYSTEM_ID, FLIGHT_COMPONENT_ID, _param_id(name), -1))
        return self._await_param(name, timeout_s, "read")

    def set_param(self, name: str, value: float | int | bool, timeout_s: float = 2.0):
        """PARAM_SET with the parameter's own type; returns the value the probe now holds.

        A refusal (PARAM_ERROR) raises ProbeClientError naming the parameter and why.
        """
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int | float):
            raise ProbeClientError(f"parameter {name}: value must be a number, got {value!r}")
        if name not in self._param_types:
            self.param(name, timeout_s)
        self.send(mavlink.MAVLink_param_set_message(
            FLIGHT_SYSTEM_ID, FLIGHT_COMPONENT_ID, _param_id(name), float(value),
            self._param_types[name]))
        return self._await_param(name, timeout_s, "set")

    def _await_param(self, name: str, timeout_s: float, verb: str):
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            msg = self.recv(("PARAM_VALUE", "PARAM_ERROR"), left)
            if msg is None or _text(msg.param_id) != name:
                continue
            if msg.get_type() == "PARAM_ERROR":
                entry = mavlink.enums["MAV_PARAM_ERROR"].get(msg.error)
                why = entry.name.removeprefix("MAV_PARAM_ERROR_") if entry else str(msg.error)
                raise ProbeClientError(f"parameter {name}: {verb} refused by the probe: {why}")
            return self._remember(msg)[1]
        raise ProbeClientError(f"parameter {name}: no PARAM_VALUE within {timeout_s:g} s")

    def _remember(self, msg) -> tuple[str, float | int]:
        name = _text(msg.param_id)
        self._param_types[name] = msg.param_type
        value = msg.param_value
        if msg.param_type in _INTEGER_PARAM_TYPES:
            value = int(value)  # C-cast encoding: integers travel as their numeric value
        return name, value


def _use_our_dialect(conn) -> None:
    """Pack and parse with our ICD module, whatever dialect pymavlink has loaded.

    Marked as MAVLink 2 and past its first byte, so that mavutil does not swap
    the parser back to its global dialect when the first MAVLink 2 frame arrives.
    """
    conn.mav = mavlink.MAVLink(conn, srcSystem=GROUND_SYSTEM_ID,
                               srcComponent=GROUND_COMPONENT_ID)
    conn.mav.robust_parsing = True
    conn.WIRE_PROTOCOL_VERSION = "2.0"
    conn.first_byte = False


def _param_id(name: str) -> bytes:
    try:
        encoded = str(name).encode("ascii")
    except UnicodeEncodeError:
        raise ProbeClientError(f"parameter {name!r}: names are ASCII") from None
    if not 0 < len(encoded) <= 16:
        raise ProbeClientError(f"parameter {name!r}: names are 1-16 characters")
    return encoded


def _text(param_id) -> str:
    if isinstance(param_id, bytes):
        param_id = param_id.decode("ascii", errors="replace")
    return param_id.split("\0", 1)[0]
