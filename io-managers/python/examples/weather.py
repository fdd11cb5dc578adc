"""The weather pipeline in Dagster, stored by Tessera.

weather_obs (daily, a pyarrow table of hourly readings) → rolling_7d_stats
(daily, each day reads its last 7 days) → summary (unpartitioned, reads every
day through the lazy mapping). Run this file to materialize January 2024 as
one single-run backfill (which Dagster's FilesystemIOManager refuses) and print
the summary; or serve it with `dagster dev -f weather.py`.
"""


import math
import os

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from tessera_dagster import LazyPartitions, TesseraIOManager

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-01")
STATIONS = ["bonn", "kassel", "leipzig"]


def readings(day: str) -> pa.Table:
    """A day of hourly temperatures per station (deterministic, synthetic)."""
    seed = int(day.replace("-", ""))
    hours = [h for h in range(24) for _ in STATIONS]
    temps = [
        round(8 + 6 * math.sin((h - 9) / 24 * 2 * math.pi) + (seed + i) % 5 * 0.3, 2)
        for i, h in enumerate(hours)
    ]
    return pa.table({"day": [day] * len(hours), "hour": hours, "station": STATIONS * 24, "temp_c": temps})


@dg.asset(key_prefix="public", partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def weather_obs(context: dg.AssetExecutionContext) -> dict[str, pa.Table]:
    """Every day of the run: one run may cover a whole month (stored atomically)."""
    return {day: readings(day) for day in context.partition_keys}


@dg.asset(
    key_prefix="public",
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={
        "weather_obs": dg.AssetIn(
            key=["public", "weather_obs"],
            partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-6),
            metadata={"allow_missing_partitions": True},
        )
    },
)
def rolling_7d_stats(context: dg.AssetExecutionContext, weather_obs: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """Per day, the mean temperature of that day and the six before it."""
    out = {}
    for day in context.partition_keys:
        window = [t for d, t in weather_obs.items() if d <= day][-7:]
        mean = pc.mean(pa.concat_tables(window).column("temp_c")).as_py()
        out[day] = pa.table({"day": [day], "mean_7d_c": [round(mean, 3)]})
    return out


@dg.asset(
    key_prefix="public",
    ins={
        "rolling_7d_stats": dg.AssetIn(
            key=["public", "rolling_7d_stats"], partition_mapping=dg.AllPartitionMapping()
        )
    },
)
def summary(rolling_7d_stats: LazyPartitions) -> pa.Table:
    """The warmest 7-day window, reading one day at a time."""
    best = max(rolling_7d_stats, key=lambda d: rolling_7d_stats[d].column("mean_7d_c")[0].as_py())
    return rolling_7d_stats[best]


STORE = os.environ.get("TESSERA_STORE", "tessera-data-py")
defs = dg.Definitions(
    assets=[weather_obs, rolling_7d_stats, summary],
    resources={"io_manager": TesseraIOManager(base_dir=STORE, durability="buffered")},
)

if __name__ == "__main__":
    month = {"dagster/asset_partition_range_start": "2024-01-01", "dagster/asset_partition_range_end": "2024-01-31"}
    io_manager = {"io_manager": TesseraIOManager(base_dir=STORE, durability="buffered")}
    daily = dg.materialize([weather_obs, rolling_7d_stats], resources=io_manager, tags=month)
    whole = dg.materialize([weather_obs, rolling_7d_stats, summary], resources=io_manager, selection=[summary])
    assert daily.success and whole.success
    print(whole.output_for_node("public__summary").to_pylist())
