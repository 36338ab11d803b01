"""Declared dispersions: any scenario key drawn per seed from a named distribution.

In the [dispersions] table, beside the built-in `gm_sigma_frac`, an entry whose value is a
table names a scenario key (quoted, since it holds dots) and how it varies from seed to
seed, in the manner of Basilisk's MonteCarlo dispersions:

    [dispersions."spacecraft.thrusters.force_n"]
    distribution = "normal"      # mean (default: the scenario's value) and sigma
    sigma = 0.044
    truncate = [4.3, 4.5]        # optional: redrawn until inside [low, high]

    [dispersions."sensors.imu.accel_noise_mps2"]
    distribution = "uniform"
    bounds = [5e-6, 2e-5]        # [low, high)

    [dispersions."prospect.composition"]
    distribution = "choice"
    values = ["bennu", "ryugu"]  # equally likely; any kind of value the key takes

normal and uniform apply to real-valued keys (and flight parameters, params.NAME), and to
each element of a vector of reals, as Basilisk's NormalVectorCartDispersion: mean and sigma
one number for all elements or one per element, the bounds or truncation applying to each,
the elements drawn in order from the key's one stream.  choice applies to any key.  The run
itself (scenario.*), the body's name, commands, faults and hazards are not dispersed.
Everything is checked when the scenario loads, before any run: the distribution's name and
keys, sigma > 0, low < high, every bound and every choice within what the key accepts, and
an untruncated normal whose mean +- 6 sigma would leave it (a truncation is then required,
where the physics needs one).

The draws are applied only when asked (`load_scenario(..., dispersed=True)`: every sweep,
and `prospector run --dispersed`); a plain run flies the scenario's own values, so that
declaring dispersions in a packaged scenario changes none of its single runs.  The truth
keys (body.gm_error_frac, spacecraft.thrusters.magnitude_error_frac and cant_deg,
initial.*_offset_i_*, sensors.imu.*_bias_sc_*, tag.*_true*) are what the packaged scenarios
disperse: simulator-only values the probe does not know which, left unset, leave the
world's own seeded draw in place.

Seed derivation (the same on every machine and executor): the value of key K in the run
of seed S is drawn from numpy's PCG64 seeded with SeedSequence([E, S]), E being the first
16 bytes (little-endian) of SHA-256("dispersion:" + K).  One stream per key: declaring,
removing or reordering another dispersion never changes this one's draws, and the streams
are apart from every sensor's noise (sim.noise names those streams without the prefix).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.scenario_errors import ScenarioError, number_text, show_value
from sim.scenario_schema import (
    BODY_SCHEMA,
    INITIAL_SCHEMA,
    PROSPECT_SCHEMA,
    SENSORS_SCHEMA,
    SPACECRAFT_SCHEMA,
    TAG_SCHEMA,
    NumberRule,
    VectorRule,
)
from sim.scenario_validate import Context, check_value

DISTRIBUTIONS = {"normal": ("mean", "sigma", "truncate"), "uniform": ("bounds",),
                 "choice": ("values",)}
NORMAL_REACH_SIGMA = 6.0  # an untruncated normal must stay valid this far from its mean
MIN_TRUNCATED_MASS = 1e-3  # a truncation window must hold this much of the normal
MAX_REDRAWS = 100_000
_DISPERSIBLE = {"body": BODY_SCHEMA, "spacecraft": SPACECRAFT_SCHEMA,
                "initial": INITIAL_SCHEMA, "sensors": SENSORS_SCHEMA, "tag": TAG_SCHEMA,
                "prospect": PROSPECT_SCHEMA}
_ANY_PARAM = NumberRule(ge=-1e30, le=1e30)  # params.*: the flight software checks them at run


def split_declared(raw: dict[str, Any]) -> dict[str, Any]:
    """Take the declared entries (tables) out of raw [dispersions]; return them as given."""
    table = raw.get("dispersions")
    if not isinstance(table, dict):
        return {}
    declared = {k: v for k, v in table.items() if isinstance(v, dict)}
    for key in declared:
        del table[key]
    return declared


def _entry_key(key: str) -> str:
    return f'dispersions."{key}"'


def rule_of(ctx: Context, key: str):
    """The schema rule of a dispersible scenario key, or ScenarioError saying why not."""
    parts = key.split(".")
    where = _entry_key(key)
    if parts[0] == "params" and len(parts) == 2 and parts[1]:
        return _ANY_PARAM
    node = _DISPERSIBLE.get(parts[0])
    if node is None or key == "body.name" or len(parts) < 2:
        raise ctx.error(where, "expected the dotted name of a dispersible scenario key (under "
                               f"{', '.join(sorted(_DISPERSIBLE))} or params.NAME; not the "
                               "run itself, commands, faults or hazards)")
    for part in parts[1:]:
        if not isinstance(node, dict) or part not in node:
            raise ctx.error(where, f"no such scenario key {key!r}")
        node = node[part]
    if isinstance(node, dict):
        raise ctx.error(where, f"{key!r} is a table; name one of its keys")
    return node


def nominal_of(scenario, key: str) -> Any:
    """The scenario's own value of `key` (None if it has none, e.g. an unset parameter)."""
    node: Any = scenario.to_dict()
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def check_declared(label: str | None, declared: Mapping[str, Any], scenario) -> dict[str, dict]:
    """Each declared dispersion checked and completed (mean from the scenario); one-line
    ScenarioError for the first that is wrong."""
    ctx = Context(label)
    specs: dict[str, dict] = {}
    for key, entry in declared.items():
        where = _entry_key(key)
        rule = rule_of(ctx, key)
        table = key.split(".")[0]
        if table in ("tag", "prospect") and getattr(scenario, table) is None:
            # A draw would create the table, and turn the scenario into another kind of run.
            raise ctx.error(where, f"the scenario has no [{table}] table to disperse")
        name = entry.get("distribution")
        if not isinstance(name, str) or name not in DISTRIBUTIONS:
            raise ctx.error(f"{where}.distribution", f"expected one of "
                            f"{', '.join(repr(d) for d in DISTRIBUTIONS)}, got "
                            f"{show_value(name)}")
        allowed = ("distribution",) + DISTRIBUTIONS[name]
        extra = [k for k in entry if k not in allowed]
        if extra:
            raise ctx.error(f"{where}.{extra[0]}", f"unknown key for a {name} dispersion; "
                                                   f"known: {', '.join(allowed)}")
        if name == "choice":
            specs[key] = _check_choice(ctx, where, entry, rule, key)
            continue
        element = rule.element if isinstance(rule, VectorRule) else rule
        if not isinstance(element, NumberRule) or element.integer or \
                element.choices is not None:
            raise ctx.error(where, f"a {name} dispersion needs a real-valued key; {key} "
                                   f"takes {rule.describe()} (use distribution = \"choice\")")
        length = rule.length if isinstance(rule, VectorRule) else None
        if name == "uniform":
            lo, hi = _pair(ctx, f"{where}.bounds", entry.get("bounds"))
            for bound in (lo, hi):
                check_value(ctx, bound, element, f"{where}.bounds")
            specs[key] = {"distribution": "uniform", "bounds": [lo, hi]}
            if length is not None:
                specs[key]["length"] = length
        else:
            specs[key] = _check_normal(ctx, where, entry, element, nominal_of(scenario, key),
                                       length)
    return specs


