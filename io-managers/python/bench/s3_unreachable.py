"""How long opening an s3:// store takes to fail against an unreachable endpoint (a closed
port on 127.0.0.1), with the S3 client's default retries and with ``max_retries=0``.

    python io-managers/python/bench/s3_unreachable.py

Prints one line per setting: the seconds until ``ObjectStoreError`` and its message.
"""

import socket
import tempfile
import time

import tessera_dagster as td


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seconds_to_fail(cache_dir: str, **retries: int) -> tuple[float, str]:
    options = {
        "endpoint": f"http://127.0.0.1:{closed_port()}",
        "allow_http": "true",
        "access_key_id": "unused",
        "secret_access_key": "unused",
        "region": "us-east-1",
    }
    started = time.monotonic()
    try:
        td.Store("s3://bucket/prefix", cache_dir=cache_dir, storage_options=options, **retries)
    except td.ObjectStoreError as error:
        return time.monotonic() - started, str(error)
    raise SystemExit("the open succeeded against a closed port")


def main() -> None:
    with tempfile.TemporaryDirectory() as cache_dir:
        for label, retries in (("default retries", {}), ("max_retries=0", {"max_retries": 0})):
            seconds, message = seconds_to_fail(cache_dir, **retries)
            print(f"{label}: ObjectStoreError after {seconds:.2f} s: {message}")


if __name__ == "__main__":
    main()
