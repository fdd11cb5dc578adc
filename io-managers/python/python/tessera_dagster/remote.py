"""Base directories on object storage (``s3://bucket/prefix``, and the engine's
other addresses: ``gs://``, ``az://``, ``file:///dir``).

A store there is opened like a local one, with the keyword arguments of
``Store`` that only such a store takes (``cache_dir``, ``storage_options``,
...). The per-process caches of stores (readers, lingering writers, held
stores) key them by these helpers, so that two configurations of one address
never share a handle.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from tessera_dagster._native import is_object_store_address


def is_remote(path: str) -> bool:
    """Whether ``path`` names a store on object storage rather than a directory."""
    return is_object_store_address(path)


def store_key(path: str) -> str:
    """The name that identifies the store at ``path``: an address as given (minus a
    trailing ``/``), a directory made absolute."""
    if is_remote(path):
        return path.rstrip("/")
    return os.path.abspath(path)


def options_key(options: Mapping[str, Any]) -> tuple:
    """A hashable form of ``Store`` keyword arguments (dict values sorted into tuples)."""
    return tuple(
        sorted(
            (name, tuple(sorted(value.items())) if isinstance(value, Mapping) else value)
            for name, value in options.items()
        )
    )