def _check_choice(ctx: Context, where: str, entry: Mapping, rule, key: str) -> dict:
    values = entry.get("values")
    if not isinstance(values, list) or not values:
        raise ctx.error(f"{where}.values", f"expected a non-empty array of values for {key}, "
                                           f"got {show_value(values)}")
    for i, value in enumerate(values):
        check_value(ctx, value, rule, f"{where}.values[{i}]")
    return {"distribution": "choice", "values": list(values)}


def _per_element(ctx: Context, key: str, value: Any, length: int | None) -> Any:
    """A real number (scalar key), or a list of `length` (vector key: a number is given
    to every element)."""
    if length is None:
        return _real(ctx, key, value)
    if isinstance(value, (list, tuple)):
        if len(value) != length:
            raise ctx.error(key, f"expected a number or an array of {length} numbers, got "
                                 f"{show_value(list(value))}")
        return [_real(ctx, f"{key}[{i}]", v) for i, v in enumerate(value)]
    return [_real(ctx, key, value)] * length


def _check_normal(ctx: Context, where: str, entry: Mapping, rule: NumberRule,
                  nominal: Any, length: int | None = None) -> dict:
    """A normal dispersion of a real key, or of each element of a vector key (mean and
    sigma then per element, or one number for all; the truncation applies to each)."""
    mean = entry.get("mean", nominal)
    if mean is None:
        raise ctx.error(f"{where}.mean", "missing (the scenario has no value for this key "
                                         "to disperse about)")
    mean = _per_element(ctx, f"{where}.mean", mean, length)
    sigma = _per_element(ctx, f"{where}.sigma", entry.get("sigma"), length)
    spec = {"distribution": "normal", "mean": mean, "sigma": sigma}
    if "truncate" in entry:
        lo, hi = _pair(ctx, f"{where}.truncate", entry["truncate"])
        for bound in (lo, hi):
            check_value(ctx, bound, rule, f"{where}.truncate")
        spec["truncate"] = [lo, hi]
    pairs = zip(mean, sigma, strict=True) if length is not None else [(mean, sigma)]
    for m, s in pairs:
        _check_normal_element(ctx, where, m, s, spec.get("truncate"), rule)
    return spec


