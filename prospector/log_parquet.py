"""`prospector log export --format parquet`: one Parquet file per message type.

The same columns as the CSV export (ground/logs/export.py) under the same names:
timestamp_us, src_system, src_component, seq, then each field, an array field spread
over "field[0]", "field[1]", ...  Unlike the CSV, each column keeps its wire type
(uint64 stamps, float32 fields stay float32), so `pd.read_parquet(dir / "TYPE.parquet")`
gives the log's own values with no text in between.  Nothing is overwritten unless
asked (`force`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ground.logs.export import ExportError, columns_of

PARQUET_COMPRESSION = "zstd"  # pyarrow's fastest good ratio on telemetry columns


def parquet_columns(m) -> dict[str, np.ndarray]:
    """The named 1-d columns of one message type, as the CSV export names them."""
    out: dict[str, np.ndarray] = {}
    for field, column in columns_of(m).items():
        if column.ndim == 2:
            for k in range(column.shape[1]):
                out[f"{field}[{k}]"] = np.ascontiguousarray(column[:, k])
        else:
            out[field] = column
    return out


def export_parquet(log, out_dir: Path, force: bool = False) -> list[Path]:
    """Write TYPE.parquet for every type of `log` into out_dir (created); the files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir}: exists and is not a directory (Parquet export writes "
                          "one file per message type into a directory)")
    targets = [out_dir / f"{name}.parquet" for name in log.messages]
    if not force:
        taken = [p for p in targets if p.exists()]
        if taken:  # refused before anything is written: no half-replaced export
            raise ExportError(f"{taken[0]}: exists; choose another --out or pass --force "
                              "to replace it")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for (name, m), path in zip(log.messages.items(), targets, strict=True):
        columns = parquet_columns(m)
        table = pa.table({k: pa.array(v) for k, v in columns.items()})
        table = table.replace_schema_metadata({"mavlink_message": name,
                                               "msg_id": str(m.msg_id)})
        try:
            pq.write_table(table, path, compression=PARQUET_COMPRESSION)
        except IsADirectoryError:
            raise ExportError(f"{path}: is a directory") from None
        except OSError as exc:
            raise ExportError(f"{path}: cannot write: {exc.strerror or exc}") from None
        written.append(path)
    return written
