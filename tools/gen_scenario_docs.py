"""Write docs/scenario_reference.md from the scenario schema (sim/scenario_schema.py).

    python tools/gen_scenario_docs.py            # rewrite the file
    python tools/gen_scenario_docs.py --check    # exit 1 if the file is out of date

Every key a scenario file may hold, with its type, unit, accepted values and default,
taken from the tables the validator itself applies (sim/scenario_schema.py,
sim/scenario_defaults.py, sim/scenario_faults.py), so the page cannot promise what
the validator refuses.  Units come from the key names, which carry them by the
house's rule (`_m`, `_mps2`, `_deg`, ...).
"""

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from generated_doc import write_or_check  # noqa: E402

from sim import scenario_schema as schema  # noqa: E402
from sim.scenario_defaults import BODIES, DEFAULTS  # noqa: E402
from sim.scenario_faults import FAULT_KINDS  # noqa: E402

OUT = ROOT / "docs" / "scenario_reference.md"

# Unit of a key from its name's last part(s); longest suffix first so `_mps2` is not `_s`.
UNIT_SUFFIXES = (
    ("_m3s2", "m³/s²"), ("_kgm2", "kg·m²"), ("_kgm3", "kg/m³"), ("_mps2", "m/s²"),
    ("_mps", "m/s"), ("_radps", "rad/s"), ("_degps", "deg/s"), ("_nspm", "N·s/m"),
    ("_npm", "N/m"), ("_arcsec", "arcsec"), ("_fraction", "fraction"), ("_frac", "fraction"),
    ("_prob", "probability"), ("_ns", "N·s"), ("_nm", "N·m"), ("_kg", "kg"), ("_hz", "Hz"),
    ("_deg", "deg"), ("_rad", "rad"), ("_au", "au"), ("_m", "m"), ("_s", "s"), ("_h", "h"),
    ("_n", "N"), ("_v", "V"),
)
SECTION_SCHEMAS = (
    ("scenario", schema.SCENARIO_SCHEMA, "The run itself."),
    ("body", schema.BODY_SCHEMA, "The asteroid. Its constants default per body (`name`)."),
    ("spacecraft", schema.SPACECRAFT_SCHEMA, "The vehicle as built."),
    ("initial", schema.INITIAL_SCHEMA, "Where the probe starts and how well it knows it."),
    ("sensors", schema.SENSORS_SCHEMA, "Rates and noise of the instruments; every rate must "
                                       "divide `scenario.sim_rate_hz` evenly."),
    ("dispersions", schema.DISPERSIONS_SCHEMA, "Spreads a sweep draws per seed."),
    ("tag", schema.TAG_SCHEMA, "Touch-and-go; without this table the run has no descent."),
    ("prospect", schema.PROSPECT_SCHEMA, "The survey and site choice; without this table "
                                         "the run has no survey."),
)


def unit_of(key: str) -> str:
    leaf = key.rsplit(".", 1)[-1]
    for suffix, unit in UNIT_SUFFIXES:
        if leaf.endswith(suffix):
            return unit
    return ""


def type_of(rule: Any) -> str:
    if isinstance(rule, schema.NumberRule):
        return "integer" if rule.integer else "number"
    if isinstance(rule, schema.VectorRule):
        return f"array of {rule.length} numbers"
    if isinstance(rule, schema.TextRule):
        return "string"
    if isinstance(rule, schema.FlagRule):
        return "boolean"
    raise TypeError(f"no type name for rule {rule!r}")


def value_text(value: Any) -> str:
    if value is None:
        return "unset (drawn from the seed)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def default_of(key: str) -> str:
    """The default as a scenario file would write it, or why there is none."""
    if key in DEFAULTS:
        return value_text(DEFAULTS[key])
    parent, _, leaf = key.rpartition(".")
    parent_default = DEFAULTS.get(parent)
    if isinstance(parent_default, Mapping) and leaf in parent_default:
        return value_text(parent_default[leaf])
    if parent == "body" and all(leaf in constants for constants in BODIES.values()):
        return "per body: " + ", ".join(f"{body} {value_text(constants[leaf])}"
                                        for body, constants in BODIES.items())
    return "required"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def key_rows(prefix: str, table: Mapping[str, Any]) -> list[str]:
    rows = []
    for name, rule in table.items():
        key = f"{prefix}.{name}"
        if isinstance(rule, Mapping):
            rows += key_rows(key, rule)
            continue
        rows.append(f"| `{key}` | {type_of(rule)} | {unit_of(key)} | {cell(rule.describe())} | "
                    f"{cell(default_of(key))} |")
    return rows


