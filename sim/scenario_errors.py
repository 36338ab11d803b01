"""The one-line scenario error, and how keys and values found in the input are shown in it."""

import json
import numbers
import re
from collections.abc import Mapping
from typing import Any


class ScenarioError(Exception):
    """A scenario that cannot be flown, explained in one line: file, dotted key, expectation.

    `file` is the file as the user named it (None when no file was found), `key` the dotted
    key (None for problems of the whole file, such as TOML syntax), `problem` what was
    expected and what was found, `from_override` whether the value came from `overrides`.
    """

    def __init__(self, file: str | None, key: str | None, problem: str,
                 from_override: bool = False):
        self.file = file
        self.key = key
        self.problem = problem
        self.from_override = from_override
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if self.key is not None:
            parts.append(self.key + (" (override)" if self.from_override else ""))
        parts.append(self.problem)
        return _one_line(": ".join(parts))

    def __str__(self) -> str:
        return self._format()

    def __reduce__(self):
        # Monte Carlo workers send errors across processes; keep them picklable.
        return (type(self), (self.file, self.key, self.problem, self.from_override))


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def join_key(path: str, part: Any) -> str:
    """Dotted key as TOML writes it: odd names quoted, so a message stays one line."""
    text = part if isinstance(part, str) else str(part)
    if not _BARE_KEY.fullmatch(text):
        text = json.dumps(text)
    return f"{path}.{text}" if path else text


def number_text(x: float) -> str:
    """A number as a message writes it: 5.0 as 5, anything else as repr."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def show_value(value: Any, depth: int = 0) -> str:
    """A short, single-line, TOML-like rendering of a value found in the input."""
    try:
        text = _render(value, depth)
    except Exception:  # an exotic override value must not hide the real error
        text = f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


def _render(value: Any, depth: int) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, numbers.Integral):
        text = str(int(value)) if abs(int(value)) < 10**30 else "a huge integer"
    elif isinstance(value, numbers.Real):
        text = repr(float(value))
    elif isinstance(value, str):
        text = repr(value)
    elif isinstance(value, (list, tuple)):
        text = "[...]" if depth > 2 else "[" + ", ".join(
            show_value(v, depth + 1) for v in value[:8]) + (", ...]" if len(value) > 8 else "]")
    elif isinstance(value, Mapping):
        text = "a table"
    elif value is None:
        text = "nothing (None)"
    else:
        text = f"a {type(value).__name__}"
    return text


def _one_line(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text)
