"""Commands: a small closed set of results and one dispatch path.

Every command, whether it arrives as COMMAND_LONG over the Bus or comes from
a scenario's time-tagged command sequence, goes through the same checks in
the same order and is answered by exactly one COMMAND_ACK:

1. unknown command id                      -> UNSUPPORTED
2. a used parameter NaN or infinite         -> INVALID_PARAM
3. current mode not among the allowed ones -> WRONG_MODE
4. the command's validator objects          -> INVALID_PARAM
5. the handler raises                      -> FAILED (and an ERROR event)
6. otherwise                               -> whatever the handler returns

A command rejected in steps 1-4 never reaches its handler, so it changes
nothing; a handler that returns a rejection must likewise leave state alone.

MAV_RESULT is coarser than our set (WRONG_MODE and BUSY are both
TEMPORARILY_REJECTED), so COMMAND_ACK.result_param2 carries our exact
CommandResult code and the distinction survives the wire.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flightsw.core.command_result import CommandResult
from flightsw.core.events import Severity
from flightsw.core.modes import GROUND_SELECTABLE, Mode
from flightsw.icd import mavlink
from flightsw.icd.ground_commands import BY_NAME as GROUND_COMMAND_TABLE

if TYPE_CHECKING:
    from flightsw.core.events import EventLog
    from flightsw.core.modes import ModeManager

N_COMMAND_PARAMS = 7
_UINT16_MAX = 0xFFFF


Params = tuple[float, float, float, float, float, float, float]
Handler = Callable[[Params], CommandResult]
# A validator returns None when the parameters are acceptable, else a short
# reason (it goes into the event the operator reads).
Validator = Callable[[Params], "str | None"]


def command_name(command_id: int) -> str:
    entry = mavlink.enums["MAV_CMD"].get(command_id)
    return entry.name if entry is not None else f"CMD_{command_id}"


@dataclass(frozen=True)
class _Registration:
    handler: Handler
    allowed_modes: frozenset | None
    validate: Validator | None
    unused_params: frozenset[int]  # 1-based, as MAVLink numbers them


class CommandDispatcher:
    """Routes commands to handlers and acknowledges each exactly once.

    `modes` (a ModeManager or None) enables per-command allowed modes and
    registers MAV_CMD_DO_SET_MODE; `events` (an EventLog or None) receives one
    event per command; `send` is the Bus port for COMMAND_ACK.
    """

    def __init__(
        self,
        modes: ModeManager | None,
        events: EventLog | None,
        send: Callable[[object], None],
    ) -> None:
        if not callable(send):
            raise TypeError(f"send must be callable, got {send!r}")
        self._modes = modes
        self._events = events
        self._send = send
        self._commands: dict[int, _Registration] = {}
        # Who sent the command being handled, for handlers that log a reason.
        self.current_source = ""
        if modes is not None:
            self.register(
                mavlink.MAV_CMD_DO_SET_MODE,
                self._set_mode,
                validate=_validate_custom_mode,
                # The probe has no MAVLink base modes: the mode is always
                # param2 (custom mode), whatever param1 says.
                unused_params=(1, 3, 4, 5, 6, 7),
            )

    def register(
        self,
        command_id: int,
        handler: Handler,
        allowed_modes: Iterable | None = None,
        validate: Validator | None = None,
        unused_params: Iterable[int] = (),
    ) -> None:
        """Route `command_id` to `handler(params) -> CommandResult`.

        `allowed_modes`: modes in which the command may run (None: any).
        `validate(params)`: None if acceptable, else a reason.
        `unused_params`: 1-based indices of parameters the command ignores;
        those may be NaN (the MAVLink convention for "unused"), all others
        must be finite.
        """
        command_id = _check_command_id(command_id)
        if command_id in self._commands:
            raise ValueError(f"command {command_name(command_id)} is already registered")
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {handler!r}")
        if validate is not None and not callable(validate):
            raise TypeError(f"validate must be callable or None, got {validate!r}")
        modes = None
        if allowed_modes is not None:
            if self._modes is None:
                raise ValueError(
                    f"command {command_name(command_id)} restricts modes but the dispatcher "
                    "has no ModeManager"
                )
            modes = frozenset(allowed_modes)
        unused = frozenset(unused_params)
        bad = [i for i in unused if not (isinstance(i, int) and 1 <= i <= N_COMMAND_PARAMS)]
        if bad:
            raise ValueError(f"unused_params must be in 1..{N_COMMAND_PARAMS}, got {bad}")
        self._commands[command_id] = _Registration(handler, modes, validate, unused)

    def register_ground_command(self, name: str, handler: Handler) -> None:
        """Route a command of the ground-command table to `handler`, with the table's
        modes, argument checks and unused parameters (flightsw/icd/ground_commands.py)."""
        cmd = GROUND_COMMAND_TABLE[name]
        modes = None if cmd.allowed_modes is None else {Mode[m] for m in cmd.allowed_modes}
        self.register(cmd.command_id, handler, allowed_modes=modes, validate=cmd.validate,
                      unused_params=cmd.unused_params)

    @property
    def registered(self) -> frozenset[int]:
        return frozenset(self._commands)

    def dispatch_command_long(self, msg) -> CommandResult:
        """Handle a COMMAND_LONG from the Bus; the ACK goes back to its sender."""
        params = (msg.param1, msg.param2, msg.param3, msg.param4, msg.param5, msg.param6,
                  msg.param7)
        src_system, src_component = msg.get_srcSystem(), msg.get_srcComponent()
        return self._dispatch(
            msg.command, params, f"sys{src_system}/{src_component}", src_system, src_component
        )

    def dispatch_command_int(self, msg) -> CommandResult:
        """Handle a COMMAND_INT like a COMMAND_LONG: x and y (int32) are param5 and
        param6, z is param7; the frame is not used by any of our commands."""
        params = (msg.param1, msg.param2, msg.param3, msg.param4, float(msg.x), float(msg.y),
                  msg.z)
        src_system, src_component = msg.get_srcSystem(), msg.get_srcComponent()
        return self._dispatch(
            msg.command, params, f"sys{src_system}/{src_component}", src_system, src_component
        )

    def dispatch(
        self, command_id: int, params: Sequence[float] = (), source: str = "sequence"
    ) -> CommandResult:
        """Handle a command from on board (e.g. a scenario's command sequence).

        Missing trailing parameters are 0.0, as in a COMMAND_LONG a ground
        tool fills in; more than seven is INVALID_PARAM.
        """
        command_id = _check_command_id(command_id)
        params = tuple(params)
        if len(params) > N_COMMAND_PARAMS:
            return self._finish(command_id, source, 0, 0, CommandResult.INVALID_PARAM,
                                f"{len(params)} params, at most {N_COMMAND_PARAMS}")
        params = params + (0.0,) * (N_COMMAND_PARAMS - len(params))
        return self._dispatch(command_id, params, source, 0, 0)

    def _dispatch(self, command_id, params, source, target_system, target_component):
        def finish(result, detail=""):
            return self._finish(command_id, source, target_system, target_component, result,
                                detail)

        reg = self._commands.get(command_id)
        if reg is None:
            return finish(CommandResult.UNSUPPORTED)
        try:
            values = tuple(float(p) for p in params)
        except (TypeError, ValueError):
            return finish(CommandResult.INVALID_PARAM, "non-numeric param")
        for index, value in enumerate(values, start=1):
            if index not in reg.unused_params and not math.isfinite(value):
                return finish(CommandResult.INVALID_PARAM, f"param{index}={value}")
        if reg.allowed_modes is not None and self._modes.current not in reg.allowed_modes:
            return finish(CommandResult.WRONG_MODE, f"in {self._modes.current.name}")
        if reg.validate is not None:
            try:
                reason = reg.validate(values)
            except Exception as exc:  # a validator that chokes has still said no
                reason = f"validator raised {type(exc).__name__}: {exc}"
            if reason is not None:
                return finish(CommandResult.INVALID_PARAM, str(reason))
        self.current_source = source
        try:
            result = reg.handler(values)
        except Exception as exc:  # keep flying: the ACK and the event report it
            return finish(CommandResult.FAILED, f"{type(exc).__name__}: {exc}")
        finally:
            self.current_source = ""
        if not isinstance(result, CommandResult):
            return finish(CommandResult.FAILED, f"handler returned {result!r}")
        return finish(result)

    def _finish(self, command_id, source, target_system, target_component, result, detail):
        self._send(
            mavlink.MAVLink_command_ack_message(
                command_id,
                result.to_mav_result(),
                0,
                int(result),
                target_system,
                target_component,
            )
        )
        if self._events is not None:
            severity = {
                CommandResult.ACCEPTED: Severity.INFO,
                CommandResult.FAILED: Severity.ERROR,
            }.get(result, Severity.WARNING)
            text = f"{command_name(command_id)} from {source}: {result.name}"
            self._events.emit(severity, "cmd", f"{text} ({detail})" if detail else text)
        return result

    def _set_mode(self, params: Params) -> CommandResult:
        return self._modes.request(int(params[1]), reason=f"command from {self.current_source}")


def _validate_custom_mode(params: Params) -> str | None:
    custom_mode = params[1]
    if custom_mode != int(custom_mode) or custom_mode < 0:
        return f"custom mode {custom_mode} is not a mode number"

    if int(custom_mode) in Mode._value2member_map_ and Mode(int(custom_mode)) not in \
            GROUND_SELECTABLE:
        return (f"mode {Mode(int(custom_mode)).name} is entered by its own command, "
                "not by DO_SET_MODE")
    return None


def _check_command_id(command_id) -> int:
    if isinstance(command_id, bool):
        raise TypeError("command_id must be an int, got bool")
    try:
        command_id = operator.index(command_id)
    except TypeError:
        raise TypeError(f"command_id must be an int, got {command_id!r}") from None
    if not 0 <= command_id <= _UINT16_MAX:
        raise ValueError(f"command_id must fit a uint16 (0..{_UINT16_MAX}), got {command_id}")
    return command_id