HEADER = ["| key | type | unit | accepted values | default |", "|---|---|---|---|---|"]


def fault_rows() -> list[str]:
    duration = schema.NumberRule(gt=0.0, le=schema.MAX_DURATION_S)
    lines = ["| kind | its keys | flight monitor | what it does |", "|---|---|---|---|"]
    for name, kind in FAULT_KINDS.items():
        keys = [f"`{k}` ({type_of(r)}{', ' + unit_of(k) if unit_of(k) else ''}; "
                f"{cell(r.describe())}; "
                + ("required" if k in kind.required else
                   "default " + value_text(DEFAULTS[f"faults[].{k}"])
                   if f"faults[].{k}" in DEFAULTS else "optional") + ")"
                for k, r in kind.keys.items()]
        if kind.timed:
            keys.append(f"`duration_s` (number, s; {duration.describe()}; optional: unset, "
                        "the fault lasts to the end of the run)")
        hil = " HIL only (`prospector hil`)." if kind.hil_only else ""
        lines.append(f"| `{name}` | {'<br>'.join(keys) or 'none'} | {kind.monitor} | "
                     f"{cell(kind.what)}.{hil} |")
    return lines


def render() -> str:
    lines = [
        "# Scenario reference",
        "",
        "Generated by `tools/gen_scenario_docs.py` from the scenario schema "
        "(`sim/scenario_schema.py`,",
        "`sim/scenario_defaults.py`, `sim/scenario_faults.py`); do not edit by hand.",
        "",
        "A scenario is a TOML file (`prospector run --scenario path/to/file.toml`, or a",
        "packaged name: `prospector scenarios` lists them).  Its top-level tables are "
        + ", ".join(f"`{k}`" for k in schema.TOP_KEYS) + ".",
        "A key that is not listed here is refused with one line naming it; a key with no",
        "default is required (inside an optional table: required when the table is there).",
        "`--set KEY=VALUE` overrides any key below with a TOML value.",
        "Truth keys (default \"unset\") are what the world really is, unknown to the flight",
        "software; unset, the world draws them from the seed.",
        "",
    ]
    for section, table, about in SECTION_SCHEMAS:
        lines += [f"## [{section}]", "", about, "", *HEADER, *key_rows(section, table), ""]
    lines += ["## [[tag.hazards]]", "",
              "Boulders at the site, an array of tables (default none).", "", *HEADER,
              *key_rows("tag.hazards[]", schema.HAZARD_SCHEMA),
              "| `tag.hazards[].mapped` | boolean |  | true or false (false: the hazard map "
              "does not know it) | true |", ""]
    lines += ["## [[commands]]", "",
              "Ground commands sent at mission times (default none), in non-decreasing "
              "time order; [ground commands](commands.md) lists the names and their "
              "arguments.", "", *HEADER,
              f"| `commands[].t_s` | number | s | {cell(schema.COMMAND_TIME.describe())} "
              "| required |",
              f"| `commands[].name` | string |  | {cell(schema.COMMAND_NAME.describe())} "
              "| required |",
              "| `commands[].args` | array |  | the command's arguments, in order | [] |", ""]
    lines += ["## [[faults]]", "",
              "Faults injected at mission times (default none).  Every entry has `kind` "
              "and `t_s` (number, s; >= 0 and below `scenario.duration_s`), and the keys of "
              "its kind:", "", *fault_rows(), ""]
    lines += ["## [params]", "",
              f"Flight-software parameters set before the run: `NAME = number`, NAME "
              f"{schema.PARAM_NAME_RULE} (default none; the flight software's own "
              "parameter table says which names exist).", ""]
    return "\n".join(lines)


def main() -> int:
    return write_or_check(__doc__.splitlines()[0], OUT, ROOT, render, "gen_scenario_docs.py")


if __name__ == "__main__":
    sys.exit(main())
