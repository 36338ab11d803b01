"""Monte Carlo sweeps from Python: fly a scenario over many seeds, get the table of runs.

    from prospector.sweep import run_sweep

    runs = run_sweep("bennu-tag", range(1, 201), "runs/tag-mc")        # local processes
    runs = run_sweep("bennu-tag", "1-200", "runs/tag-mc", cluster="local:4")
    runs = run_sweep("bennu-tag", "1-200", "runs/tag-mc", cluster="tcp://10.0.0.5:8786")

    from dask.distributed import Client
    with Client("tcp://10.0.0.5:8786") as client:                       # a client of yours
        runs = run_sweep("bennu-tag", "1-200", "runs/tag-mc", cluster=client,
                         overrides={"tag.target_latlon_deg": [8.0, -90.0]})

It is `prospector sweep` (sim.sweep) without the command line: the same run directories,
records, --resume and files in `out_dir` (docs/sweeps.md), and each seed's result is the
same whichever executor flew it.  What it returns is `out_dir/runs.parquet` read back as
a pandas DataFrame, one row per run (`seed`, `outcome`, `error`, the summary's numeric
figures, `in.<key>` for each dispersed input, `flight_log_sha256`), sorted by seed; the
aggregate (aggregate.json's content: percentiles, outcome counts, Wilson intervals) is in
its `attrs["aggregate"]`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["run_sweep"]


def run_sweep(scenario: str | os.PathLike, seeds: str | Iterable[int],
              out_dir: str | os.PathLike, *, overrides: Mapping[str, object] | None = None,
              cluster=None, jobs: int | None = None, resume: bool = False,
              force: bool = False, progress: bool = False):
    """Fly `scenario` once per seed into `out_dir`; the table of runs as a DataFrame.

    scenario   a packaged scenario's name (`prospector scenarios`) or a .toml path (on a
               cluster, a path every worker can read).
    seeds      an iterable of non-negative integers (duplicates flown once), or the
               command line's text: '1-200', '1,3,7', '1-3,9'.
    out_dir    the sweep directory: created; an existing one is refused unless `force`
               (replaces what prospector wrote there) or `resume`.
    overrides  scenario keys fixed for every seed, as `--set` gives them:
               {"scenario.duration_s": 600.0, "params.HOV_BW_RADPS": 0.05}; a key with a
               declared dispersion is then no longer dispersed.
    cluster    where the runs go: None (local processes, `jobs` of them, default one per
               core), "local:N" (a Dask LocalCluster of N processes on 127.0.0.1, started
               and stopped here), "tcp://HOST:PORT" (a Dask scheduler), or a
               dask.distributed.Client (used, never closed).  On Dask each worker's
               project version and ICD fingerprint must equal this process's.
    resume     continue the sweep in out_dir (same scenario, overrides, dispersions):
               seeds already recorded are not flown again.
    progress   a progress bar on stderr.

    Returns the DataFrame of out_dir/runs.parquet (every seed of the sweep, resumed ones
    included), sorted by seed, with `attrs["aggregate"]`.  A run that fails is a row with
    outcome "error" and its message; the sweep goes on.

    Raises, before any run and with a one-line message: TypeError or ValueError (an
    argument of the wrong type or value; SeedSpecError for seeds), sim.scenario.
    ScenarioError (scenario, override or dispersion), sim.runner.RunConfigError,
    flightsw.run_dir.RunDirError (out_dir), sim.sweep_store.ResumeError (resume of
    another sweep), sim.executors.ExecutorError (a scheduler that does not answer within
    4 s) and its EnvironmentMismatch (a worker of another version or ICD).  Ctrl-C: the
    runs in flight end and are recorded, then KeyboardInterrupt (resume continues).
    """
    import pandas as pd

    from sim import sweep

    scenario = _scenario(scenario)
    seed_list = _seeds(seeds)
    out = _path(out_dir, "out_dir")
    overrides = _overrides(overrides)
    for name, flag in (("resume", resume), ("force", force), ("progress", progress)):
        if not isinstance(flag, bool):
            raise TypeError(f"run_sweep: {name}: expected True or False, got {flag!r}")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"run_sweep: jobs: expected a number of processes >= 1, got {jobs!r}")
    address, executor = _where(cluster)
    if jobs is not None and (address is not None or executor is not None):
        raise ValueError("run_sweep: jobs: local processes; with a cluster its workers run "
                         "the seeds (not both)")
    agg = sweep.run_sweep(scenario, seed_list, out, jobs=jobs, force=force,
                          progress=progress, overrides=overrides, cluster=address,
                          resume=resume, executor=executor)
    table = pd.read_parquet(out / "runs.parquet").sort_values("seed", ignore_index=True)
    table.attrs["aggregate"] = agg
    return table


def _scenario(scenario) -> str:
    if isinstance(scenario, os.PathLike):
        scenario = os.fspath(scenario)
    if not isinstance(scenario, str) or not scenario.strip():
        raise TypeError(f"run_sweep: scenario: expected a scenario name or a path to a .toml "
                        f"file, got {scenario!r}")
    return scenario


def _seeds(seeds) -> list[int]:
    from sim.scenario import MAX_SEED
    from sim.sweep import MAX_SEEDS, SeedSpecError, parse_seeds

    if isinstance(seeds, str):
        return parse_seeds(seeds)
    if not isinstance(seeds, Iterable):
        raise SeedSpecError(f"run_sweep: seeds: expected an iterable of integers or a text "
                            f"such as '1-200', got {seeds!r}")
    out: set[int] = set()
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise SeedSpecError(f"run_sweep: seeds: expected integers in [0, {MAX_SEED}], "
                                f"got {seed!r}")
        out.add(int(seed))
        if len(out) > MAX_SEEDS:
            raise SeedSpecError(f"run_sweep: seeds: at most {MAX_SEEDS} seeds in one sweep")
    if not out:
        raise SeedSpecError("run_sweep: seeds: no seed to fly")
    return sorted(out)


def _path(value, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise TypeError(f"run_sweep: {name}: expected a directory path, got {value!r}")
    return Path(value)


def _overrides(overrides) -> dict:
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise TypeError(f"run_sweep: overrides: expected a mapping of scenario keys to "
                        f"values, got {type(overrides).__name__}")
    for key in overrides:
        if not isinstance(key, str) or not key:
            raise TypeError(f"run_sweep: overrides: expected dotted scenario keys such as "
                            f"'scenario.duration_s', got {key!r}")
    return dict(overrides)


def _where(cluster) -> tuple[str | None, object]:
    """(address for sim.sweep, executor): a text goes as --cluster does, a client is used."""
    if cluster is None:
        return None, None
    if isinstance(cluster, str):
        from sim.executors import parse_cluster

        parse_cluster(cluster)  # ExecutorError, one line, before anything is written
        return cluster, None
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is a dependency
        Client = ()
    if isinstance(cluster, Client):
        from sim.executors import DaskExecutor

        return None, DaskExecutor(client=cluster)
    raise TypeError(f"run_sweep: cluster: expected None, 'local:N', 'tcp://HOST:PORT' or a "
                    f"dask.distributed.Client, got {type(cluster).__name__}")