def _check_normal_element(ctx: Context, where: str, mean: float, sigma: float,
                          truncate: list | None, rule: NumberRule) -> None:
    if not sigma > 0.0:
        raise ctx.error(f"{where}.sigma", f"expected a number > 0, got {number_text(sigma)}")
    if truncate is not None:
        mass = _normal_mass(truncate[0], truncate[1], mean, sigma)
        if mass < MIN_TRUNCATED_MASS:
            raise ctx.error(f"{where}.truncate", f"holds {mass:.2g} of the normal's "
                            f"probability; expected a window where the normal lies "
                            f"(at least {MIN_TRUNCATED_MASS:g})")
        return
    for end in (mean - NORMAL_REACH_SIGMA * sigma, mean + NORMAL_REACH_SIGMA * sigma):
        try:
            check_value(ctx, end, rule, where)
        except ScenarioError:
            raise ctx.error(where, f"mean +- {NORMAL_REACH_SIGMA:g} sigma leaves what the key "
                                   f"takes ({rule.describe()}); expected truncate = "
                                   f"[low, high] within it") from None


def _real(ctx: Context, key: str, value: Any) -> float:
    try:  # float() of a TOML integer past 1e308 overflows
        number = float(value) if isinstance(value, (int, float)) and \
            not isinstance(value, bool) else math.nan
    except OverflowError:
        number = math.nan
    if not math.isfinite(number):
        raise ctx.error(key, f"expected a finite number, got {show_value(value)}")
    return number


def _pair(ctx: Context, key: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ctx.error(key, f"expected [low, high], got {show_value(value)}")
    lo, hi = (_real(ctx, key, v) for v in value)
    if not lo < hi:
        raise ctx.error(key, f"expected [low, high] with low < high, got {show_value(value)}")
    return lo, hi


def _normal_mass(lo: float, hi: float, mean: float, sigma: float) -> float:
    cdf = lambda x: 0.5 * (1.0 + math.erf((x - mean) / (sigma * math.sqrt(2.0))))  # noqa: E731
    return cdf(hi) - cdf(lo)


def stream(key: str, seed: int) -> np.random.Generator:
    """The documented seed derivation (module docstring)."""
    digest = hashlib.sha256(("dispersion:" + key).encode()).digest()
    entropy = [int.from_bytes(digest[:16], "little"), int(seed)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def draw(specs: Mapping[str, dict], seed: int) -> dict[str, Any]:
    """Every declared key's value for `seed` (plain Python values, JSON-ready; a vector
    key's elements drawn in order from its one stream)."""
    out: dict[str, Any] = {}
    for key, spec in specs.items():
        rng = stream(key, seed)
        kind = spec["distribution"]
        if kind == "choice":
            out[key] = spec["values"][int(rng.integers(len(spec["values"])))]
        elif kind == "uniform":
            lo, hi = spec["bounds"]
            values = [float(lo + (hi - lo) * rng.random())
                      for _ in range(spec.get("length", 1))]
            out[key] = values if "length" in spec else values[0]
        elif isinstance(spec["mean"], list):
            out[key] = [_normal(rng, m, s, spec.get("truncate"))
                        for m, s in zip(spec["mean"], spec["sigma"], strict=True)]
        else:
            out[key] = _normal(rng, spec["mean"], spec["sigma"], spec.get("truncate"))
    return out


def _normal(rng: np.random.Generator, mean: float, sigma: float,
            truncate: list | None) -> float:
    lo, hi = truncate if truncate is not None else (-math.inf, math.inf)
    for _ in range(MAX_REDRAWS):  # the window holds >= 1e-3: a few draws at most
        value = mean + sigma * float(rng.standard_normal())
        if lo <= value <= hi:
            break
    return float(value)
