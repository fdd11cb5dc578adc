"""Shared fixtures: a fresh store directory and the path of the Rust `tessera` CLI."""

from __future__ import annotations

import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture
def store_dir(tmp_path: pathlib.Path) -> str:
    """A directory for a new store."""
    return str(tmp_path / "store")


@pytest.fixture
def tessera_cli() -> pathlib.Path:
    """The `tessera` binary: $TESSERA_CLI, else the workspace's debug build."""
    path = pathlib.Path(os.environ.get("TESSERA_CLI", REPO / "target" / "debug" / "tessera"))
    if not path.is_file():
        pytest.fail(
            f"{path} not found: build it with `cargo build -p tessera-io-managers --bin tessera` "
            "or set TESSERA_CLI"
        )
    return path
