"""The probe in MAVProxy: `module load prospector`.

MAVProxy's `module load NAME` imports `MAVProxy.modules.mavproxy_NAME`, else a
plain importable `NAME`, and calls its `init(mpstate)`.  Our command-line
package is called `prospector`, so `prospector/__init__.py` has an `init` that
hands over to this module: installing the project is all MAVProxy needs.

What the module adds:

- `probe ...` commands (ground/probe_console.py: survey, site, tag, waveoff,
  mass, hover, dump, faults, key, cmd) built from the ground-command table and
  checked by its rules before sending; the probe's COMMAND_ACK is printed by
  name.
- `probe status` and `probe faults`, from the probe's last telemetry.
- The probe's mode names for MAVProxy's own `mode NAME` and for its prompt:
  MAVProxy asks the master connection for its mode mapping, which knows
  ArduPilot and PX4 only; for a master whose vehicle is our probe, the module
  answers with the ground-selectable modes (SAFE, STANDBY, HOVER) and names the
  HEARTBEAT's custom_mode.  The other modes are entered by their own commands
  (`probe survey`, `probe tag`, `probe mass ...`).
- MAVProxy's `param set` and `param load` with each parameter's own type (MAVProxy
  would send REAL32 for all, which the probe refuses for its integers and booleans).
- `probe key FILE`: the link's MAVLink 2 signing key from a key file (64 hex
  digits, private), on every master and on links added later; never printed.

The probe's own messages are decoded with our ICD even when MAVProxy was not
started with `--dialect prospector` (they then arrive as unknown messages).
"""

from __future__ import annotations

from MAVProxy.modules.lib import mp_module

from flightsw.hal.signing_key import SigningKeyError, load_signing_key
from flightsw.icd import FLIGHT_SYSTEM_ID, PROBE_MSG_ID_FIRST, PROBE_MSG_ID_LAST, mavlink, new_codec
from flightsw.icd.ground_commands import BY_ID, PROBE_COMPONENT_ID, PROBE_SYSTEM_ID, command_message
from flightsw.params_table import FLIGHT_PARAMS
from ground.probe_console import (
    LoadSigningKey,
    ProbeUsageError,
    SendCommand,
    ShowFaults,
    ShowStatus,
    fault_lines,
    mode_names_by_number,
    parse_probe_words,
    selectable_mode_numbers,
    status_lines,
)

PROBE_MAV_TYPE = mavlink.MAV_TYPE_SPACECRAFT_ORBITER
_PATCH_MARK = "_prospector_original_mode_mapping"


def is_probe_heartbeat(msg) -> bool:
    return (msg.get_type() == "HEARTBEAT" and msg.get_srcSystem() == FLIGHT_SYSTEM_ID
            and msg.type == PROBE_MAV_TYPE)


