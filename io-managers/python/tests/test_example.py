"""The README's Dagster example: its Definitions load (as `dagster dev -f` loads them) and the
script materializes January 2024 in one single-run backfill, then the lazy summary."""

import os
import pathlib
import runpy
import subprocess
import sys

import dagster as dg

import tessera_dagster as td

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "weather.py"


def test_the_definitions_load() -> None:
    definitions = runpy.run_path(str(EXAMPLE))["defs"]
    dg.Definitions.validate_loadable(definitions)
    keys = {key.to_user_string() for key in definitions.resolve_all_asset_keys()}
    assert keys == {"public/weather_obs", "public/rolling_7d_stats", "public/summary"}


def test_the_script_materializes_a_month_in_one_run(tmp_path: pathlib.Path) -> None:
    store_dir = tmp_path / "store"
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env={**os.environ, "TESSERA_STORE": str(store_dir)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "mean_7d_c" in done.stdout
    with td.Store(str(store_dir)) as store:
        days = store.list_partitions(["public", "weather_obs"])
        assert store.list_partitions(["public", "summary"]) == [None]
    assert days == [f"2024-01-{d:02}" for d in range(1, 32)]
