"""Arrow data in and out of the store as Arrow IPC files (the engine's Arrow codec).

Reads are zero-copy: ``table_from_blob`` wraps the blob's mapped bytes in a
``pyarrow.Buffer`` whose base object is the blob, so every column buffer of
the returned table points into the store's segment and keeps it mapped for as
long as Python holds any of them.
"""

from __future__ import annotations

import pyarrow as pa

from tessera_dagster._native import Blob


def ipc_bytes(table: pa.Table | pa.RecordBatch) -> bytes:
    """Encodes a table or record batch as an Arrow IPC file."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write(table)
    return sink.getvalue().to_pybytes()


def buffer_from_blob(blob: Blob) -> pa.Buffer:
    """The blob's bytes as a ``pyarrow.Buffer``, without copying; the buffer keeps the blob alive."""
    return pa.foreign_buffer(blob.address, blob.size, base=blob)


def table_from_blob(blob: Blob) -> pa.Table:
    """Decodes an Arrow blob; every buffer of the table points into the store's mapping."""
    if blob.codec != "arrow":
        raise TypeError(
            f"partition {blob.partition!r} of asset {'/'.join(blob.asset)} holds "
            f"{blob.codec} data, not Arrow"
        )
    return pa.ipc.open_file(buffer_from_blob(blob)).read_all()
