"""Stores held open for the life of the process (``TesseraIOManager(keep_open=True)``).

Keyed by process id: a forked child opens its own store (waiting for its
parent's lock) and never flushes or closes its parent's.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Iterator

from tessera_dagster._native import Store

_HELD: dict[tuple[int, str, str, bool], Store] = {}
_GUARD = threading.Lock()


@contextlib.contextmanager
def held_store(
    path: str, durability: str, lock_timeout: float, verify_checksums: bool = True
) -> Iterator[Store]:
    """The process's open store for ``(path, durability, verify_checksums)``, opened on
    first use.

    It keeps the directory lock until the process exits (or ``close_held_stores``),
    so other processes wait for it: for Dagster's in-process executor only.
    """
    key = (os.getpid(), path, durability, verify_checksums)
    with _GUARD:
        store = _HELD.get(key)
        if store is None or store.closed:
            store = Store(
                path,
                durability=durability,
                lock_timeout=lock_timeout,
                verify_checksums=verify_checksums,
            )
            _HELD[key] = store
    yield store


def close_held_stores() -> None:
    """Flushes and closes every store this process holds, releasing their directories."""
    pid = os.getpid()
    with _GUARD:
        mine = [key for key in _HELD if key[0] == pid]
        stores = [_HELD.pop(key) for key in mine]
    for store in stores:
        store.close()


atexit.register(close_held_stores)
