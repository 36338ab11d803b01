"""The run's parameters as MAVProxy .parm and QGroundControl .params files.

The .parm file is read back by pymavlink's own reader (`mavparm.MAVParmDict`,
what MAVProxy's `param load` uses); the .params file is checked column by
column against QGroundControl's format (tab-separated vehicle id, component
id, name, value, MAV_PARAM_TYPE; `#` lines are comments).
"""

from __future__ import annotations

import contextlib
import io

import pytest
from pymavlink import mavparm

from flightsw.core.param_formats import (
    MAVPROXY_PARAM_FILE,
    QGC_PARAM_FILE,
    ParamFormatError,
    write_ground_param_files,
)
from flightsw.core.params import ParamSpec, ParamTable, to_float32
from flightsw.icd import FLIGHT_COMPONENT_ID, FLIGHT_SYSTEM_ID, mavlink
from flightsw.params_table import FLIGHT_PARAMS


def flown_table() -> ParamTable:
    """The flight table with some values moved off their defaults."""
    table = ParamTable(FLIGHT_PARAMS)
    table.set("HOV_BW_RADPS", 0.0421)
    table.set("FP_ENABLE", False)
    return table


def small_table() -> ParamTable:
    return ParamTable([
        ParamSpec("GAIN", float, 0.15, 0.0, 1.0),
        ParamSpec("TINY_NOISE", float, 1e-8, 0.0, 1.0),
        ParamSpec("HUGE", float, 3.0e30, 0.0, 1e38),
        ParamSpec("COUNT", int, -12, -100, 100),
        ParamSpec("ENABLE", bool, True),
    ])


def wire_number(table: ParamTable, name: str) -> float:
    """What PARAM_VALUE would carry for `name` (float32 for floats)."""
    return to_float32(float(table.get(name)))


def load_parm(path) -> dict[str, float]:
    reader = mavparm.MAVParmDict()
    with contextlib.redirect_stdout(io.StringIO()):  # it prints "Loaded N parameters"
        assert reader.load(str(path), use_excludes=False)
    return dict(reader)


@pytest.mark.parametrize("make_table", [flown_table, small_table])
def test_pymavlink_reads_every_parm_value_back_as_flown(tmp_path, make_table):
    table = make_table()
    paths = write_ground_param_files(table, tmp_path)
    assert [p.name for p in paths] == [MAVPROXY_PARAM_FILE, QGC_PARAM_FILE]

    loaded = load_parm(tmp_path / MAVPROXY_PARAM_FILE)

    assert list(loaded) == table.names
    for name in table.names:
        # MAVProxy sends the value as a float32: it must be the one the probe holds.
        assert to_float32(loaded[name]) == wire_number(table, name), name


@pytest.mark.parametrize("make_table", [flown_table, small_table])
def test_qgc_params_columns(tmp_path, make_table):
    table = make_table()
    write_ground_param_files(table, tmp_path)
    lines = (tmp_path / QGC_PARAM_FILE).read_text(encoding="utf-8").splitlines()

    assert lines[0] == f"# Onboard parameters for Vehicle {FLIGHT_SYSTEM_ID}"
    assert "# Vehicle-Id Component-Id Name Value Type" in lines
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    assert all(len(row) == 5 for row in rows)  # QGroundControl skips any other line
    assert [row[2] for row in rows] == table.names
    for system_id, component_id, name, value, param_type in rows:
        spec = table.spec(name)
        assert int(system_id) == FLIGHT_SYSTEM_ID
        assert int(component_id) == FLIGHT_COMPONENT_ID
        assert int(param_type) == spec.wire_type
        if spec.kind is float:
            assert to_float32(float(value)) == wire_number(table, name), name
        else:
            assert value == str(int(table.get(name))), name  # integers without a fraction


def test_qgc_types_are_the_wire_types_and_floats_use_qgc_decimals(tmp_path):
    write_ground_param_files(small_table(), tmp_path)
    rows = {row[2]: row for row in (
        line.split("\t") for line in (tmp_path / QGC_PARAM_FILE).read_text().splitlines()
        if not line.startswith("#"))}
    assert rows["GAIN"][3:] == ["0.150000005960464478", str(mavlink.MAV_PARAM_TYPE_REAL32)]
    assert rows["COUNT"][3:] == ["-12", str(mavlink.MAV_PARAM_TYPE_INT32)]
    assert rows["ENABLE"][3:] == ["1", str(mavlink.MAV_PARAM_TYPE_UINT8)]
    # Eighteen decimals would keep 10 digits of 1e-8: the exact shortest form instead.
    assert to_float32(float(rows["TINY_NOISE"][3])) == to_float32(1e-8)


def test_writing_the_same_table_again_is_harmless(tmp_path):
    table = flown_table()
    first = [p.read_bytes() for p in write_ground_param_files(table, tmp_path)]
    second = [p.read_bytes() for p in write_ground_param_files(table, tmp_path)]
    assert first == second


def test_a_different_existing_file_is_never_overwritten(tmp_path):
    (tmp_path / QGC_PARAM_FILE).write_text("# someone else's file\n")
    with pytest.raises(ParamFormatError) as refused:
        write_ground_param_files(flown_table(), tmp_path)
    message = str(refused.value)
    assert "\n" not in message and QGC_PARAM_FILE in message
    assert (tmp_path / QGC_PARAM_FILE).read_text() == "# someone else's file\n"


def test_a_missing_directory_is_one_line(tmp_path):
    with pytest.raises(ParamFormatError) as refused:
        write_ground_param_files(flown_table(), tmp_path / "absent")
    assert "\n" not in str(refused.value) and "absent" in str(refused.value)


def test_only_a_param_table_is_accepted(tmp_path):
    with pytest.raises(TypeError):
        write_ground_param_files({"HOV_ZETA": 0.9}, tmp_path)
