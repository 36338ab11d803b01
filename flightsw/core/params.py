"""The parameter table: named, typed, bounded tunables, and their MAVLink service.

Each parameter is declared once by a `ParamSpec` (kind, default, range,
units). `ParamTable.set` either applies a valid value or rejects it and leaves
the table as it was; the result is a `CommandResult`:

- INVALID_PARAM for an unknown name as well as for a bad value (wrong type,
  NaN or infinite, out of range). The parameter name is an argument of the
  set operation, like a command parameter; UNSUPPORTED is kept for unknown
  operations.

On the wire (PARAM_VALUE / PARAM_SET) every value is a float32, using the
C-cast encoding (MAV_PROTOCOL_CAPABILITY_PARAM_ENCODE_C_CAST): floats are
REAL32, ints INT32 travelling as their numeric value, bools UINT8 as 0.0/1.0.
So that the cast is exact, int parameters are limited to +-2**24. A float set
from the wire (`set(..., wire=True)`) is judged in float32: a ground station
writing back the float32 it read keeps the exact stored double, and a value
that is only outside the range by float32 rounding is clamped to the bound.

`save`/`load` use a small TOML file (`NAME = value  # units: description`).
They are for the runner and the ground, not for flight tasks. `load` checks
every entry before applying any: a bad file raises `ParamFileError` (one line
naming the file, the parameter and what was expected) and changes nothing.
"""

from __future__ import annotations

import math
import numbers
import re
import struct
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flightsw.core.commands import CommandResult
from flightsw.core.events import Severity
from flightsw.icd import mavlink

if TYPE_CHECKING:
    from flightsw.core.events import EventLog

PARAM_ID_LEN = 16  # PARAM_VALUE.param_id is char[16]
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}")
INT_WIRE_LIMIT = 2**24  # every int up to this survives a float32 cast exactly
FLOAT32_MAX = 3.4028234663852886e38

WIRE_TYPE = {
    float: mavlink.MAV_PARAM_TYPE_REAL32,
    int: mavlink.MAV_PARAM_TYPE_INT32,
    bool: mavlink.MAV_PARAM_TYPE_UINT8,
}

ParamValue = float | int | bool


