"""What a replay is given besides the log: its error type and parameter overrides.

`param_overrides` checks `--param NAME=VALUE` texts against the flight parameter
table; `ParamSetRewriter` puts the overridden values into the recorded PARAM_SET
frames the replay feeds the flight software.
"""

from flightsw.core.params import ParamTable
from flightsw.icd import mavlink, new_codec
from flightsw.params_table import FLIGHT_PARAMS


class ReplayError(Exception):
    """The replay cannot start (bad log, config, parameter, output dir); one line."""


def param_overrides(pairs: list[str]) -> dict[str, object]:
    """NAME=VALUE texts -> {name: value}, checked against the flight parameter table."""
    table = ParamTable(FLIGHT_PARAMS)
    out: dict[str, object] = {}
    for text in pairs:
        name, sep, value_text = text.partition("=")
        name, value_text = name.strip(), value_text.strip()
        if not sep or not name or not value_text:
            raise ReplayError(f"--param {text!r}: expected NAME=VALUE")
        if name not in table:
            raise ReplayError(f"--param {name}: unknown flight-software parameter "
                              f"(known: {', '.join(table.names)})")
        value = parse_param_value(table.spec(name).kind, value_text)
        reason = table.check(name, value) if value is not None else (
            f"expected {table.spec(name).expectation()}, got {value_text!r}")
        if reason is not None:
            raise ReplayError(f"--param {name}: {reason}")
        out[name] = value
    return out


def parse_param_value(kind: type, text: str):
    try:
        if kind is bool:
            return {"true": True, "false": False, "1": True, "0": False}.get(text.lower())
        if kind is int:
            return int(text)
        return float(text)
    except ValueError:
        return None


class ParamSetRewriter:
    def __init__(self, overrides: dict):
        self._overrides = overrides
        self._codec = new_codec(0, 0)

    def __call__(self, raw: bytes) -> bytes:
        msg = self._codec.decode(bytearray(raw))
        name = msg.param_id
        if name not in self._overrides:
            return raw
        hdr = msg.get_header()
        packer = new_codec(hdr.srcSystem, hdr.srcComponent)
        packer.seq = hdr.seq
        new = mavlink.MAVLink_param_set_message(
            msg.target_system, msg.target_component, name.encode("ascii"),
            float(self._overrides[name]), msg.param_type)
        return bytes(new.pack(packer))
