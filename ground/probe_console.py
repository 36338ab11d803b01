"""What an operator types to the probe and what the probe's state reads as, in words.

Independent of any ground station: the MAVProxy module (ground/mavproxy_prospector.py)
turns its `probe ...` command lines into actions with `parse_probe_words` and
prints `status_lines` / `fault_lines`; tests call them directly.  Commands are the
ground-command table's (flightsw/icd/ground_commands.py); their arguments are
checked by the table's own rules before anything is sent, so an operator reads
the same refusal the probe would give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flightsw.core.modes import GROUND_SELECTABLE, Mode
from flightsw.icd import mavlink
from flightsw.icd.ground_commands import BY_NAME

USAGE = ("probe status | survey [SCAN_S] | site RANK | tag | waveoff | mass baseline|after "
         "| hover X_M Y_M Z_M | dump | faults [enable|disable|reset MONITOR] | key FILE "
         "| cmd NAME [ARGS...]")
MONITOR_NAMES = {
    value: entry.name.removeprefix("PROBE_MONITOR_")
    for value, entry in mavlink.enums["PROBE_MONITOR"].items()
    if entry.name != "PROBE_MONITOR_ENUM_END"
}
_MASS_WHICH = {"baseline": 0.0, "0": 0.0, "after": 1.0, "1": 1.0}


class ProbeUsageError(ValueError):
    """A `probe` command line that cannot be sent; str() is one line."""


@dataclass(frozen=True)
class SendCommand:
    name: str  # the ground-command table's name
    args: tuple[float, ...]


@dataclass(frozen=True)
class ShowStatus:
    pass


@dataclass(frozen=True)
class ShowFaults:
    pass


@dataclass(frozen=True)
class LoadSigningKey:
    path: str


def mode_names_by_number() -> dict[int, str]:
    return {int(mode): mode.name for mode in Mode}


def selectable_mode_numbers() -> dict[str, int]:
    """Mode name -> number, for the modes a ground station may select (MAVProxy's `mode`)."""
    return {mode.name: int(mode) for mode in sorted(GROUND_SELECTABLE)}


def monitor_id(word: str) -> int:
    """A monitor by name (STAR_TRACKER, imu, ...) or number."""
    if word.isdigit() and int(word) in MONITOR_NAMES:
        return int(word)
    for value, name in MONITOR_NAMES.items():
        if name == word.upper():
            return value
    raise ProbeUsageError(f"monitor {word!r}: expected one of "
                          f"{', '.join(MONITOR_NAMES.values())} or 0..{max(MONITOR_NAMES)}")


def _number(word: str, what: str) -> float:
    try:
        value = float(word)
    except ValueError:
        raise ProbeUsageError(f"{what}: expected a number, got {word!r}") from None
    if not math.isfinite(value):
        raise ProbeUsageError(f"{what}: expected a finite number, got {word!r}")
    return value


def table_command(name: str, words: list[str]) -> SendCommand:
    """A command of the table with its arguments checked by the table's rules."""
    spec = BY_NAME.get(name.upper())
    if spec is None or spec.command_id is None or spec.name == "SET_MODE":
        choices = ", ".join(n for n, c in BY_NAME.items()
                            if c.command_id is not None and n != "SET_MODE")
        raise ProbeUsageError(f"command {name!r}: expected one of {choices} "
                              "(modes: MAVProxy's own `mode NAME`)")
    if not spec.required_args <= len(words) <= len(spec.args):
        wanted = " ".join(a.name.upper() for a in spec.args) or "no arguments"
        raise ProbeUsageError(f"{spec.name}: expected {wanted}, got {len(words)} argument(s)")
    values = [_number(w, f"{spec.name} {a.name}") for a, w in zip(spec.args, words, strict=False)]
    values += [a.default for a in spec.args[len(values):]]
    refusal = spec.validate(values)
    if refusal is not None:
        raise ProbeUsageError(f"{spec.name}: {refusal}")
    return SendCommand(spec.name, tuple(values))


def parse_probe_words(words: list[str]):
    """The action of one `probe ...` command line (without the word `probe`)."""
    if not words or words[0] in ("help", "-h", "--help"):
        raise ProbeUsageError(f"usage: {USAGE}")
    verb, rest = words[0].lower(), words[1:]
    if verb == "status" and not rest:
        return ShowStatus()
    if verb == "survey":
        return table_command("START_SURVEY", rest)
    if verb == "site":
        return table_command("CHOOSE_SITE", rest)
    if verb == "tag":
        return table_command("START_TAG", rest)
    if verb == "waveoff":
        return table_command("WAVE_OFF", rest)
    if verb == "hover":
        return table_command("SET_HOVER_POINT", rest)
    if verb == "dump":
        return table_command("DUMP_MOMENTUM", rest)
    if verb == "mass":
        if len(rest) != 1 or rest[0].lower() not in _MASS_WHICH:
            raise ProbeUsageError("mass: expected baseline (before sampling) or after")
        return table_command("MEASURE_MASS", [str(_MASS_WHICH[rest[0].lower()])])
    if verb == "faults":
        return _faults(rest)
    if verb == "key" and len(rest) == 1:
        return LoadSigningKey(rest[0])
    if verb == "cmd" and rest:
        return table_command(rest[0], rest[1:])
    raise ProbeUsageError(f"usage: {USAGE}")


def _faults(rest: list[str]):
    if not rest:
        return ShowFaults()
    action = rest[0].lower()
    if action in ("enable", "disable") and len(rest) == 2:
        enable = "1" if action == "enable" else "0"
        return table_command("MONITOR_ENABLE", [str(monitor_id(rest[1])), enable])
    if action == "reset" and len(rest) == 2:
        return table_command("MONITOR_RESET", [str(monitor_id(rest[1]))])
    raise ProbeUsageError("faults: expected nothing, or enable|disable|reset MONITOR")


# -- what the probe's telemetry says, in words --------------------------------------


def _enum_word(enum: str, value: int, prefix: str) -> str:
    entry = mavlink.enums.get(enum, {}).get(value)
    return entry.name.removeprefix(prefix) if entry else f"{value}"


def mode_word(heartbeat) -> str:
    if heartbeat is None:
        return "unknown (no HEARTBEAT yet)"
    name = mode_names_by_number().get(heartbeat.custom_mode, f"MODE({heartbeat.custom_mode})")
    state = _enum_word("MAV_STATE", heartbeat.system_status, "MAV_STATE_")
    return f"{name} ({state})"


def _bits(mask: int) -> list[str]:
    return [MONITOR_NAMES[k] for k in sorted(MONITOR_NAMES) if mask >> k & 1]


def status_lines(latest: dict) -> list[str]:
    """`probe status`: mode, survey, touch-and-go, mass, faults, link; from the last messages."""
    lines = [f"mode      {mode_word(latest.get('HEARTBEAT'))}"]
    survey = latest.get("PROBE_SURVEY_STATUS")
    if survey is None:
        lines.append("survey    no PROBE_SURVEY_STATUS yet")
    else:
        lines.append(
            f"survey    {_enum_word('PROBE_SURVEY_STATE', survey.state, 'PROBE_SURVEY_STATE_')}"
            f", coverage {100.0 * survey.coverage:.0f} % ({survey.sites_covered}/"
            f"{survey.sites_illuminated} sites), {survey.spectra_processed} spectra")
    tag = latest.get("PROBE_TAG_STATUS")
    if tag is not None:
        lines.append(f"tag       {_enum_word('PROBE_TAG_PHASE', tag.phase, 'PROBE_TAG_PHASE_')}, "
                     f"height {tag.height_m:.1f} m, wave-offs {tag.waveoffs}")
    mass = latest.get("PROBE_MASS_ESTIMATE")
    if mass is not None:
        which = "after sampling" if mass.which else "baseline"
        sample = ("" if math.isnan(mass.sample_mass_kg) else
                  f", sample {mass.sample_mass_kg * 1000:.0f} +- "
                  f"{mass.sample_mass_sigma_kg * 1000:.0f} g")
        lines.append(f"mass      {which}: inertia {mass.inertia_kgm2:.3f} kg.m^2{sample}")
    faults = latest.get("PROBE_FAULT_STATUS")
    if faults is None:
        lines.append("faults    no PROBE_FAULT_STATUS yet")
    else:
        disabled = [MONITOR_NAMES[k] for k in sorted(MONITOR_NAMES)
                    if not faults.enabled >> k & 1]
        lines.append(f"faults    tripped: {', '.join(_bits(faults.tripped)) or 'none'}; "
                     f"disabled: {', '.join(disabled) or 'none'}; SAFE phase "
                     f"{_enum_word('PROBE_SAFE_PHASE', faults.safe_phase, 'PROBE_SAFE_PHASE_')}")
    link = latest.get("PROBE_LINK_STATUS")
    if link is not None:
        rejected = sum(getattr(link, f) for f in (
            "rejected_unsigned", "rejected_bad_signature", "rejected_replayed",
            "rejected_wrong_source", "rejected_wrong_target"))
        lines.append(f"link      signing {'on' if link.signing else 'OFF'}, "
                     f"{link.admitted} frames admitted, {rejected} rejected")
    return lines


def fault_lines(fault_status) -> list[str]:
    """`probe faults`: one line per monitor (id, name, enabled, tripped, failing, trips)."""
    if fault_status is None:
        return ["no PROBE_FAULT_STATUS received yet"]
    lines = [f"{'id':>2} {'monitor':<16} {'enabled':<8} {'tripped':<8} {'failing':<8} trips"]
    for k, name in sorted(MONITOR_NAMES.items()):
        def flag(mask, k=k):
            return "yes" if mask >> k & 1 else "-"
        trips = fault_status.trips[k] if k < len(fault_status.trips) else 0
        lines.append(f"{k:>2} {name:<16} {flag(fault_status.enabled):<8} "
                     f"{flag(fault_status.tripped):<8} {flag(fault_status.failing):<8} {trips}")
    phase = _enum_word("PROBE_SAFE_PHASE", fault_status.safe_phase, "PROBE_SAFE_PHASE_")
    lines.append(f"SAFE phase {phase}, thruster branch {'AB'[fault_status.thruster_branch & 1]}, "
                 f"momentum dumps {fault_status.dumps}")
    return lines
