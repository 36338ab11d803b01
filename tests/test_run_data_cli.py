"""`prospector run-data`: history.nc and summary.csv written again from a run directory,
with one line saying what is missing or damaged; and the run's ground parameter files
(params.parm, params.params) agree with params.txt."""

import shutil

import numpy as np
import pytest
import xarray as xr

from prospector.cli import main
from sim.runner import run_scenario
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def flown(tmp_path_factory):
    out = tmp_path_factory.mktemp("flown") / "run"
    sc = load_scenario("bennu-hover", {"scenario.duration_s": 12.0})
    run_scenario(sc, out, write_report=False, progress=False)
    return out


@pytest.fixture
def run_dir(flown, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(flown, target)
    return target


def _lines(capsys):
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return out, err.splitlines()


def test_run_data_writes_what_the_run_wrote(run_dir, flown, capsys):
    for name in ("history.nc", "summary.csv"):
        (run_dir / name).unlink()
    assert main(["run-data", str(run_dir)]) == 0
    out, err = _lines(capsys)
    assert err == [] and "history.nc" in out
    again, first = xr.open_dataset(run_dir / "history.nc"), xr.open_dataset(flown / "history.nc")
    xr.testing.assert_identical(again, first)
    assert (run_dir / "summary.csv").read_text() == (flown / "summary.csv").read_text()


def test_existing_files_are_replaced_only_with_force(run_dir, capsys):
    before = (run_dir / "summary.csv").read_bytes()
    assert main(["run-data", str(run_dir)]) == 2
    _, err = _lines(capsys)
    assert len(err) == 1 and "exists" in err[0] and "--force" in err[0]
    assert (run_dir / "summary.csv").read_bytes() == before
    assert main(["run-data", str(run_dir), "--force", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


def test_a_missing_history_still_gets_its_summary_table_and_one_line(run_dir, capsys):
    (run_dir / "history.npz").unlink()
    (run_dir / "summary.csv").unlink()
    (run_dir / "history.nc").unlink()
    assert main(["run-data", str(run_dir)]) == 1
    _, err = _lines(capsys)
    assert len(err) == 1 and "history.npz missing" in err[0]
    assert (run_dir / "summary.csv").exists() and not (run_dir / "history.nc").exists()


def test_a_damaged_history_says_so_in_one_line(run_dir, capsys):
    data = (run_dir / "history.npz").read_bytes()
    (run_dir / "history.npz").write_bytes(data[: len(data) // 2])
    assert main(["run-data", str(run_dir), "--force"]) == 1
    _, err = _lines(capsys)
    assert len(err) == 1 and "history.npz damaged" in err[0]


def test_a_key_of_an_unexpected_shape_is_named(run_dir, capsys):
    with np.load(run_dir / "history.npz") as z:
        hist = {k: z[k] for k in z.files}
    hist["att_err_deg"] = hist["att_err_deg"][:, None].repeat(2, axis=1)
    np.savez(run_dir / "history.npz", **hist)
    assert main(["run-data", str(run_dir), "--force"]) == 1
    _, err = _lines(capsys)
    assert len(err) == 1 and "att_err_deg" in err[0]
    ds = xr.open_dataset(run_dir / "history.nc")
    np.testing.assert_array_equal(ds["att_err_deg"].values, hist["att_err_deg"])


def test_nothing_to_write_is_an_error_line(run_dir, tmp_path, capsys):
    (run_dir / "history.npz").unlink()
    (run_dir / "summary.json").write_text("{not json")
    assert main(["run-data", str(run_dir), "--force"]) == 2
    _, err = _lines(capsys)
    assert len(err) == 1 and "nothing to write" in err[0] and "summary.json damaged" in err[0]
    assert main(["run-data", str(tmp_path / "none")]) == 2
    _, err = _lines(capsys)
    assert len(err) == 1 and "not a run directory" in err[0]


def test_the_runs_ground_parameter_files_hold_the_flown_table(flown):
    """params.parm (MAVProxy: NAME VALUE) and params.params (QGroundControl: vehicle,
    component, name, value, type, tab separated) name every parameter of params.txt, with
    its value as the float32 the probe holds."""
    from pymavlink import mavparm

    from flightsw.core.params import ParamTable, to_float32
    from flightsw.params_table import FLIGHT_PARAMS

    table = ParamTable(FLIGHT_PARAMS)
    table.load(flown / "params.txt")
    parm = mavparm.MAVParmDict()
    parm.load(str(flown / "params.parm"), use_excludes=False)
    assert sorted(parm.keys()) == sorted(table.names)
    rows = [line.split("\t") for line in (flown / "params.params").read_text().splitlines()
            if not line.startswith("#")]
    assert all(len(row) == 5 for row in rows)
    assert [row[2] for row in rows] == list(table.names)
    for _, _, name, value, param_type in rows:
        spec = table.spec(name)
        assert int(param_type) == spec.wire_type
        expected = to_float32(float(table.get(name))) if spec.kind is float \
            else int(table.get(name))
        assert to_float32(float(value)) == to_float32(float(expected)), name
        assert to_float32(float(parm[name])) == to_float32(float(expected)), name


# -- prospector report RUN_DIR ------------------------------------------------------------
def test_report_is_made_again_from_the_run_directory_and_never_overwritten_silently(
        run_dir, capsys):
    page = run_dir / "report.html"
    page.write_text("a report the user edited", encoding="utf-8")
    assert main(["report", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "report.html: exists; pass --force" in err[0]
    assert page.read_text(encoding="utf-8") == "a report the user edited"
    assert main(["report", str(run_dir), "--force"]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'class="problems"' not in text


def test_report_of_a_run_whose_history_is_damaged_says_what_is_missing(run_dir, capsys):
    (run_dir / "history.npz").write_bytes(b"PK\x03\x04 cut short")
    (run_dir / "report.html").unlink(missing_ok=True)
    assert main(["report", str(run_dir)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "history.npz damaged" in err[0] and "Traceback" not in err[0]
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "history.npz damaged" in text
    assert (run_dir / "history.npz").read_bytes() == b"PK\x03\x04 cut short"  # left as it was


def test_report_of_what_is_not_a_run_directory_is_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a run directory" in err[0]
