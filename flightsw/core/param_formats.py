"""The run's parameters in the file formats ground stations load.

A run leaves its flown parameter table as `params.txt` (our TOML, see
`flightsw.core.params`); these are the same values for other tools:

- `params.parm`, MAVProxy's format (what `param save` writes and `param load`
  reads, pymavlink's `mavparm.MAVParmDict`): one `NAME VALUE` per line, `#`
  starts a comment. Each value is the shortest decimal that reads back as the
  same float32 (MAVProxy's own `param save` rounds to six decimals, which
  loses small values such as 1e-8).
- `params.params`, QGroundControl's format: `#` comment lines, then one
  tab-separated `vehicle-id component-id name value type` line per
  parameter, the type being the MAV_PARAM_TYPE the parameter travels as.
  QGroundControl reads exactly five tab-separated fields per line and refuses
  a file saved from another system id, so the ids are the probe's own.

A float travels as float32, so both files hold the float32 the probe reports
in PARAM_VALUE: a file loaded back sends exactly the value that is flown.

Pure formatting plus one write per file; the run directory is the caller's.
Host side only: no flight task calls this.
"""

from __future__ import annotations

from pathlib import Path

from flightsw.core.params import ParamTable, ParamValue, to_float32
from flightsw.icd import FLIGHT_COMPONENT_ID, FLIGHT_SYSTEM_ID

MAVPROXY_PARAM_FILE = "params.parm"
QGC_PARAM_FILE = "params.params"
QGC_DECIMALS = 18  # QGroundControl writes floating values with 18 decimals


class ParamFormatError(OSError):
    """A parameter file that cannot be written; str() is one line."""


def _wire_number(kind: type, value: ParamValue) -> float | int:
    """The number PARAM_VALUE carries: float32 for floats, the integer for int/bool."""
    if kind is float:
        return to_float32(float(value))
    return int(value)


def _shortest_float32_text(value: float) -> str:
    """The fewest significant digits that read back as the float32 `value` (at most 9)."""
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if to_float32(float(text)) == value:
            return text
    return repr(value)  # not reached: 9 significant digits identify every float32


def _float_text(value: float, decimals: int | None) -> str:
    """Text that reads back as the same float32; QGC's fixed decimals when they suffice."""
    if decimals is not None:
        fixed = f"{value:.{decimals}f}"
        if to_float32(float(fixed)) == value:
            return fixed
    # Tiny magnitudes lose digits in fixed notation (and a person reads 0.03 better
    # than 0.029999999329447746): the shortest text of the same float32 instead.
    return _shortest_float32_text(value)


def _value_text(kind: type, value: ParamValue, decimals: int | None) -> str:
    number = _wire_number(kind, value)
    if kind is float:
        return _float_text(number, decimals)
    return str(number)


def mavproxy_parm_text(table: ParamTable) -> str:
    """MAVProxy's .parm text: a comment header, then `NAME VALUE` in index order."""
    lines = [
        "# Prospector flight parameters as flown (MAVProxy: param load params.parm)",
    ]
    width = max((len(name) for name in table.names), default=0)
    for name in table.names:
        spec = table.spec(name)
        text = _value_text(spec.kind, table.get(name), None)
        lines.append(f"{name:<{width}} {text}")
    return "\n".join(lines) + "\n"


def qgc_params_text(
    table: ParamTable,
    system_id: int = FLIGHT_SYSTEM_ID,
    component_id: int = FLIGHT_COMPONENT_ID,
) -> str:
    """QGroundControl's .params text, header comments included."""
    lines = [
        f"# Onboard parameters for Vehicle {system_id}",
        "#",
        "# Stack: prospector flight software",
        "# Vehicle: asteroid prospector probe",
        "#",
        "# Vehicle-Id Component-Id Name Value Type",
    ]
    for name in table.names:
        spec = table.spec(name)
        text = _value_text(spec.kind, table.get(name), QGC_DECIMALS)
        lines.append(f"{system_id}\t{component_id}\t{name}\t{text}\t{spec.wire_type}")
    return "\n".join(lines) + "\n"


def _write_new(path: Path, text: str) -> None:
    """Write `text` to `path`; an existing file is kept only if it holds the same text."""
    try:
        with path.open("x", encoding="utf-8", newline="\n") as out:
            out.write(text)
        return
    except FileExistsError:
        pass
    except OSError as exc:
        raise ParamFormatError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        existing = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParamFormatError(f"{path}: exists and cannot be read: {exc}") from None
    if existing != text:
        raise ParamFormatError(f"{path}: exists with other content; not overwritten")


def write_ground_param_files(table: ParamTable, out_dir: Path) -> list[Path]:
    """Write `params.parm` (MAVProxy) and `params.params` (QGroundControl) in `out_dir`.

    Returns the two paths. A file already there with the same content is left
    as it is; one with other content raises ParamFormatError (nothing is
    overwritten silently).
    """
    if not isinstance(table, ParamTable):
        raise TypeError(f"table must be a ParamTable, got {type(table).__name__}")
    out_dir = Path(out_dir)
    written = []
    for file_name, text in (
        (MAVPROXY_PARAM_FILE, mavproxy_parm_text(table)),
        (QGC_PARAM_FILE, qgc_params_text(table)),
    ):
        path = out_dir / file_name
        _write_new(path, text)
        written.append(path)
    return written
