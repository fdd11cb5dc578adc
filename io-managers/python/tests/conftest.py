"""Shared fixtures: a fresh store directory, the path of the Rust `tessera` CLI, and a
moto S3 server on 127.0.0.1 with a fresh `s3://` address per test."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
BUCKET = "tessera-tests"


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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass(frozen=True)
class MotoServer:
    """A running moto S3 server and the bucket the tests use."""

    endpoint: str
    bucket: str

    def create_bucket(self, name: str) -> None:
        """Creates bucket ``name`` (moto checks no signature)."""
        request = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


def _moto_server_command() -> str | None:
    beside_python = pathlib.Path(sys.executable).with_name("moto_server")
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("moto_server")


def _wait_until_up(endpoint: str, server: subprocess.Popen, log: pathlib.Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"moto_server exited with {server.returncode}: {log.read_text()}")
        try:
            urllib.request.urlopen(endpoint, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"moto_server did not answer at {endpoint} within 60 s: {log.read_text()}")


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A moto S3 server on 127.0.0.1 (a free port) with bucket ``tessera-tests``, the
    ``AWS_*`` environment pointing at it for the whole session (and for the processes
    the tests start), and ``TMPDIR`` in a session directory, so that the stores' default
    cache directory (``tessera-cache`` in the temporary directory) is cleaned up too.
    Stopped at the end of the session.

    Skipped when ``moto[server]`` is not installed, unless ``TESSERA_REQUIRE_MOTO`` is set
    (``.ci/run`` sets it: there the tests must run)."""
    command = _moto_server_command()
    if command is None:
        message = "moto_server not found: pip install 'moto[server]' to run the s3:// tests"
        if os.environ.get("TESSERA_REQUIRE_MOTO"):
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("moto")
    log = root / "moto-server.log"
    port = free_port()
    with log.open("wb") as output:
        server = subprocess.Popen(
            [command, "-H", "127.0.0.1", "-p", str(port)], stdout=output, stderr=output
        )
    try:
        moto = MotoServer(endpoint=f"http://127.0.0.1:{port}", bucket=BUCKET)
        _wait_until_up(moto.endpoint, server, log)
        moto.create_bucket(BUCKET)
        (root / "tmp").mkdir()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
            patch.setenv("AWS_ALLOW_HTTP", "true")
            patch.setenv("AWS_ACCESS_KEY_ID", "moto")
            patch.setenv("AWS_SECRET_ACCESS_KEY", "moto")
            patch.setenv("AWS_REGION", "us-east-1")
            patch.setenv("TMPDIR", str(root / "tmp"))
            yield moto
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def s3_store(moto_s3: MotoServer) -> str:
    """A fresh ``s3://`` address (a new prefix in the moto bucket) for a new store."""
    return f"s3://{moto_s3.bucket}/{uuid.uuid4().hex}"
