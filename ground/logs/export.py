"""Columns of a log to files: one .npz for numpy users, or a CSV per message type.

npz: arrays named "TYPE.field" (array fields keep their second axis), plus
"TYPE.timestamp_us", "TYPE.src_system", "TYPE.src_component", "TYPE.seq";
char fields as str, as pymavlink gives them.  CSV: one file TYPE.csv per type
in a directory, a header row, array fields spread over "field[0]", "field[1]",
...; floats written in their shortest exact form.  Neither overwrites a file
unless asked (`force`).
"""

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ground.logs.columns import ColumnLog, MessageColumns

HEADER_COLUMNS = ("timestamp_us", "src_system", "src_component", "seq")
CSV_ROWS_PER_WRITE = 50_000


class ExportError(Exception):
    """The output cannot be written (exists, not a directory ...); one line."""


def columns_of(m: MessageColumns) -> dict[str, np.ndarray]:
    out = {name: getattr(m, name) for name in HEADER_COLUMNS}
    for field in m.fields:
        out[field] = m[field]
    return out


def export_npz(log: ColumnLog, path: Path, force: bool = False) -> int:
    """Write every type of `log` to one .npz; returns the number of arrays."""
    arrays = {}
    for name, m in log.messages.items():
        for field, column in columns_of(m).items():
            arrays[f"{name}.{field}"] = column
    with _open_new(path, force, "b") as handle:
        np.savez(handle, **arrays)
    return len(arrays)


def export_csv(log: ColumnLog, out_dir: Path, force: bool = False,
               progress: Callable[[int], None] | None = None) -> list[Path]:
    """Write TYPE.csv for every type of `log` into out_dir (created); returns the files."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir}: exists and is not a directory (CSV export writes one "
                          "file per message type into a directory)")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, m in log.messages.items():
        path = out_dir / f"{name}.csv"
        header, text_columns = _csv_columns(m)
        with _open_new(path, force, "") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            for lo in range(0, len(m), CSV_ROWS_PER_WRITE):
                hi = min(lo + CSV_ROWS_PER_WRITE, len(m))
                writer.writerows(zip(*(c[lo:hi] for c in text_columns), strict=True))
                if progress is not None:
                    progress(hi - lo)
        written.append(path)
    return written


def _csv_columns(m: MessageColumns) -> tuple[list[str], list[list[str]]]:
    header, columns = [], []
    for field, column in columns_of(m).items():
        if column.ndim == 2:
            for k in range(column.shape[1]):
                header.append(f"{field}[{k}]")
                columns.append(_as_text(column[:, k]))
        else:
            header.append(field)
            columns.append(_as_text(column))
    return header, columns


def _as_text(column: np.ndarray) -> list[str]:
    # numpy prints each float in the shortest form that reads back to the same float32/64.
    return column.astype(str).tolist()


def _open_new(path: Path, force: bool, binary: str):
    mode = ("w" if force else "x") + binary
    try:
        if binary:
            return open(path, mode)
        return open(path, mode, encoding="utf-8", newline="")
    except FileExistsError:
        raise ExportError(f"{path}: exists; choose another --out or pass --force to "
                          "replace it") from None
    except IsADirectoryError:
        raise ExportError(f"{path}: is a directory") from None
    except OSError as exc:
        raise ExportError(f"{path}: cannot write: {exc.strerror}") from None
