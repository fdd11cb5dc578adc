"""A single-run backfill's output: one value covering several partitions, split per partition."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tessera_dagster import values


def split_range_output(
    obj: Any, partitions: list[str | None], partition_column: str | None
) -> list[tuple[str | None, values.Encoded]]:
    """One encoded value per partition of ``partitions``, in that order.

    ``obj`` is a ``dict`` keyed by exactly those partitions, or a table
    (pyarrow, pandas, polars) whose ``partition_column`` holds each row's
    partition key (dates are compared in their ISO form, as Dagster's daily
    keys are). Partitions without rows get an empty table.
    """
    if isinstance(obj, dict):
        return _split_dict(obj, partitions)
    arrow = values.as_arrow(obj)
    if arrow is None or partition_column is None:
        raise TypeError(
            f"a single-run backfill's output covers {len(partitions)} partitions: return a dict "
            "keyed by partition, or a table (pyarrow, pandas, polars) with a column naming each "
            "row's partition, named by the asset's metadata "
            '{"partition_column": "<column>"}'
        )
    table, kind = arrow
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    return _split_table(table, kind, partitions, partition_column)


def _split_dict(obj: dict, partitions: list[str | None]) -> list[tuple[str | None, values.Encoded]]:
    keys = {str(k) for k in obj}
    wanted = {str(p) for p in partitions}
    if keys != wanted:
        missing = sorted(wanted - keys)
        extra = sorted(keys - wanted)
        raise ValueError(
            f"a single-run backfill's dict output must have exactly the run's {len(wanted)} "
            f"partitions as keys; missing {missing[:10]}, unexpected {extra[:10]}"
        )
    by_key = {str(k): v for k, v in obj.items()}
    return [(p, values.encode(by_key[str(p)])) for p in partitions]


def _split_table(
    table: pa.Table, kind: str, partitions: list[str | None], column: str
) -> list[tuple[str | None, values.Encoded]]:
    if column not in table.column_names:
        raise KeyError(
            f"partition_column {column!r} is not a column of the output "
            f"(columns: {table.column_names})"
        )
    keys = pc.cast(table[column], pa.string())
    unknown = set(pc.unique(keys).to_pylist()) - {str(p) for p in partitions}
    if unknown:
        raise ValueError(
            f"rows of the output name partitions outside this run: {sorted(map(str, unknown))[:10]}"
        )
    return [
        (p, values.encode_arrow_as(table.filter(pc.equal(keys, str(p))), kind))
        for p in partitions
    ]
