"""Times Dagster's own FilesystemIOManager on the partition sizes of tessera-bench.

For each partition size, N partitions of one asset are stored with
``handle_output`` and loaded back in random order with ``load_input``. Every
context is built (``build_output_context`` / ``build_input_context`` with the
asset key and partition key) before the clock starts, so only the I/O manager
is timed. Values are pandas DataFrames with int64, float64 and str columns of
about the partition size (32 bytes a row, as the Rust benchmark's Arrow table)
and, for reference, plain ``bytes``. Dagster pickles values and does not fsync,
so its figures compare with Tessera's Buffered writes.

Writes JSON read by ``tessera-bench --dagster-json PATH``.
"""

import argparse
import json
import platform
import random
import shutil
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

KIB = 1 << 10
MIB = 1 << 20
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


def count_for(size, quick):
    # Building a context costs Dagster about half a second, so the contexts are
    # built once (MAX_COUNT of them) and reused by every case; rates are per
    # partition, so counts need not match the Rust benchmark's.
    budget, low, high = (24 * MIB, 2, 20) if quick else (256 * MIB, 3, 60)
    return max(low, min(high, budget // size))


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    sizes = [KIB, 64 * KIB, MIB, 16 * MIB] + ([] if args.quick else [64 * MIB])
    contexts = build_contexts(max(count_for(size, args.quick) for size in sizes))
    cases = []
    for size in sizes:
        count = count_for(size, args.quick)
        for kind, value in (("pandas", frame(size)), ("bytes", bytes(size))):
            writes, reads = [], []
            for run in range(args.runs):
                base = tempfile.mkdtemp(prefix="dagster-bench-")
                try:
                    w, r = time_case(value, contexts, count, run + 1, base)
                finally:
                    shutil.rmtree(base)
                writes.append(w)
                reads.append(r)
            print(f"{kind} {size} x{count}: write {min(writes):.3f}s read {min(reads):.3f}s", flush=True)
            cases.append(
                {"kind": kind, "size": size, "count": count, "write_secs": writes, "read_secs": reads}
            )
    result = {
        "dagster_version": dagster.__version__,
        "python_version": platform.python_version(),
        "cases": cases,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