class ProspectorModule(mp_module.MPModule):
    def __init__(self, mpstate):
        # multi_vehicle: MAVProxy passes a single-vehicle module only messages whose source
        # is its target, and a message its dialect lacks has no source (0) until we decode it.
        super().__init__(mpstate, "prospector", "asteroid prospector probe", public=True,
                         multi_vehicle=True)
        self.add_command("probe", self.cmd_probe, "probe commands and status", [
            "<status|survey|site|tag|waveoff|mass|hover|dump|faults|key|cmd>",
            "faults <enable|disable|reset>",
        ])
        self.latest: dict[str, object] = {}  # the probe's last message of each type
        self._decoder = new_codec(0, 0)  # our ICD, for frames MAVProxy's dialect lacks
        self._signing_key: bytes | None = None
        # NAME -> MAV_PARAM_TYPE: this checkout's table, then what the probe says in PARAM_VALUE.
        self._param_types: dict[str, int] = {s.name: s.wire_type for s in FLIGHT_PARAMS}
        self._install_on_masters()
        self._remember_what_the_master_heard()

    # -- mode names for MAVProxy's `mode` and prompt ----------------------------------

    def _install_on_masters(self) -> None:
        for master in self.mpstate.mav_master:
            if hasattr(master, _PATCH_MARK):
                continue
            original = master.mode_mapping
            setattr(master, _PATCH_MARK, original)

            def mode_mapping(master=master, original=original):
                state = master.sysid_state.get(master.sysid)
                if master.sysid == FLIGHT_SYSTEM_ID and state is not None \
                        and state.mav_type == PROBE_MAV_TYPE:
                    return selectable_mode_numbers()
                return original()

            master.mode_mapping = mode_mapping
            master.message_hooks.append(_name_the_mode)
            master.param_set_send = self._typed_param_set_send(master, master.param_set_send)
            if self._signing_key is not None:
                master.setup_signing(self._signing_key, sign_outgoing=True)

    def _typed_param_set_send(self, master, original):
        """MAVProxy's `param set` / `param load` with the parameter's own MAV_PARAM_TYPE.

        For a vehicle that is not PX4, MAVProxy sends every PARAM_SET as REAL32
        (pymavlink's default) with the plain numeric value.  The value is right for
        the probe (C-cast encoding) but the probe refuses a type other than the
        parameter's, so an integer or boolean parameter could not be set; the type
        the probe announced in PARAM_VALUE is filled in instead.
        """

        def param_set_send(parm_name, parm_value, parm_type=None):
            if parm_type is None and master.target_system == FLIGHT_SYSTEM_ID:
                parm_type = self._param_types.get(str(parm_name).upper())
            return original(parm_name, parm_value, parm_type=parm_type)

        param_set_send.original = original
        return param_set_send

    def unload(self) -> None:
        for master in self.mpstate.mav_master:
            original = getattr(master, _PATCH_MARK, None)
            if original is None:
                continue
            master.mode_mapping = original
            master.param_set_send = getattr(master.param_set_send, "original",
                                            master.param_set_send)
            delattr(master, _PATCH_MARK)
            if _name_the_mode in master.message_hooks:
                master.message_hooks.remove(_name_the_mode)
        super().unload()

    def idle_task(self) -> None:
        self._install_on_masters()  # links added after loading (`link add ...`)

    # -- telemetry -------------------------------------------------------------------

    def mavlink_packet(self, m) -> None:
        if _unknown_probe_message(m):
            m = self._decode(m)  # MAVProxy's dialect lacks it (no header either: decode first)
            if m is None:
                return
        if m.get_srcSystem() != FLIGHT_SYSTEM_ID:
            return
        kind = m.get_type()
        self.latest[kind] = m
        if kind == "PARAM_VALUE":
            name = m.param_id.decode("ascii", "replace") if isinstance(m.param_id, bytes) \
                else m.param_id
            self._param_types[name.split("\0", 1)[0].upper()] = m.param_type
        if kind == "COMMAND_ACK" and m.command in BY_ID and self._addressed_to_us(m) and \
                m.result != mavlink.MAV_RESULT_IN_PROGRESS:
            entry = mavlink.enums["MAV_RESULT"].get(m.result)
            result = entry.name.removeprefix("MAV_RESULT_") if entry else str(m.result)
            print(f"probe: {BY_ID[m.command].name}: {result}")

    def _addressed_to_us(self, ack) -> bool:
        """An ACK for this MAVProxy (or broadcast), not for another sender on the uplink."""
        master = self.master
        if master is None:
            return False
        # The ids this MAVProxy sends with (its packer's; MAVProxy sets them after opening).
        return (ack.target_system in (0, master.mav.srcSystem)
                and ack.target_component in (0, master.mav.srcComponent))

    def _decode(self, m):
        """An unknown message of MAVProxy's dialect, decoded with our ICD (None if it fails)."""
        try:
            decoded = self._decoder.parse_buffer(bytes(m.get_msgbuf())) or []
        except Exception:  # a damaged frame is MAVProxy's to count, not ours to crash on
            return None
        return decoded[0] if decoded and decoded[0].get_type() != "BAD_DATA" else None

    def _remember_what_the_master_heard(self) -> None:
        """Status from before the module was loaded: mavutil keeps each type's last message."""
        master = self.master
        if master is None:
            return
        for msg in list(master.messages.values()):
            if not hasattr(msg, "get_type"):
                continue  # mavutil keeps itself there too, under "MAV"
            if _unknown_probe_message(msg):
                msg = self._decode(msg)
            if msg is not None and msg.get_srcSystem() == FLIGHT_SYSTEM_ID:
                self.latest.setdefault(msg.get_type(), msg)

    # -- the `probe` command -------------------------------------------------------------

    def cmd_probe(self, args) -> None:
        try:
            action = parse_probe_words(list(args))
        except ProbeUsageError as exc:
            print(f"probe: {exc}")
            return
        if isinstance(action, ShowStatus):
            for line in status_lines(self.latest):
                print(line)
        elif isinstance(action, ShowFaults):
            for line in fault_lines(self.latest.get("PROBE_FAULT_STATUS")):
                print(line)
        elif isinstance(action, LoadSigningKey):
            self._load_key(action.path)
        elif isinstance(action, SendCommand):
            self._send(action)

    def _send(self, action: SendCommand) -> None:
        if self.master is None:
            print("probe: no link to the probe")
            return
        msg = command_message(action.name, action.args)
        # Through MAVProxy's own packer, so its sequence numbers and signing apply.
        self.master.mav.command_long_send(
            PROBE_SYSTEM_ID, PROBE_COMPONENT_ID, msg.command, 0, msg.param1, msg.param2,
            msg.param3, msg.param4, msg.param5, msg.param6, msg.param7)
        shown = " ".join(f"{a:g}" for a in action.args)
        print(f"probe: sent {action.name} {shown}".rstrip())

    def _load_key(self, path: str) -> None:
        try:
            key = load_signing_key(path)
        except SigningKeyError as exc:
            print(f"probe: {exc}")
            return
        self._signing_key = key
        for master in self.mpstate.mav_master:
            master.setup_signing(key, sign_outgoing=True)
        signing = self.module("signing")
        if signing is not None:
            signing.saved_key = key  # MAVProxy's signing module signs links added later
        print(f"probe: signing key loaded from {path}; every frame sent is now signed")


def _unknown_probe_message(m) -> bool:
    """A message of our id block that MAVProxy's dialect could not decode.

    pymavlink names it UNKNOWN_<id> and gives it no header (its msgId reads -2).
    """
    kind = m.get_type()
    if not kind.startswith("UNKNOWN_") or not kind[8:].isdigit():
        return False
    return PROBE_MSG_ID_FIRST <= int(kind[8:]) <= PROBE_MSG_ID_LAST


def _name_the_mode(master, msg) -> None:
    """mavutil's message hook: the probe's HEARTBEAT names its mode (prompt, `Mode HOVER`)."""
    if is_probe_heartbeat(msg):
        name = mode_names_by_number().get(msg.custom_mode, f"Mode({msg.custom_mode})")
        master.sysid_state[msg.get_srcSystem()].flightmode = name


def init(mpstate):
    """MAVProxy's entry point for `module load prospector` (via prospector/__init__.py)."""
    return ProspectorModule(mpstate)
