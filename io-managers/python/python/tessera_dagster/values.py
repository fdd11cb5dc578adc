"""How Python values become payloads and back.

Tables (``pyarrow.Table``/``RecordBatch``, pandas and polars DataFrames) are
stored as Arrow IPC files, so the Rust side, ``tessera show`` and pyarrow read
them; ``bytes`` are stored raw; anything else is pickled. The record's
metadata says which Python type was stored (``tessera.python.type``), so a load
without a type annotation returns the same kind of value.
"""

from __future__ import annotations

import collections.abc
import pickle
import typing
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from tessera_dagster._native import Blob
from tessera_dagster.arrow import buffer_from_blob, ipc_bytes, table_from_blob

TYPE_KEY = "tessera.python.type"
"""The record metadata key naming the stored Python type."""

ARROW_TABLE = "pyarrow.Table"
ARROW_BATCH = "pyarrow.RecordBatch"
PANDAS = "pandas.DataFrame"
POLARS = "polars.DataFrame"
BYTES = "bytes"
PICKLE = "pickle"


@dataclass(frozen=True)
class Encoded:
    """One value ready to store: codec, payload, stored type, row count if a table."""

    codec: str
    data: bytes
    kind: str
    row_count: int | None


def _module_of(value: Any) -> str:
    return type(value).__module__.split(".", 1)[0]


def is_pandas_frame(value: Any) -> bool:
    """Whether ``value`` is a pandas DataFrame (without importing pandas)."""
    return _module_of(value) == "pandas" and type(value).__name__ == "DataFrame"


def is_polars_frame(value: Any) -> bool:
    """Whether ``value`` is a polars DataFrame (without importing polars)."""
    return _module_of(value) == "polars" and type(value).__name__ == "DataFrame"


def as_arrow(value: Any) -> tuple[pa.Table | pa.RecordBatch, str] | None:
    """The Arrow form of a table-like value and its kind, or ``None`` if it is not one."""
    if isinstance(value, pa.Table):
        return value, ARROW_TABLE
    if isinstance(value, pa.RecordBatch):
        return value, ARROW_BATCH
    if is_pandas_frame(value):
        return pa.Table.from_pandas(value), PANDAS
    if is_polars_frame(value):
        return value.to_arrow(), POLARS
    return None


def encode(value: Any) -> Encoded:
    """Encodes ``value`` for the store."""
    arrow = as_arrow(value)
    if arrow is not None:
        table, kind = arrow
        return Encoded("arrow", ipc_bytes(table), kind, table.num_rows)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Encoded("raw", bytes(value), BYTES, None)
    return Encoded("raw", pickle.dumps(value, protocol=5), PICKLE, None)


def encode_arrow_as(table: pa.Table, kind: str) -> Encoded:
    """Encodes an Arrow table that will load back as ``kind``."""
    return Encoded("arrow", ipc_bytes(table), kind, table.num_rows)


def _kind_of_type(target: Any) -> str | None:
    """The stored kind a requested Python type asks for, or ``None`` for "as stored"."""
    if target is None or target is Any or target is object:
        return None
    if isinstance(target, type):
        if issubclass(target, pa.Table):
            return ARROW_TABLE
        if issubclass(target, pa.RecordBatch):
            return ARROW_BATCH
        if issubclass(target, (bytes, bytearray)):
            return BYTES
        module = target.__module__.split(".", 1)[0]
        if module == "pandas" and target.__name__ == "DataFrame":
            return PANDAS
        if module == "polars" and target.__name__ == "DataFrame":
            return POLARS
    return None


def _from_table(table: pa.Table, kind: str, arrow_backed_pandas: bool) -> Any:
    if kind == ARROW_TABLE:
        return table
    if kind == ARROW_BATCH:
        batches = table.combine_chunks().to_batches()  # one stored batch: no copy
        return batches[0] if batches else _empty_batch(table)
    if kind == PANDAS:
        if arrow_backed_pandas:
            import pandas as pd

            return table.to_pandas(types_mapper=pd.ArrowDtype)  # columns keep the mapped buffers
        return table.to_pandas()
    if kind == POLARS:
        import polars as pl

        return pl.from_arrow(table)
    raise TypeError(f"an Arrow payload cannot load as {kind}")


def _empty_batch(table: pa.Table) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=table.schema)


def decode(blob: Blob, target: Any = None, arrow_backed_pandas: bool = False) -> Any:
    """The stored value, as ``target`` (a type) asks, or as stored when ``target`` says nothing.

    With ``arrow_backed_pandas``, a pandas DataFrame gets ``pd.ArrowDtype`` columns that
    reference the store's buffers instead of NumPy copies.
    """
    stored = blob.metadata.get(TYPE_KEY)
    wanted = _kind_of_type(target) or stored
    if blob.codec == "arrow":
        return _from_table(table_from_blob(blob), wanted or ARROW_TABLE, arrow_backed_pandas)
    if blob.codec != "raw":
        raise TypeError(
            f"partition {blob.partition!r} of asset {'/'.join(blob.asset)} holds "
            f"{blob.codec} data, which Python cannot load"
        )
    if stored == PICKLE:
        value = pickle.loads(buffer_from_blob(blob))
        _check_type(value, target, blob)
        return value
    if wanted not in (None, BYTES):
        raise TypeError(
            f"partition {blob.partition!r} of asset {'/'.join(blob.asset)} holds raw bytes, "
            f"which cannot load as {wanted}"
        )
    return blob.to_bytes()


def _check_type(value: Any, target: Any, blob: Blob) -> None:
    if isinstance(target, type) and target is not object and not isinstance(value, target):
        raise TypeError(
            f"partition {blob.partition!r} of asset {'/'.join(blob.asset)} holds a pickled "
            f"{type(value).__name__}, not {target.__name__}"
        )


def mapping_value_type(target: Any) -> tuple[bool, Any]:
    """Whether ``target`` is a dict or Mapping type, and its value type (``None`` if unsaid)."""
    if target is dict:
        return True, None
    if typing.get_origin(target) in (dict, collections.abc.Mapping):
        args = typing.get_args(target)
        return True, args[1] if len(args) == 2 else None
    return False, target
