"""Output directories: --force replaces only what our commands wrote, refuses anything else."""

import json

import pytest

from flightsw.run_dir import MARKER, RunDirError, check_out_dir, claim, kinds_in, prepare_out_dir
from sim.runner import prepare_run_dir


def _users_folder(path):
    """A folder that never held a run: the user's own files, one of them in report/."""
    (path / "report").mkdir(parents=True)
    (path / "report" / "notes.txt").write_text("mine")
    (path / "report" / "01_position_error.png").write_bytes(b"my own plot")
    (path / "summary.json").write_text("{\"mine\": true}")
    return {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def _files(path):
    return {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}


@pytest.mark.parametrize("force", [False, True])
def test_a_folder_that_never_held_a_run_is_refused_and_left_untouched(tmp_path, force):
    before = _users_folder(tmp_path / "mine")
    with pytest.raises(RunDirError, match="not written by prospector") as err:
        prepare_run_dir(tmp_path / "mine", force=force)
    assert "\n" not in str(err.value)
    assert _files(tmp_path / "mine") == before


def test_force_replaces_our_files_and_keeps_the_users(tmp_path):
    out = tmp_path / "run"
    prepare_run_dir(out, force=False)
    assert kinds_in(out) == {"run"}
    for name in ("flight.tlog", "summary.json", "link_stats.json"):
        (out / name).write_text("old run")
    (out / "report").mkdir()
    (out / "report" / "07_altitude_mode.png").write_bytes(b"old plot")
    (out / "report" / "my-notes.txt").write_text("mine")
    (out / "analysis.py").write_text("mine")
    with pytest.raises(RunDirError, match="already holds a run"):
        prepare_run_dir(out, force=False)
    prepare_run_dir(out, force=True)
    assert sorted(str(p) for p in _files(out)) == sorted([MARKER, "analysis.py",
                                                          "report/my-notes.txt"])


def test_empty_and_new_directories_are_taken_and_marked(tmp_path):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "deeper"):
        prepare_out_dir(out, force=False, kind="replay")
        assert json.loads((out / MARKER).read_text()) == {"written_by": "prospector",
                                                          "kinds": ["replay"]}


def test_a_replay_into_a_run_directory_removes_no_file_of_the_run(tmp_path):
    out = tmp_path / "run"
    prepare_run_dir(out, force=False)
    (out / "flight.tlog").write_text("the recording")
    (out / "replay.tlog").write_text("an old replay")
    prepare_out_dir(out, force=True, kind="replay")
    assert (out / "flight.tlog").read_text() == "the recording"
    assert not (out / "replay.tlog").exists()
    assert kinds_in(out) == {"run", "replay"}


@pytest.mark.parametrize("marker", ["", "{", "[]", '{"written_by": "someone else"}'])
def test_a_marker_that_is_not_ours_does_not_count(tmp_path, marker):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / MARKER).write_text(marker)
    with pytest.raises(RunDirError, match="not written by prospector"):
        check_out_dir(tmp_path / "d", force=True, kind="run")


def test_a_file_or_a_dangling_link_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RunDirError, match="not a directory"):
        prepare_run_dir(tmp_path / "f", force=True)
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(RunDirError, match="dangling"):
        prepare_run_dir(tmp_path / "link", force=True)


def test_claim_marks_a_directory(tmp_path):
    claim(tmp_path, "run")
    assert kinds_in(tmp_path) == {"run"}
