"""Interop with the Rust side: what Python stores, the `tessera` CLI lists, shows
and verifies; what the Rust example pipeline stores, Python and Dagster load."""


import pathlib
import subprocess

import dagster as dg
import pyarrow as pa

import tessera_dagster as td
from tessera_dagster import TesseraIOManager
from tessera_dagster.arrow import table_from_blob

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01")


def cli(binary: pathlib.Path, store_dir: str, *args: str) -> str:
    done = subprocess.run(
        [str(binary), "--store", store_dir, *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_python_writes_and_the_cli_reads(store_dir: str, tessera_cli: pathlib.Path) -> None:
    @dg.asset(key_prefix="public", partitions_def=DAILY)
    def readings(context: dg.AssetExecutionContext) -> pa.Table:
        return pa.table({"station": ["kassel", "bonn"], "temp_c": [21.5, 19.25]})

    for day in ("2024-01-01", "2024-01-02"):
        result = dg.materialize(
            [readings],
            resources={"io_manager": TesseraIOManager(base_dir=store_dir)},
            partition_key=day,
        )
        assert result.success
    partitions = cli(tessera_cli, store_dir, "partitions", "public/readings")
    assert "2024-01-01" in partitions and "2024-01-02" in partitions
    shown = cli(tessera_cli, store_dir, "show", "public/readings", "2024-01-02")
    assert "temp_c" in shown and "kassel" in shown and "19.25" in shown
    verified = cli(tessera_cli, store_dir, "verify")
    assert "checked 2 partitions" in verified
    assert "every checksum matches" in verified


def test_rust_writes_and_python_reads(store_dir: str, tessera_cli: pathlib.Path) -> None:
    cli(tessera_cli, store_dir, "materialize", "--from", "2024-01-01", "--to", "2024-01-03", "--quiet")
    with td.Store(store_dir) as store:
        partitions = store.list_partitions(["public", "weather_obs"])
        tables = {day: table_from_blob(store.get(["public", "weather_obs"], day)) for day in partitions}
    assert partitions == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert all(table.num_rows > 0 for table in tables.values())

    seen: dict = {}
    weather = dg.AssetSpec(["public", "weather_obs"], partitions_def=DAILY)

    @dg.asset(
        ins={
            "weather_obs": dg.AssetIn(
                key=["public", "weather_obs"],
                partition_mapping=dg.SpecificPartitionsPartitionMapping(partitions),
            )
        }
    )
    def rows_per_day(weather_obs: dict[str, pa.Table]) -> None:
        seen.update({day: t.num_rows for day, t in weather_obs.items()})

    result = dg.materialize(
        [weather, rows_per_day],
        resources={"io_manager": TesseraIOManager(base_dir=store_dir)},
        selection=[rows_per_day],
    )
    assert result.success
    assert seen == {day: table.num_rows for day, table in tables.items()}
