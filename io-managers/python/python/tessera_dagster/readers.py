"""Read-only stores kept for the life of a process, refreshed before each read.

``TesseraIOManager.load_input`` reads through one read-only store per process
and directory instead of opening the store for every load: a read-only store
takes no lock (writers in other processes never wait for it) and
``Store.refresh()`` catches it up with everything committed since (a directory
listing when nothing changed, a replay of the new batches otherwise, a rebuild
after a compaction). The cache is keyed by process id, so a forked subprocess
opens its own instead of using its parent's.

On object storage (``s3://bucket/prefix``, ``file:///dir``...) a read-only
store is a handle that never writes; ``refresh()`` reads the log objects
committed since (one GET that finds nothing when nothing changed).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from tessera_dagster._native import NotAStoreError, Store
from tessera_dagster.remote import is_remote, options_key, store_key

_READERS: dict[tuple, Store] = {}
_GUARD = threading.Lock()


def refreshed_reader(
    path: str,
    lock_timeout: float,
    verify_checksums: bool = True,
    options: Mapping[str, Any] | None = None,
) -> Store:
    """This process's read-only store for ``path``, caught up with the log (one per
    ``verify_checksums`` setting, whether reads recompute each payload's crc32, and
    per set of ``Store`` keyword ``options``, those of an object-store address).

    A directory or bucket prefix that holds no store yet is created first (by a
    writable open, waiting up to ``lock_timeout`` seconds for a directory's lock),
    so a load before any write finds an empty store rather than an error.
    """
    options = dict(options or {})
    key = (os.getpid(), store_key(path), verify_checksums, options_key(options))
    with _GUARD:
        store = _READERS.get(key)
        if store is None:
            store = _open_reader(path, lock_timeout, verify_checksums, options)
            _READERS[key] = store
            return store
    store.refresh()
    return store


def _open_reader(
    path: str, lock_timeout: float, verify_checksums: bool, options: dict[str, Any]
) -> Store:
    """A new read-only store for ``path``, creating the store if there is none."""

    def read_only() -> Store:
        return Store(path, read_only=True, verify_checksums=verify_checksums, **options)

    if not is_remote(path):
        if not os.path.exists(os.path.join(path, "FORMAT")):
            Store(path, lock_timeout=lock_timeout).close()
        return read_only()
    try:
        return read_only()
    except NotAStoreError:
        Store(path, **options).close()
        return read_only()

