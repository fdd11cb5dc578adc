"""Stores held open for the life of the process (``TesseraIOManager(keep_open=True)``).

Keyed by process id: a forked child opens its own store (waiting for its
parent's lock) and never flushes or closes its parent's.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from tessera_dagster._native import Store
from tessera_dagster.remote import options_key, store_key

_HELD: dict[tuple, Store] = {}
_GUARD = threading.Lock()


@contextlib.contextmanager
def held_store(
    path: str,
    durability: str,
    lock_timeout: float,
    verify_checksums: bool = True,
    options: Mapping[str, Any] | None = None,
) -> Iterator[Store]:
    """The process's open store for ``(path, durability, verify_checksums, options)``
    (``options``: more ``Store`` keyword arguments, those of an object-store address),
    opened on first use.

    It keeps the directory lock until the process exits (or ``close_held_stores``),
    so other processes wait for it: for Dagster's in-process executor only. A store
    on object storage has no lock: other processes write meanwhile.
    """
    options = dict(options or {})
    key = (os.getpid(), store_key(path), durability, verify_checksums, options_key(options))
    with _GUARD:
        store = _HELD.get(key)
        if store is None or store.closed:
            store = Store(
                path,
                durability=durability,
                lock_timeout=lock_timeout,
                verify_checksums=verify_checksums,
                **options,
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
