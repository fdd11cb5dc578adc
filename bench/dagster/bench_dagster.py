"""Times Dagster's own FilesystemIOManager for tessera-bench, case by case.

tessera-bench starts this script once (``--serve``) in a virtual environment
holding dagster, pandas and pyarrow, and sends it one case per line on stdin,
interleaved with its own Rust cases, so that Dagster is measured in the same
run, on the same machine state, as Tessera. A case is a JSON object
``{"size": bytes, "count": n, "seed": s, "logging": "default" | "off"}``; the
answer is one JSON line ``{"write_secs": w, "read_secs": r}`` (or
``{"error": text}``).

For a case, ``count`` partitions of one asset are stored with
``handle_output`` and loaded back in random order (``seed``) with
``load_input``. Every context is built (``build_output_context`` /
``build_input_context`` with the asset key and partition key) once, at start,
before the clock starts, so only the I/O manager is timed. Values are pandas
DataFrames with int64, float64 and str columns of about the partition size (32
bytes a row, as the Rust benchmark's Arrow table). Dagster pickles values and
does not fsync, so its figures compare with Tessera's Buffered writes.

``logging: "default"`` leaves Python's logging as a Dagster run has it (the
I/O manager logs every store and load at DEBUG level to stderr, which
tessera-bench sends to a file); ``"off"`` disables logging for the case.

The first line written is ``{"dagster_version": ..., "python_version": ...}``,
once the contexts are built.
"""

import argparse
import json
import logging
import platform
import random
import shutil
import sys
import tempfile
import time

import dagster
import numpy as np
import pandas as pd
from dagster import (
    AssetKey,
    DagsterInstance,
    FilesystemIOManager,
    build_init_resource_context,
    build_input_context,
    build_output_context,
)

ROW_BYTES = 32


def frame(size):
    rows = max(1, size // ROW_BYTES)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "value": np.arange(rows, dtype=np.float64) * 0.5,
            "label": [f"label-{i % 1_000_000:06d}" for i in range(rows)],
        }
    )


def build_contexts(count):
    instance = DagsterInstance.ephemeral()
    asset_key = AssetKey(["bench", "observations"])
    keys = [f"2022-07-23-{i:06d}" for i in range(count)]
    outputs = [
        build_output_context(asset_key=asset_key, partition_key=k, instance=instance) for k in keys
    ]
    inputs = [
        build_input_context(
            asset_key=asset_key,
            partition_key=k,
            instance=instance,
            upstream_output=build_output_context(
                asset_key=asset_key, partition_key=k, instance=instance
            ),
        )
        for k in keys
    ]
    return outputs, inputs


def time_case(value, contexts, count, seed, base):
    # The I/O manager that the FilesystemIOManager resource creates for a run.
    manager = FilesystemIOManager(base_dir=base).create_io_manager(build_init_resource_context())
    outputs, inputs = contexts[0][:count], contexts[1][:count]
    order = list(range(count))
    random.Random(seed).shuffle(order)
    for context in outputs:
        # A reused context still holds the "path" metadata of its last run.
        context._user_generated_metadata = {}  # noqa: SLF001
    start = time.perf_counter()
    for context in outputs:
        manager.handle_output(context, value)
    write = time.perf_counter() - start
    start = time.perf_counter()
    for context in (inputs[i] for i in order):
        loaded = manager.load_input(context)
        assert len(loaded) == len(value)
    read = time.perf_counter() - start
    return write, read


def run_case(case, contexts, frames):
    size, count = case["size"], case["count"]
    if count > len(contexts[0]):
        raise ValueError(f"count {count} exceeds the {len(contexts[0])} contexts built")
    if size not in frames:
        frames.clear()
        frames[size] = frame(size)
    logging.disable(logging.CRITICAL if case["logging"] == "off" else logging.NOTSET)
    base = tempfile.mkdtemp(prefix="dagster-bench-")
    try:
        write, read = time_case(frames[size], contexts, count, case["seed"], base)
    finally:
        shutil.rmtree(base)
        logging.disable(logging.NOTSET)
    return {"write_secs": write, "read_secs": read}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true", required=True)
    parser.add_argument("--max-count", type=int, required=True)
    args = parser.parse_args()
    contexts = build_contexts(args.max_count)
    hello = {"dagster_version": dagster.__version__, "python_version": platform.python_version()}
    print(json.dumps(hello), flush=True)
    frames = {}
    for line in sys.stdin:
        try:
            answer = run_case(json.loads(line), contexts, frames)
        except Exception as e:  # noqa: BLE001 - reported to the caller, which stops
            answer = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
