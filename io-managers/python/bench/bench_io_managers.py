"""FilesystemIOManager against TesseraIOManager in one Python process.

handle_output and load_input of one partition of 1 KiB, 1 MiB and 32 MB, as a
pyarrow Table and as a pandas DataFrame; then a load of 365 upstream daily
partitions (1 MiB each) as Dagster's dict and as Tessera's lazy mapping, with
the peak resident memory of each load measured in a fresh subprocess.

Run: python io-managers/python/bench/bench_io_managers.py [--repeat N] [--out FILE]
Prints one Markdown table per part (median time per call). Each manager's
handle_output runs N times, then its load_input N times: the first load after
the writes catches the process's read-only store up with them (see the
per-operation table), the median is a load with nothing new to catch up.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import dagster as dg
from dagster._core.types.dagster_type import resolve_dagster_type
import numpy as np
import pandas as pd
import pyarrow as pa

from tessera_dagster import LazyPartitions, TesseraIOManager

SIZES = {"1 KiB": 1 << 10, "1 MiB": 1 << 20, "32 MB": 32_000_000}
DAILY = dg.DailyPartitionsDefinition(start_date="2023-01-01", end_date="2024-01-01")
DAYS = DAILY.get_partition_keys()
logging.disable(logging.INFO)  # the filesystem manager logs every call at DEBUG


def table_of(size: int) -> pa.Table:
    """A float64/int64 table of about ``size`` bytes."""
    rows = max(1, size // 16)
    return pa.table({"value": np.arange(rows, dtype=np.float64), "id": np.arange(rows, dtype=np.int64)})


def managers(base: str) -> dict[str, dg.IOManager]:
    return {
        "Filesystem (pickle)": dg.FilesystemIOManager(base_dir=f"{base}/fs").create_io_manager(
            dg.build_init_resource_context()
        ),
        "Tessera Immediate": TesseraIOManager(base_dir=f"{base}/tessera-immediate"),
        "Tessera Buffered": TesseraIOManager(base_dir=f"{base}/tessera-buffered", durability="buffered"),
        "Tessera Buffered, write_linger=0": TesseraIOManager(
            base_dir=f"{base}/tessera-per-write", durability="buffered", write_linger=0.0
        ),
        "Tessera Buffered, keep_open": TesseraIOManager(
            base_dir=f"{base}/tessera-held", durability="buffered", keep_open=True
        ),
        "Tessera Buffered, no checksums": TesseraIOManager(
            base_dir=f"{base}/tessera-unchecked", durability="buffered", verify_checksums=False
        ),
    }


def median_seconds(call: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def output_context(asset: str, partition: str) -> dg.OutputContext:
    return dg.build_output_context(
        asset_key=dg.AssetKey(asset), partition_key=partition, asset_partitions_def=DAILY
    )


def input_context(asset: str, partitions: list[str], annotation: Any) -> dg.InputContext:
    return dg.build_input_context(
        asset_key=dg.AssetKey(asset),
        asset_partitions_def=DAILY,
        asset_partition_key_range=dg.PartitionKeyRange(partitions[0], partitions[-1]),
        dagster_type=resolve_dagster_type(annotation),
    )


def one_partition_rows(base: str, repeat: int) -> list[dict[str, Any]]:
    from tessera_dagster.held import close_held_stores
    from tessera_dagster.writers import close_writers

    rows = []
    for label, size in SIZES.items():
        table = table_of(size)
        for kind, value, annotation in (("pyarrow", table, pa.Table), ("pandas", table.to_pandas(), pd.DataFrame)):
            for name, manager in managers(base).items():
                asset = f"one_{kind}_{size}"
                contexts = [output_context(asset, DAYS[0]) for _ in range(repeat)]
                write = median_seconds(lambda: manager.handle_output(contexts.pop(), value), repeat)
                context = input_context(asset, [DAYS[0]], annotation)
                read = median_seconds(lambda: manager.load_input(context), repeat)
                after_write = load_after_write(manager, asset, value, context, repeat)
                rows.append({"size": label, "type": kind, "manager": name, "write_s": write, "read_s": read,
                             "read_after_write_s": after_write})
    close_held_stores()
    close_writers()
    return rows


def load_after_write(manager: dg.IOManager, asset: str, value: Any, context: dg.InputContext,
                     repeat: int) -> float:
    """Median load_input right after a handle_output of the same partition (what a
    downstream step sees): Tessera's read-only store catches up with the write first."""
    times = []
    for _ in range(repeat):
        manager.handle_output(output_context(asset, DAYS[0]), value)
        start = time.perf_counter()
        manager.load_input(context)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fill_year(base: str) -> None:
    from tessera_dagster.writers import close_writers

    table = table_of(1 << 20)
    for name, manager in managers(base).items():
        if name not in ("Filesystem (pickle)", "Tessera Buffered"):
            continue
        for day in DAYS:
            manager.handle_output(output_context("year", day), table)
    close_writers()


