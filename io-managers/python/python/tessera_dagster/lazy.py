"""``LazyPartitions``: upstream partitions loaded one at a time, on access."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tessera_dagster._native import Blob
from tessera_dagster.values import decode


class LazyPartitions(Mapping[str, Any]):
    """A read-only mapping of partition key to value, in partition order.

    Holds one ``Blob`` per partition (a handle on the mapped segment, no data
    copied) and decodes a partition only when it is accessed, without caching
    it: iterating over 365 daily partitions holds one decoded value at a time.
    Annotate an input with ``LazyPartitions`` (or set the input metadata
    ``{"tessera/lazy": True}``) to get one instead of Dagster's ``dict``.
    """

    def __init__(
        self, blobs: dict[str, Blob], target: Any = None, arrow_backed_pandas: bool = False
    ) -> None:
        self._blobs = blobs
        self._target = target
        self._arrow_backed_pandas = arrow_backed_pandas

    def __getitem__(self, partition: str) -> Any:
        return decode(self._blobs[partition], self._target, self._arrow_backed_pandas)

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)

    def blob(self, partition: str) -> Blob:
        """The stored payload of ``partition``, undecoded."""
        return self._blobs[partition]

    def __repr__(self) -> str:
        return f"LazyPartitions({list(self._blobs)!r})"
