"""Reading a scenario: packaged name or path, size-limited read, UTF-8 and TOML, overrides.

The only place that reads scenario files; it hands the parsed data to `sim.scenario_validate`.
Packaged scenarios are `sim/scenarios/*.toml`, found with importlib.resources so that they
load from an installed package as from the source tree.
"""

import copy
import dataclasses
import importlib.resources
import os
import tomllib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from flightsw.input_file import InputFileError, read_input
from sim.scenario_dispersions import check_declared, draw, split_declared
from sim.scenario_errors import ScenarioError, join_key
from sim.scenario_faults import check_faults
from sim.scenario_validate import validate
from sim.scenario_values import Scenario

MAX_SCENARIO_BYTES = 16 << 20  # the largest packaged scenario is 5 kB


def known_scenarios() -> list[str]:
    """Names of the packaged scenarios, for `load_scenario(name)`."""
    folder = _packaged_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir()
                  if p.name.endswith(".toml") and p.is_file())


def load_scenario(name_or_path: str | os.PathLike[str],
                  overrides: Mapping[str, Any] | None = None, *,
                  dispersed: bool = False) -> Scenario:
    """Load, override and validate a scenario.

    `name_or_path`: a packaged scenario's name (no '/', no '.toml', see `known_scenarios`)
    or the path of a TOML file. `overrides`: {dotted key: value}, for example
    {"scenario.seed": 3, "sensors.imu.rate_hz": 5.0}, applied before validation; a new
    key (say "params.KP") creates it. `dispersed`: apply the declared dispersions' draws
    of the scenario's seed (what a sweep flies; `scenario.dispersed` says what was drawn);
    without it they are checked, kept in `scenario.dispersions.declared`, and not drawn.
    Raises ScenarioError for any problem of the input.
    """
    if overrides is not None and not isinstance(overrides, Mapping):
        raise TypeError(f"overrides must be a mapping of dotted keys, got {type(overrides)}")
    label, source, data = _read(name_or_path)
    raw = _parse(label, data)
    overridden = _apply_overrides(label, raw, overrides or {})
    # A key given with --set is fixed for every seed: its declared dispersion is dropped.
    declared = {k: v for k, v in split_declared(raw).items()
                if not any(_is_under(k, o) for o in overridden)}
    pristine = copy.deepcopy(raw)  # validation fills tables in; the draws start from this
    scenario = _validated(label, raw, source, overridden)
    if not declared:
        return scenario
    # Declared dispersions: checked against the nominal scenario, drawn from its seed,
    # applied as overrides and the whole validated again (sim.scenario_dispersions).
    specs = check_declared(label, declared, scenario)
    if not dispersed:  # a plain run: the scenario's own values (sim.scenario_dispersions)
        return dataclasses.replace(
            scenario, dispersions=dataclasses.replace(scenario.dispersions,
                                                      declared=MappingProxyType(specs)))
    seed = scenario.scenario.seed
    drawn = draw(specs, seed)
    for key, value in drawn.items():
        _apply_overrides(label, pristine, {key: value})
    try:
        dispersed = _validated(label, pristine, source, overridden)
    except ScenarioError as err:
        key = next((k for k in drawn if err.key is not None and
                    (_is_under(err.key, k) or _is_under(k, err.key))), None)
        if key is None:
            raise
        raise ScenarioError(label, f'dispersions."{key}"', f"seed {seed} drew "
                            f"{drawn[key]!r}: {err.problem}") from None
    return dataclasses.replace(
        dispersed, dispersed=MappingProxyType(drawn),
        dispersions=dataclasses.replace(dispersed.dispersions,
                                        declared=MappingProxyType(specs)))


def _validated(label: str | None, raw: dict[str, Any], source: str,
               overridden: list[str]) -> Scenario:
    try:
        scenario = validate(label, raw, source)
        if "faults" not in raw:
            return scenario
        # Checked once the rest is valid: a fault is judged against the run and the vehicle.
        return dataclasses.replace(scenario, faults=check_faults(label, raw["faults"], scenario))
    except ScenarioError as err:
        if err.key is not None and any(_is_under(err.key, k) or _is_under(k, err.key)
                                       for k in overridden):
            raise ScenarioError(err.file, err.key, err.problem, from_override=True) from None
        raise


def _packaged_dir():
    return importlib.resources.files("sim").joinpath("scenarios")


def _is_name(text: str) -> bool:
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return not any(s in text for s in separators) and not text.endswith(".toml")


def _read(name_or_path: str | os.PathLike[str]) -> tuple[str | None, str, bytes]:
    """(label for messages, absolute source path, file contents)."""
    if isinstance(name_or_path, os.PathLike):
        path = os.fsdecode(os.fspath(name_or_path))
    elif isinstance(name_or_path, str):
        path = name_or_path
        if _is_name(path):
            known = known_scenarios()
            if path not in known:
                raise ScenarioError(
                    None, None,
                    f"unknown scenario {path!r}; known scenarios: {', '.join(known) or 'none'}"
                    " (to load another file, give its path, e.g. ./my-scenario.toml)")
            resource = _packaged_dir().joinpath(f"{path}.toml")
            return f"{path}.toml", str(resource), resource.read_bytes()
    else:
        raise TypeError(f"name_or_path must be a str or a path, got {type(name_or_path)}")
    try:
        data = read_input(path, MAX_SCENARIO_BYTES, "scenario file")
    except InputFileError as err:
        problem = str(err).removeprefix(f"{path}: ")
        raise ScenarioError(path, None, f"cannot read scenario file: {problem}") from None
    return path, os.path.abspath(path), data


def _parse(label: str | None, data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ScenarioError(label, None, f"line {line}: not UTF-8 text") from None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(label, None, f"invalid TOML: {err}") from None


def _apply_overrides(label: str | None, raw: dict[str, Any],
                     overrides: Mapping[str, Any]) -> list[str]:
    """Set each dotted key in `raw`; return the keys as they appear in error messages."""
    applied = []
    for dotted, value in overrides.items():
        parts = dotted.split(".") if isinstance(dotted, str) else []
        if not parts or "" in parts:
            raise ScenarioError(label, None, f"override key {dotted!r} is not a dotted key"
                                " such as 'scenario.seed'", from_override=True)
        node, walked = raw, ""
        for part in parts[:-1]:
            walked = join_key(walked, part)
            if part not in node:
                node[part] = {}
            elif not isinstance(node[part], dict):
                raise ScenarioError(label, walked, f"is not a table, cannot apply {dotted!r}",
                                    from_override=True)
            node = node[part]
        node[parts[-1]] = value
        applied.append(join_key(walked, parts[-1]))
    return applied


def _is_under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + ".") or key.startswith(prefix + "[")