def anon_rss_mib() -> float:
    """This process's resident anonymous memory (heap, not mapped files), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no RssAnon in /proc/self/status")


def load_year(base: str, manager_name: str, mode: str) -> dict[str, Any]:
    """Runs in a fresh subprocess: one 365-partition load, then a pass over it."""
    manager = managers(base)[manager_name]
    annotation = LazyPartitions if mode == "lazy" else dict[str, pa.Table]
    context = input_context("year", DAYS, annotation)
    before = anon_rss_mib()
    start = time.perf_counter()
    loaded = manager.load_input(context)
    loaded_s = time.perf_counter() - start
    peak = anon_rss_mib() - before
    total = 0
    for day in loaded:
        total += loaded[day].num_rows
        peak = max(peak, anon_rss_mib() - before)
    seconds = time.perf_counter() - start
    return {"manager": manager_name, "mode": mode, "load_s": loaded_s, "load_and_pass_s": seconds,
            "peak_anon_mib": peak, "rows": total}


def open_cost(base: str, repeat: int) -> dict[str, float]:
    """What TesseraIOManager pays per operation: a writable open → close (per
    handle_output), a refresh of the process's read-only store (per load_input),
    and a read-only open (the first load in a process)."""
    from tessera_dagster import Store

    path = f"{base}/tessera-buffered"

    def open_close() -> None:
        Store(path, durability="buffered").close()

    def open_get_close() -> None:
        with Store(path, durability="buffered") as store:
            store.get(["year"], DAYS[100])

    with Store(path) as store:
        get_only = median_seconds(lambda: store.get(["year"], DAYS[100]), repeat * 20)
    reader = Store(path, read_only=True)

    def refresh_get() -> None:
        reader.refresh()
        reader.get(["year"], DAYS[100])

    return {
        "open_close_s": median_seconds(open_close, repeat * 20),
        "open_get_close_s": median_seconds(open_get_close, repeat * 20),
        "get_on_open_store_s": get_only,
        "refresh_s": median_seconds(reader.refresh, repeat * 20),
        "refresh_get_s": median_seconds(refresh_get, repeat * 20),
        "read_only_open_s": median_seconds(lambda: Store(path, read_only=True), repeat),
    }


def year_rows(base: str) -> list[dict[str, Any]]:
    rows = []
    for manager_name, mode in (("Filesystem (pickle)", "dict"), ("Tessera Buffered", "dict"),
                               ("Tessera Buffered", "lazy")):
        done = subprocess.run(
            [sys.executable, __file__, "--year-load", base, manager_name, mode],
            capture_output=True, text=True, check=True,
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def print_tables(one: list[dict[str, Any]], year: list[dict[str, Any]], cost: dict[str, float]) -> str:
    lines = ["| size | type | manager | handle_output | load_input | load speed-up vs filesystem "
             "| load_input right after a handle_output | its speed-up |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    baseline = {(r["size"], r["type"]): r for r in one if r["manager"].startswith("Filesystem")}
    for r in one:
        base = baseline[(r["size"], r["type"])]
        speedup = base["read_s"] / r["read_s"]
        after = base["read_after_write_s"] / r["read_after_write_s"]
        lines.append(f"| {r['size']} | {r['type']} | {r['manager']} | {r['write_s'] * 1e3:.3f} ms "
                     f"| {r['read_s'] * 1e3:.3f} ms | {speedup:.1f}x "
                     f"| {r['read_after_write_s'] * 1e3:.3f} ms | {after:.1f}x |")
    lines += ["", "| 365 daily partitions of 1 MiB | load_input | load + one pass | peak anonymous RSS growth | rows |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for r in year:
        lines.append(f"| {r['manager']}, {r['mode']} | {r['load_s'] * 1e3:.1f} ms | "
                     f"{r['load_and_pass_s'] * 1e3:.1f} ms | {r['peak_anon_mib']:.0f} MiB | {r['rows']} |")
    lines += ["", "| per-operation cost (store of 365 partitions of 1 MiB) | median |", "| --- | ---: |",
              f"| writable open + close (each handle_output) | {cost['open_close_s'] * 1e3:.3f} ms |",
              f"| writable open + get + close | {cost['open_get_close_s'] * 1e3:.3f} ms |",
              f"| get on an open store | {cost['get_on_open_store_s'] * 1e3:.3f} ms |",
              f"| refresh of the read-only store, nothing new (each load_input) | {cost['refresh_s'] * 1e3:.3f} ms |",
              f"| refresh + get | {cost['refresh_get_s'] * 1e3:.3f} ms |",
              f"| read-only open (the first load_input in a process) | {cost['read_only_open_s'] * 1e3:.3f} ms |"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", help="also write the tables to this file")
    parser.add_argument("--year-only", action="store_true", help="only the 365-partition load")
    parser.add_argument("--year-load", nargs=3, metavar=("BASE", "MANAGER", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.year_load:
        print(json.dumps(load_year(*args.year_load)))
        return
    with tempfile.TemporaryDirectory() as base:
        one = [] if args.year_only else one_partition_rows(base, args.repeat)
        fill_year(base)
        report = print_tables(one, year_rows(base), open_cost(base, args.repeat))
    print(report)
    if args.out:
        with open(args.out, "w") as out:
            out.write(report + "\n")


if __name__ == "__main__":
    main()
