"""The scenario tests' material: the packaged good file, parsed, and a small TOML writer.

Tests mutate the parsed good file (`mutate`), write it back (`write`) and check the one-line
error that comes back (`assert_one_line_error`).
"""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path
from typing import Any

from sim.scenario import ScenarioError

PACKAGED = Path(__file__).resolve().parents[2] / "sim" / "scenarios" / "bennu-hover.toml"
GOOD_TEXT = PACKAGED.read_text(encoding="utf-8")
GOOD: dict[str, Any] = tomllib.loads(GOOD_TEXT)
DELETE = object()

# ----------------------------------------------------------------------------- helpers


def _toml_str(text: str) -> str:
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F or c in '"\\'
                      else c for c in text)
    return f'"{escaped}"'


def _toml_key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else _toml_str(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def to_toml(data: dict[str, Any], path: str = "") -> str:
    """A small TOML writer: enough for scenario dicts, so tests can mutate parsed data."""
    lines = []
    for key, value in data.items():
        if not isinstance(value, dict) and not _is_table_array(value):
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in data.items():
        sub = f"{path}.{_toml_key(key)}" if path else _toml_key(key)
        if isinstance(value, dict):
            lines.append(f"\n[{sub}]")
            lines.append(to_toml(value, sub))
        elif _is_table_array(value):
            for entry in value:
                lines.append(f"\n[[{sub}]]")
                lines.append(to_toml(entry, sub))
    return "\n".join(lines)


def mutate(data: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def write(folder: Path, data: dict[str, Any], name: str = "case.toml") -> Path:
    path = folder / name
    path.write_text(to_toml(data), encoding="utf-8")
    return path


def assert_one_line_error(err: ScenarioError, path: Path, key: str | None) -> str:
    message = str(err)
    assert "\n" not in message and "\r" not in message
    assert str(path) in message and path.name in message
    if key is not None:
        assert err.key == key
        assert f": {key}" in message
    return message
