"""Read-only stores kept for the life of a process, refreshed before each read.

``TesseraIOManager.load_input`` reads through one read-only store per process
and directory instead of opening the store for every load: a read-only store
takes no lock (writers in other processes never wait for it) and
``Store.refresh()`` catches it up with everything committed since (a directory
listing when nothing changed, a replay of the new batches otherwise, a rebuild
after a compaction). The cache is keyed by process id, so a forked subprocess
opens its own instead of using its parent's.
"""

from __future__ import annotations

import os
import threading

from tessera_dagster._native import Store

_READERS: dict[tuple[int, str, bool], Store] = {}
_GUARD = threading.Lock()


def refreshed_reader(path: str, lock_timeout: float, verify_checksums: bool = True) -> Store:
    """This process's read-only store for ``path``, caught up with the log (one per
    ``verify_checksums`` setting: whether reads recompute each payload's crc32).

    A directory that holds no store yet is created first (by a writable open
    that waits up to ``lock_timeout`` seconds for the lock), so a load before
    any write finds an empty store rather than an error.
    """
    key = (os.getpid(), os.path.abspath(path), verify_checksums)
    with _GUARD:
        store = _READERS.get(key)
        if store is None:
            if not os.path.exists(os.path.join(path, "FORMAT")):
                Store(path, lock_timeout=lock_timeout).close()
            store = Store(path, read_only=True, verify_checksums=verify_checksums)
            _READERS[key] = store
            return store
    store.refresh()
    return store

