"""Writable stores kept open briefly between writes (``TesseraIOManager.handle_output``).

A writable open takes the directory lock and a close flushes and seals the
store; paying both for every output makes each write cost milliseconds
whatever its size. A writer here stays open for ``linger`` seconds after its
last write, so writes that follow each other (a step with several outputs,
consecutive ``materialize`` calls, a script) share one open and one close;
then a timer closes it, which flushes it and releases the lock for the other
processes waiting on it. Writers are keyed by process id: a forked child opens
its own and never closes its parent's. Every writer still open when the
interpreter exits is closed then.

On object storage there is no lock to release: lingering only saves the open
(reading the latest checkpoint and the log after it); each write is one
conditional create of the next log object, durable when it returns.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from tessera_dagster._native import Store, TesseraError
from tessera_dagster.remote import options_key, store_key

_GUARD = threading.Lock()


class _Writer:
    """One open writable store, how many writes use it now, and its close timer."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.users = 0
        self.timer: threading.Timer | None = None


_WRITERS: dict[tuple, _Writer] = {}


@contextlib.contextmanager
def lingering_writer(
    path: str,
    durability: str,
    lock_timeout: float,
    linger: float,
    options: Mapping[str, Any] | None = None,
) -> Iterator[Store]:
    """A writable store for ``path``: this process's open one if a write used it less
    than ``linger`` seconds ago, else a new one (waiting up to ``lock_timeout`` for
    the lock; ``options``: more ``Store`` keyword arguments, those of an object-store
    address). ``linger <= 0`` opens and closes a store for this write alone."""
    options = dict(options or {})

    def open_store() -> Store:
        return Store(path, durability=durability, lock_timeout=lock_timeout, **options)

    if linger <= 0:
        with open_store() as store:
            yield store
        return
    key = (os.getpid(), store_key(path), durability, options_key(options))
    with _GUARD:
        writer = _WRITERS.get(key)
        if writer is None or writer.store.closed:
            writer = _Writer(open_store())
            _WRITERS[key] = writer
        if writer.timer is not None:
            writer.timer.cancel()
            writer.timer = None
        writer.users += 1
    try:
        yield writer.store
    except BaseException:
        _discard(key, writer)
        raise
    with _GUARD:
        writer.users -= 1
        idle = writer.users == 0
        discarded = _WRITERS.get(key) is not writer
        if idle and not discarded:
            writer.timer = threading.Timer(linger, _close_idle, args=(key, writer))
            writer.timer.daemon = True
            writer.timer.start()
    if idle and discarded:
        writer.store.close()


def _close_idle(key: tuple, writer: _Writer) -> None:
    """Closes ``writer`` if no write picked it up since its timer started."""
    with _GUARD:
        if writer.users > 0 or _WRITERS.get(key) is not writer:
            return
        del _WRITERS[key]
        writer.timer = None
    writer.store.close()


def _discard(key: tuple, writer: _Writer) -> None:
    """After a failed write: the writer is closed (best effort: the write's own error
    is the one raised) and a later write opens a fresh one."""
    with _GUARD:
        writer.users -= 1
        if _WRITERS.get(key) is writer:
            del _WRITERS[key]
    if writer.users == 0:
        with contextlib.suppress(TesseraError):
            writer.store.close()


def close_writers() -> None:
    """Closes (flushes, releases) every writer this process holds open."""
    pid = os.getpid()
    with _GUARD:
        mine = [key for key in _WRITERS if key[0] == pid]
        writers = [_WRITERS.pop(key) for key in mine]
        for writer in writers:
            if writer.timer is not None:
                writer.timer.cancel()
    for writer in writers:
        writer.store.close()


atexit.register(close_writers)
