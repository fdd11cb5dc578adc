"""Tessera's embedded partition store for Python, and a Dagster I/O manager over it.

``Store`` is the engine's store (open, put/get, list, delete, verify), in a
directory or on S3-compatible object storage (``s3://bucket/prefix``); reads
return a ``Blob`` that borrows the memory-mapped segment, and
``tessera_dagster.arrow.table_from_blob`` turns an Arrow blob into a
``pyarrow.Table`` without copying. ``TesseraIOManager`` (imported lazily, so
the store works without Dagster installed) stores Dagster asset outputs.
"""

from tessera_dagster._native import (
    Blob,
    CorruptedError,
    InvalidKeyError,
    LockedError,
    NotAStoreError,
    ObjectStoreError,
    ReadOnlyError,
    Store,
    StoreClosedError,
    TesseraError,
    UnsupportedError,
    checksum,
)

__all__ = [
    "Blob",
    "CorruptedError",
    "InvalidKeyError",
    "LazyPartitions",
    "LockedError",
    "NotAStoreError",
    "ObjectStoreError",
    "ReadOnlyError",
    "Store",
    "StoreClosedError",
    "TesseraError",
    "TesseraIOManager",
    "UnsupportedError",
    "checksum",
]


def __getattr__(name: str):
    if name == "TesseraIOManager":
        from tessera_dagster.io_manager import TesseraIOManager

        return TesseraIOManager
    if name == "LazyPartitions":
        from tessera_dagster.lazy import LazyPartitions

        return LazyPartitions
    raise AttributeError(f"module 'tessera_dagster' has no attribute {name!r}")
