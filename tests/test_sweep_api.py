"""The sweep's Python API (prospector/sweep.py): the table of runs as a DataFrame, the same
on local processes and through a Dask client of the caller's (a LocalCluster on 127.0.0.1,
left open for its owner); bad arguments are named errors before anything is written."""

import pandas as pd
import pytest

from prospector.sweep import run_sweep
from sim.executors import ExecutorError
from sim.sweep import SeedSpecError

SHORT = {"scenario.duration_s": 2.0}
HOST_COLUMNS = ["wall_duration_s", "realtime_factor", "peak_rss_mb"]  # what a run cost


@pytest.mark.slow
def test_run_sweep_returns_the_table_on_local_processes_and_on_a_dask_client(tmp_path):
    from dask.distributed import Client, LocalCluster

    local = run_sweep("bennu-hover", range(3, 0, -1), tmp_path / "local", overrides=SHORT,
                      jobs=2)
    assert isinstance(local, pd.DataFrame) and list(local["seed"]) == [1, 2, 3]
    assert (local["outcome"] != "error").all() and local["flight_log_sha256"].nunique() == 3
    agg = local.attrs["aggregate"]
    assert agg["runs"] == 3 and agg["executor"] == "2 local processes"
    pd.testing.assert_frame_equal(
        local, pd.read_parquet(tmp_path / "local" / "runs.parquet"), check_like=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        dask = run_sweep("bennu-hover", "1-3", tmp_path / "dask", overrides=SHORT,
                         cluster=client)
        assert client.status == "running"  # the caller's client is the caller's to close
        more = run_sweep("bennu-hover", [1, 2, 3, 4], tmp_path / "dask", overrides=SHORT,
                         cluster=client, resume=True)
    assert dask.attrs["aggregate"]["executor"].startswith("Dask cluster at tcp://127.0.0.1:")
    pd.testing.assert_frame_equal(local.drop(columns=HOST_COLUMNS),
                                  dask.drop(columns=HOST_COLUMNS))
    assert list(more["seed"]) == [1, 2, 3, 4]
    assert more.attrs["aggregate"]["skipped_already_done"] == 3


@pytest.mark.parametrize("kwargs, error, words", [
    ({"scenario": None}, TypeError, "scenario: expected a scenario name"),
    ({"seeds": []}, SeedSpecError, "seeds: no seed to fly"),
    ({"seeds": [1, -2]}, SeedSpecError, "seeds: expected integers in [0, "),
    ({"seeds": [1, True]}, SeedSpecError, "seeds: expected integers"),
    ({"seeds": 7}, SeedSpecError, "seeds: expected an iterable of integers"),
    ({"seeds": "3-1"}, SeedSpecError, "--seeds: expected seeds like 1-50"),
    ({"out_dir": 3}, TypeError, "out_dir: expected a directory path"),
    ({"overrides": [("a", 1)]}, TypeError, "overrides: expected a mapping"),
    ({"overrides": {1: 2}}, TypeError, "overrides: expected dotted scenario keys"),
    ({"cluster": 4}, TypeError, "cluster: expected None, 'local:N'"),
    ({"cluster": "local:0"}, ExecutorError, "--cluster local:0: expected local:N"),
    ({"cluster": "local:2", "jobs": 2}, ValueError, "jobs: local processes; with a cluster"),
    ({"jobs": 0}, ValueError, "jobs: expected a number of processes >= 1"),
    ({"resume": "yes"}, TypeError, "resume: expected True or False"),
    ({"resume": True, "force": True}, ValueError, "--resume: keeps the runs already flown"),
])
def test_bad_arguments_are_named_errors_and_write_nothing(tmp_path, kwargs, error, words):
    args = {"scenario": "bennu-hover", "seeds": [1], "out_dir": tmp_path / "sweep",
            "overrides": SHORT} | kwargs
    with pytest.raises(error) as caught:
        run_sweep(args.pop("scenario"), args.pop("seeds"), args.pop("out_dir"), **args)
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "sweep").exists()
