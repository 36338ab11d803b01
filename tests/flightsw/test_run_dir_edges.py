"""Output directories at their edges (flightsw/run_dir.py): the report folder a forced run
emptied goes too, a directory that cannot be listed is refused in one line, and a kind of
output nobody writes is a programming error."""

import pytest

from flightsw.run_dir import MARKER, RunDirError, check_out_dir
from sim.runner import prepare_run_dir


def test_a_report_folder_holding_only_our_plots_is_removed_with_them(tmp_path):
    """--force over a run: its plots go, and report/ with them when nothing else is in it
    (no empty folder left behind for the new run's report to look stale in)."""
    out = tmp_path / "run"
    prepare_run_dir(out, force=False)
    (out / "report").mkdir()
    for name in ("01_position_error.png", "08_descent_profile.png"):
        (out / "report" / name).write_bytes(b"old plot")
    prepare_run_dir(out, force=True)
    assert sorted(p.name for p in out.iterdir()) == [MARKER]


def test_a_directory_that_cannot_be_listed_is_refused_in_one_line(tmp_path, monkeypatch):
    """Listing fails (permissions; simulated, since the tests may run as root): refused
    with the system's reason, nothing touched."""
    out = tmp_path / "unreadable"
    out.mkdir()

    def no_listing(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(out), "iterdir", no_listing)
    with pytest.raises(RunDirError) as info:
        check_out_dir(out, force=False, kind="sweep")
    assert str(info.value) == f"{out}: cannot list it: Permission denied"


def test_an_unknown_kind_of_output_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="^unknown kind of output 'plots'$"):
        check_out_dir(tmp_path, force=False, kind="plots")
