"""``TesseraIOManager``: Dagster asset outputs stored in a Tessera store.

``handle_output`` commits through a writable store that it opens (waiting for
the directory lock) and that closes ``write_linger`` seconds after the last
write, so the subprocesses of Dagster's multiprocess executor take turns. ``load_input`` reads through one read-only
store per process (no lock), refreshed before each load, so it sees everything
committed before the load began; values read stay valid whatever is written
later (they borrow the memory-mapped segment).

``base_dir`` may be ``s3://bucket/prefix`` (or another address of the engine's:
``gs://``, ``az://``, ``file:///dir``): the store then lives on object storage (no lock; every process commits log objects with
conditional creates), configured from the ``AWS_*`` environment and the
manager's S3 fields, and caches what it reads in ``cache_dir``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, Optional

import dagster as dg
from pydantic import Field

from tessera_dagster import values
from tessera_dagster._native import Blob, Store, checksum
from tessera_dagster.held import held_store
from tessera_dagster.lazy import LazyPartitions
from tessera_dagster.ranges import split_range_output
from tessera_dagster.readers import refreshed_reader
from tessera_dagster.remote import is_remote
from tessera_dagster.writers import lingering_writer

LAZY_METADATA_KEY = "tessera/lazy"
"""Input metadata that asks for a ``LazyPartitions`` instead of a ``dict``."""


class StoredPiece:
    """One partition's encoded value and its data version (the payload's crc32)."""

    def __init__(self, partition: str | None, encoded: values.Encoded) -> None:
        self.partition = partition
        self.encoded = encoded
        self.version = f"{checksum(encoded.data):08x}"

    def entry(self, asset: list[str]) -> tuple:
        """The ``Store.put_many`` entry that stores this piece."""
        return (
            asset,
            self.partition,
            self.encoded.data,
            self.encoded.codec,
            self.version,
            {values.TYPE_KEY: self.encoded.kind},
        )


class MissingPartitionError(LookupError):
    """An upstream partition the input needs is not in the store."""


class TesseraIOManager(dg.ConfigurableIOManager):
    """Stores asset outputs in a Tessera store at ``base_dir``.

    Tables (pyarrow, pandas, polars) are stored as Arrow IPC and loaded back
    without copying (into pyarrow; pandas and polars convert from there);
    ``bytes`` raw; anything else pickled. A partitioned asset stores one value
    per partition; a single-run backfill's output over several partitions is a
    ``dict`` keyed by partition, or one table whose ``partition_column``
    (asset metadata) names each row's partition, and is stored atomically, one
    version per partition. Several upstream partitions load as a ``dict`` (or,
    opt-in, a ``LazyPartitions``); input metadata ``allow_missing_partitions``
    skips missing ones.

    ``base_dir`` is a directory, or ``s3://bucket/prefix`` for a store on
    S3-compatible object storage shared by several machines. Such a store is
    configured like ``object_store`` (and the Rust CLI): from the ``AWS_*``
    environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
    ``AWS_SESSION_TOKEN``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``,
    ``AWS_ALLOW_HTTP``, and the web-identity and container credentials of EKS
    and ECS), then from the fields below, named as in ``dagster_aws``'s
    ``S3Resource`` where it has one. They apply to ``s3://`` addresses only.
    """

    base_dir: str = Field(
        description="The store's directory (created if missing), or s3://bucket/prefix for a "
        "store on S3-compatible object storage (also gs://, az:// and file:///dir, configured "
        "from the environment)."
    )
    durability: str = Field(
        default="immediate",
        description='"immediate": a write returns once it survives power loss; '
        '"buffered": once the OS has it (a process crash loses nothing).',
    )
    lock_timeout: float = Field(
        default=600.0,
        description="Seconds an operation waits while another process uses the store.",
    )
    arrow_backed_pandas: bool = Field(
        default=False,
        description="Load pandas DataFrames with pd.ArrowDtype columns that reference the "
        "store's memory (no copy) instead of NumPy columns.",
    )
    keep_open: bool = Field(
        default=False,
        description="Hold one writable store open in this process for every operation instead "
        "of opening it for each handle_output: saves the open and close per write, but other "
        "processes wait for the store until this one exits. In-process executor only.",
    )
    lazy_partition_loads: bool = Field(
        default=False,
        description="Load several upstream partitions as a LazyPartitions for every input.",
    )
    write_linger: float = Field(
        default=0.1,
        description="Seconds the writable store stays open after a handle_output, for the "
        "next one (writes in a burst share one open and close). Other processes wait at most "
        "this long for the lock; 0 opens and closes the store for every write.",
    )
    verify_checksums: bool = Field(
        default=True,
        description="Recompute each payload's crc32 on every load (a corrupted payload raises "
        "CorruptedError). Off, a load trusts the disk and the page cache and does not pass over "
        "the payload at all (the crc32 of 1 MiB takes about 0.06 ms).",
    )

    region_name: Optional[str] = Field(
        default=None,
        description="s3:// only: the bucket's region (default: AWS_REGION, else us-east-1).",
    )
    endpoint_url: Optional[str] = Field(
        default=None,
        description="s3:// only: the S3 endpoint of an S3-compatible server (MinIO, Ceph, R2, "
        "a moto server; default: AWS_ENDPOINT_URL, else AWS). An http:// endpoint allows "
        "plain HTTP.",
    )
    aws_access_key_id: Optional[str] = Field(
        default=None,
        description="s3:// only: the access key (default: AWS_ACCESS_KEY_ID, else the "
        "web-identity, container or instance credentials). Pass a dg.EnvVar.",
    )
    aws_secret_access_key: Optional[str] = Field(
        default=None,
        description="s3:// only: the secret key (default: AWS_SECRET_ACCESS_KEY). Pass a dg.EnvVar.",
    )
    aws_session_token: Optional[str] = Field(
        default=None,
        description="s3:// only: a session token (default: AWS_SESSION_TOKEN).",
    )
    storage_options: dict[str, str] = Field(
        default_factory=dict,
        description="s3:// only: more object_store S3 settings, applied last, e.g. "
        '{"timeout": "30s", "connect_timeout": "2s", "virtual_hosted_style_request": "true"}.',
    )
    cache_dir: Optional[str] = Field(
        default=None,
        description="Object storage only: the local directory that caches fetched log objects (mapped, "
        "so loads stay zero-copy); default: tessera-cache in the temporary directory.",
    )
    cache_limit_bytes: Optional[int] = Field(
        default=None,
        description="Object storage only: the most bytes the cache keeps, least recently read evicted "
        "first (default 1 GiB).",
    )
    max_retries: Optional[int] = Field(
        default=None,
        description="s3:// only: how many times the S3 client retries a failed request "
        "(default 10, with backoff from 0.1 s to 15 s). An unreachable endpoint fails after them.",
    )
    retry_timeout: Optional[float] = Field(
        default=None,
        description="s3:// only: seconds after a request's first try past which it is not "
        "retried (default 180).",
    )

    def _store_options(self) -> dict[str, Any]:
        """The ``Store`` keyword arguments of an object-store base_dir (empty for a directory
        when none is set; set on a directory, ``Store`` refuses them)."""
        settings = {
            "region": self.region_name,
            "endpoint": self.endpoint_url,
            "access_key_id": self.aws_access_key_id,
            "secret_access_key": self.aws_secret_access_key,
            "token": self.aws_session_token,
        }
        storage = {key: value for key, value in settings.items() if value is not None}
        if self.endpoint_url is not None and self.endpoint_url.startswith("http://"):
            storage["allow_http"] = "true"
        storage.update(self.storage_options)
        options: dict[str, Any] = {
            "cache_dir": self.cache_dir,
            "cache_limit": self.cache_limit_bytes,
            "max_retries": self.max_retries,
            "retry_timeout": self.retry_timeout,
            "storage_options": storage or None,
        }
        return {name: value for name, value in options.items() if value is not None}

    def _open(self) -> contextlib.AbstractContextManager[Store]:
        """The store a write goes through: held for the process, or open for this write
        and the ones that follow within ``write_linger`` seconds."""
        if self.keep_open:
            return self._held()
        return lingering_writer(
            self.base_dir,
            self.durability,
            self.lock_timeout,
            self.write_linger,
            self._store_options(),
        )

    def _reader(self) -> contextlib.AbstractContextManager[Store]:
        """The store a load reads through: the held one, or this process's read-only
        store; either caught up with every commit so far."""
        if self.keep_open:
            with self._held() as store:
                # On object storage other processes commit while it is held.
                if is_remote(self.base_dir):
                    store.refresh()
            return contextlib.nullcontext(store)
        reader = refreshed_reader(
            self.base_dir, self.lock_timeout, self.verify_checksums, self._store_options()
        )
        return contextlib.nullcontext(reader)

    def _held(self) -> contextlib.AbstractContextManager[Store]:
        return held_store(
            self.base_dir,
            self.durability,
            self.lock_timeout,
            self.verify_checksums,
            self._store_options(),
        )

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        asset = _asset_path(context)
        partitions = _output_partitions(context)
        if len(partitions) == 1:
            pieces = [(partitions[0], values.encode(obj))]
        else:
            column = (context.definition_metadata or {}).get("partition_column")
            pieces = split_range_output(obj, partitions, column)
        stored = [StoredPiece(partition, encoded) for partition, encoded in pieces]
        with self._open() as store:
            store.put_many([piece.entry(asset) for piece in stored])
        context.add_output_metadata(self._output_metadata(asset, stored))

    def _output_metadata(self, asset: list[str], stored: list[StoredPiece]) -> dict[str, Any]:
        path = "/".join([self.base_dir.rstrip("/"), *asset])
        if len(stored) == 1 and stored[0].partition is not None:
            path = f"{path}/{stored[0].partition}"
        versions = (
            stored[0].version
            if len(stored) == 1
            else ",".join(f"{piece.partition}={piece.version}" for piece in stored)
        )
        metadata: dict[str, Any] = {
            "path": dg.MetadataValue.path(path),
            "byte_size": dg.MetadataValue.int(sum(len(piece.encoded.data) for piece in stored)),
            "tessera/type": dg.MetadataValue.text(stored[0].encoded.kind),
            "tessera/data_version": dg.MetadataValue.text(versions),
        }
        rows = [piece.encoded.row_count for piece in stored]
        if all(count is not None for count in rows):
            metadata["dagster/row_count"] = dg.MetadataValue.int(sum(rows))
        if len(stored) > 1:
            metadata["tessera/partitions"] = dg.MetadataValue.int(len(stored))
        return metadata

    def load_input(self, context: dg.InputContext) -> Any:
        asset = _asset_path(context)
        target = context.dagster_type.typing_type if context.dagster_type else None
        if not context.has_asset_key or not context.has_asset_partitions:
            return self._decode(self._get_one(asset, None), target)
        partitions = list(context.asset_partition_keys)
        if not partitions:
            return None
        metadata = context.definition_metadata or {}
        allow_missing = bool(metadata.get("allow_missing_partitions", False))
        lazy = target is LazyPartitions or bool(
            metadata.get(LAZY_METADATA_KEY, self.lazy_partition_loads)
        )
        is_mapping, value_type = values.mapping_value_type(target)
        with self._reader() as store:
            blobs = {str(p): store.get(asset, str(p)) for p in partitions}
        present = _present(asset, blobs, allow_missing)
        if lazy:
            target = None if target is LazyPartitions else value_type
            return LazyPartitions(present, target, self.arrow_backed_pandas)
        if len(partitions) == 1 and not is_mapping:
            blob = present.get(str(partitions[0]))
            return None if blob is None else self._decode(blob, target)
        return {key: self._decode(blob, value_type) for key, blob in present.items()}

    def _decode(self, blob: Blob, target: Any) -> Any:
        return values.decode(blob, target, self.arrow_backed_pandas)

    def _get_one(self, asset: list[str], partition: str | None) -> Blob:
        with self._reader() as store:
            blob = store.get(asset, partition)
        if blob is None:
            raise MissingPartitionError(_missing_message(asset, [partition]))
        return blob


def _asset_path(context: dg.OutputContext | dg.InputContext) -> list[str]:
    if context.has_asset_key:
        return list(context.asset_key.path)
    return ["__op_outputs__", *context.get_identifier()]


def _output_partitions(context: dg.OutputContext) -> list[str | None]:
    if not context.has_asset_key or not context.has_asset_partitions:
        return [None]
    return [str(p) for p in context.asset_partition_keys]


def _present(
    asset: list[str], blobs: Mapping[str, Blob | None], allow_missing: bool
) -> dict[str, Blob]:
    missing = [key for key, blob in blobs.items() if blob is None]
    if missing and not allow_missing:
        raise MissingPartitionError(_missing_message(asset, missing))
    return {key: blob for key, blob in blobs.items() if blob is not None}


def _missing_message(asset: list[str], partitions: list[str | None]) -> str:
    shown = ", ".join("<unpartitioned>" if p is None else p for p in partitions[:10])
    more = f" and {len(partitions) - 10} more" if len(partitions) > 10 else ""
    return (
        f"asset {'/'.join(asset)} has no stored value for partition(s) {shown}{more}; "
        "set the input metadata allow_missing_partitions=True to skip missing partitions"
    )