def to_float32(x: float) -> float:
    """The nearest float32 of `x`, as a Python float (what the wire carries)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


class ParamFileError(ValueError):
    """A parameter file that cannot be loaded; str() is one line."""


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: type
    default: ParamValue
    min: ParamValue | None = None
    max: ParamValue | None = None
    units: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME_RE.fullmatch(self.name):
            raise ValueError(
                f"parameter name {self.name!r} must be 1-{PARAM_ID_LEN} ASCII letters, digits "
                "or '_', starting with a letter (MAVLink param_id)"
            )
        if self.kind not in WIRE_TYPE:
            raise ValueError(f"parameter {self.name}: kind must be float, int or bool")
        for text, what in ((self.units, "units"), (self.description, "description")):
            if not isinstance(text, str) or "\n" in text or "\r" in text:
                raise ValueError(f"parameter {self.name}: {what} must be a one-line str")
        if self.kind is bool:
            if self.min is not None or self.max is not None:
                raise ValueError(f"parameter {self.name}: a bool has no min/max")
        else:
            for bound, what in ((self.min, "min"), (self.max, "max")):
                if bound is not None and _type_error(self.kind, bound, self._limit()):
                    raise ValueError(f"parameter {self.name}: {what}={bound!r} is not a valid "
                                     f"{self.kind.__name__}")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"parameter {self.name}: min {self.min} > max {self.max}")
        _, reason = validate_value(self, self.default)
        if reason is not None:
            raise ValueError(f"parameter {self.name}: default: {reason}")

    @property
    def wire_type(self) -> int:
        return WIRE_TYPE[self.kind]

    def _limit(self) -> float:
        return INT_WIRE_LIMIT if self.kind is int else FLOAT32_MAX

    def expectation(self) -> str:
        """What a valid value looks like, e.g. 'float in [0.0, 10.0] m'."""
        if self.kind is bool:
            return "bool (true or false)"
        lo = self.min if self.min is not None else -self._limit()
        hi = self.max if self.max is not None else self._limit()
        units = f" {self.units}" if self.units else ""
        return f"{self.kind.__name__} in [{lo}, {hi}]{units}"


def _type_error(kind: type, value: object, limit: float) -> bool:
    """True when `value` is not usable as a `kind` (range aside)."""
    if isinstance(value, bool):
        return kind is not bool
    if kind is bool:
        return True
    if kind is int:
        return not isinstance(value, numbers.Integral) or abs(int(value)) > limit
    return not isinstance(value, numbers.Real) or not math.isfinite(value) or abs(value) > limit


def validate_value(spec: ParamSpec, value: object) -> tuple[ParamValue | None, str | None]:
    """(the value converted to the spec's kind, None) or (None, why it is refused)."""
    refused = f"expected {spec.expectation()}, got {value!r}"
    if _type_error(spec.kind, value, spec._limit()):
        return None, refused
    converted = spec.kind(value)
    if spec.min is not None and converted < spec.min:
        return None, refused
    if spec.max is not None and converted > spec.max:
        return None, refused
    return converted, None


class ParamTable:
    """The current value of every parameter, changed only by validated sets."""

    def __init__(self, specs: Iterable[ParamSpec]) -> None:
        self._specs: dict[str, ParamSpec] = {}
        for spec in specs:
            if not isinstance(spec, ParamSpec):
                raise TypeError(f"expected ParamSpec, got {spec!r}")
            if spec.name in self._specs:
                raise ValueError(f"parameter {spec.name} declared twice")
            self._specs[spec.name] = spec
        self._names = list(self._specs)
        # Through validate_value so a float parameter declared with default 1 holds 1.0.
        self._values: dict[str, ParamValue] = {
            n: validate_value(s, s.default)[0] for n, s in self._specs.items()
        }
        self._listeners: list[tuple[Callable, frozenset[str] | None]] = []

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    @property
    def names(self) -> list[str]:
        """Parameter names in declaration order (their MAVLink param_index)."""
        return list(self._names)

    def spec(self, name: str) -> ParamSpec:
        return self._specs[name]

    def index(self, name: str) -> int:
        return self._names.index(name)

    def get(self, name: str) -> ParamValue:
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(f"unknown parameter {name!r}") from None

    def to_dict(self) -> dict[str, ParamValue]:
        return dict(self._values)

    def on_change(
        self, listener: Callable[[str, ParamValue, ParamValue], None],
        names: Iterable[str] | None = None,
    ) -> None:
        """Call `listener(name, old, new)` when a parameter (of `names`, or any) changes."""
        if not callable(listener):
            raise TypeError(f"listener must be callable, got {listener!r}")
        selected = None if names is None else frozenset(names)
        unknown = sorted(selected - set(self._specs)) if selected else []
        if unknown:
            raise KeyError(f"unknown parameters {unknown}")
        self._listeners.append((listener, selected))

    def check(self, name: str, value: object, *, wire: bool = False) -> str | None:
        """Why `set(name, value)` would be refused, or None if it would be applied."""
        return self._resolve(name, value, wire)[1]

    def set(self, name: str, value: object, *, wire: bool = False) -> CommandResult:
        """Apply `value` if valid (ACCEPTED), else INVALID_PARAM and nothing changes.

        `wire=True`: `value` is the float32 of a PARAM_SET (see module doc).
        """
        new, reason = self._resolve(name, value, wire)
        if reason is not None:
            return CommandResult.INVALID_PARAM
        self._apply(name, new)
        return CommandResult.ACCEPTED

    def _resolve(self, name, value, wire) -> tuple[ParamValue | None, str | None]:
        spec = self._specs.get(name) if isinstance(name, str) else None
        if spec is None:
            return None, f"unknown parameter {name!r}"
        if wire:
            value = self._from_wire(spec, value)
        return validate_value(spec, value)

    def _from_wire(self, spec: ParamSpec, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return value  # refused by validate_value with a clear reason
        value = float(value)
        if spec.kind is bool:
            return {0.0: False, 1.0: True}.get(value, value)
        if spec.kind is int:
            return int(value) if value.is_integer() else value
        if not math.isfinite(value):
            return value
        # Prefer the exact doubles a float32 could only approximate.
        for exact in (self._values[spec.name], spec.default):
            if to_float32(exact) == value:
                return exact
        if spec.min is not None and to_float32(spec.min) <= value < spec.min:
            return spec.min
        if spec.max is not None and spec.max < value <= to_float32(spec.max):
            return spec.max
        return value

    def _apply(self, name: str, new: ParamValue) -> None:
        old = self._values[name]
        if type(old) is type(new) and old == new:
            return
        self._values[name] = new
        for listener, selected in self._listeners:
            if selected is None or name in selected:
                listener(name, old, new)

    # -- the parameter file (runner and ground side) --------------------------

    def dumps(self) -> str:
        lines = ["# Prospector parameter table: NAME = value  # units: description"]
        for name in self._names:
            spec, value = self._specs[name], self._values[name]
            text = ("true" if value else "false") if spec.kind is bool else repr(value)
            note = ": ".join(t for t in (spec.units, spec.description) if t)
            lines.append(f"{name} = {text}" + (f"  # {note}" if note else ""))
        return "\n".join(lines) + "\n"

    def loads(self, text: str, source: str = "<string>") -> None:
        """Apply a parameter file's text, all or nothing; unlisted parameters keep their value."""
        try:
            entries = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ParamFileError(
                f"{source}: not a valid parameter file: {_one_line(exc)}"
            ) from None
        resolved: dict[str, ParamValue] = {}
        for name, value in entries.items():
            spec = self._specs.get(name)
            if spec is None:
                raise ParamFileError(f"{source}: parameter {name!r}: no such parameter")
            new, reason = validate_value(spec, value)
            if reason is not None:
                raise ParamFileError(f"{source}: parameter {name!r}: {_one_line(reason)}")
            resolved[name] = new
        for name in self._names:  # declaration order, whatever the file's order
            if name in resolved:
                self._apply(name, resolved[name])

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.dumps(), encoding="utf-8")

    def load(self, path: str | Path) -> None:
        from flightsw.input_file import InputFileError, read_input  # host side only

        try:
            text = read_input(path, 1 << 20, "parameter file").decode("utf-8")
        except InputFileError as exc:
            problem = str(exc).removeprefix(f"{path}: ")
            raise ParamFileError(f"{path}: cannot read: {_one_line(problem)}") from None
        except UnicodeDecodeError as exc:
            raise ParamFileError(f"{path}: cannot read: {_one_line(exc)}") from None
        self.loads(text, source=str(path))


def _one_line(x: object) -> str:
    return " ".join(str(x).split())


class ParamService:
    """Answers the MAVLink parameter protocol from a ParamTable.

    PARAM_SET: applies the value and always replies PARAM_VALUE with the value
    now held (the old one when refused), plus an event. A refused value (out of
    range, wrong type for an integer, or a param_type other than the
    parameter's wire type) also gets PARAM_ERROR (VALUE_OUT_OF_RANGE) and
    changes nothing. Unknown names or indices get PARAM_ERROR (DOES_NOT_EXIST)
    and a warning event.

    PARAM_REQUEST_LIST: every parameter as PARAM_VALUE, in index order, with
    param_count and param_index.  With `values_per_cycle` set, the list goes out
    that many values per `send_pending()` call (a task at the control rate) so a
    long table never overruns one task's budget; a new request restarts it.
    """

    def __init__(
        self, table: ParamTable, send: Callable[[object], None], events: EventLog | None = None,
        values_per_cycle: int | None = None,
    ) -> None:
        if not callable(send):
            raise TypeError(f"send must be callable, got {send!r}")
        if values_per_cycle is not None and values_per_cycle < 1:
            raise ValueError(f"values_per_cycle must be >= 1, got {values_per_cycle}")
        self._table = table
        self._send = send
        self._events = events
        self._values_per_cycle = values_per_cycle
        self._list_next: int | None = None  # index of the next value of a list being sent

    def send_pending(self, t_us: int | None = None) -> int:
        """Send the next values of a PARAM_REQUEST_LIST in progress; returns how many."""
        if self._list_next is None:
            return 0
        names = self._table.names
        count = len(names) if self._values_per_cycle is None else self._values_per_cycle
        end = min(len(names), self._list_next + count)
        for name in names[self._list_next:end]:
            self._send_value(name)
        sent = end - self._list_next
        self._list_next = None if end >= len(names) else end
        return sent

    def handle(self, msg) -> bool:
        """Handle a PARAM_* request; False for any other message."""
        kind = msg.get_type()
        if kind == "PARAM_SET":
            self._handle_set(msg)
        elif kind == "PARAM_REQUEST_LIST":
            self._list_next = 0
            if self._values_per_cycle is None:
                self.send_pending()
        elif kind == "PARAM_REQUEST_READ":
            if msg.param_index >= 0:
                names = self._table.names
                name = names[msg.param_index] if msg.param_index < len(names) else None
            else:
                name = _param_name(msg.param_id)
            if name in self._table:
                self._send_value(name)
            else:
                self._does_not_exist(msg, _param_name(msg.param_id), msg.param_index)
        else:
            return False
        return True

    def value_message(self, name: str):
        spec, value = self._table.spec(name), self._table.get(name)
        return mavlink.MAVLink_param_value_message(
            name.encode("ascii"),
            float(value),
            spec.wire_type,
            len(self._table),
            self._table.index(name),
        )

    def _send_value(self, name: str) -> None:
        self._send(self.value_message(name))

    def _handle_set(self, msg) -> None:
        name = _param_name(msg.param_id)
        if name not in self._table:
            self._does_not_exist(msg, name, -1)
            return
        spec = self._table.spec(name)
        if msg.param_type != spec.wire_type:
            reason = f"param_type {msg.param_type}, expected {spec.wire_type}"
        else:
            reason = self._table.check(name, msg.param_value, wire=True)
        if reason is None:
            old = self._table.get(name)
            self._table.set(name, msg.param_value, wire=True)
            self._event(Severity.INFO, f"{name} = {self._table.get(name)!r} (was {old!r})")
        else:
            self._event(Severity.WARNING, f"{name} refused: {reason}")
            # The result code of the refusal (common.xml has no type-mismatch code, so a
            # wrong param_type is reported as a value the parameter cannot take).
            self._send(mavlink.MAVLink_param_error_message(
                msg.get_srcSystem(), msg.get_srcComponent(),
                name.encode("ascii", errors="replace")[:PARAM_ID_LEN], -1,
                mavlink.MAV_PARAM_ERROR_VALUE_OUT_OF_RANGE))
        # The protocol's answer either way: PARAM_VALUE with the value now held.
        self._send_value(name)

    def _does_not_exist(self, msg, name: str, index: int) -> None:
        self._event(Severity.WARNING, f"no parameter {name!r} (index {index})")
        self._send(
            mavlink.MAVLink_param_error_message(
                msg.get_srcSystem(),
                msg.get_srcComponent(),
                name.encode("ascii", errors="replace")[:PARAM_ID_LEN],
                index,
                mavlink.MAV_PARAM_ERROR_DOES_NOT_EXIST,
            )
        )

    def _event(self, severity: Severity, text: str) -> None:
        if self._events is not None:
            self._events.emit(severity, "params", text)


def _param_name(param_id: str | bytes) -> str:
    if isinstance(param_id, bytes):
        param_id = param_id.split(b"\0", 1)[0].decode("ascii", errors="replace")
    return param_id.split("\0", 1)[0]
