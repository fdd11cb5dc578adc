"""TesseraIOManager inside `dagster.materialize`: round trips per type, partitions,
multi-partitions, self-dependency, many-to-one loads (dict and lazy), missing
partitions, single-run backfill range outputs, output metadata and bad input.

Each test that takes ``store_dir`` runs twice: on a directory, and on an ``s3://``
address of a moto S3 server (the ``moto_s3`` fixture of conftest.py)."""


import pickle
from typing import Any, Optional

import dagster as dg
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import tessera_dagster as td
from tessera_dagster import LazyPartitions, TesseraIOManager

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-03-01")
RANGE_TAGS = {
    "dagster/asset_partition_range_start": "2024-01-01",
    "dagster/asset_partition_range_end": "2024-01-31",
}


@pytest.fixture(params=["dir", "s3"])
def store_dir(request: pytest.FixtureRequest, tmp_path) -> str:
    """Where the test's store lives: a new directory, or a new prefix in the moto bucket."""
    if request.param == "s3":
        return request.getfixturevalue("s3_store")
    return str(tmp_path / "store")


def run(assets: list, store_dir: str, **kwargs: Any) -> dg.ExecuteInProcessResult:
    return dg.materialize(assets, resources={"io_manager": TesseraIOManager(base_dir=store_dir)}, **kwargs)


def day_table(day: str, rows: int = 24) -> pa.Table:
    return pa.table({"day": [day] * rows, "hour": list(range(rows)), "temp": [float(h) for h in range(rows)]})


SAMPLES: dict[str, tuple[Any, Any]] = {
    "arrow_table": (pa.table({"a": [1, 2, 3], "b": ["x", "y", None]}), pa.Table),
    "record_batch": (pa.record_batch({"a": [1.5, 2.5]}), pa.RecordBatch),
    "pandas": (pd.DataFrame({"a": [1, 2], "b": ["p", "q"]}), pd.DataFrame),
    "polars": (pl.DataFrame({"a": [1, 2], "b": ["p", "q"]}), pl.DataFrame),
    "raw_bytes": (b"\x00\x01binary", bytes),
    "pickled": ({"nested": [1, 2, {"x": 3}]}, dict),
}


def assert_same(loaded: Any, expected: Any) -> None:
    if isinstance(expected, (pa.Table, pa.RecordBatch)):
        assert loaded.equals(expected)
    elif isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded, expected)
    elif isinstance(expected, pl.DataFrame):
        assert loaded.equals(expected)
    else:
        assert loaded == expected


@pytest.mark.parametrize("name", list(SAMPLES))
def test_round_trip_per_type(store_dir: str, name: str) -> None:
    value, annotation = SAMPLES[name]
    seen: list[Any] = []

    @dg.asset(name="upstream")
    def upstream() -> annotation:  # type: ignore[valid-type]
        return value

    @dg.asset
    def downstream(upstream: annotation) -> None:  # type: ignore[valid-type]
        seen.append(upstream)

    assert run([upstream, downstream], store_dir).success
    assert type(seen[0]) is type(value)
    assert_same(seen[0], value)


def test_unannotated_input_loads_the_stored_type(store_dir: str) -> None:
    seen: list[Any] = []

    @dg.asset
    def frame():
        return pl.DataFrame({"a": [1, 2, 3]})

    @dg.asset
    def reader(frame):
        seen.append(frame)

    assert run([frame, reader], store_dir).success
    assert isinstance(seen[0], pl.DataFrame) and seen[0]["a"].to_list() == [1, 2, 3]


def test_a_table_loads_as_the_type_the_input_asks_for(store_dir: str) -> None:
    seen: dict[str, Any] = {}

    @dg.asset
    def frame() -> pd.DataFrame:
        return pd.DataFrame({"a": [1.0, 2.0]})

    @dg.asset
    def as_arrow(frame: pa.Table) -> None:
        seen["arrow"] = frame

    @dg.asset
    def as_polars(frame: pl.DataFrame) -> None:
        seen["polars"] = frame

    assert run([frame, as_arrow, as_polars], store_dir).success
    assert seen["arrow"].column("a").to_pylist() == [1.0, 2.0]
    assert seen["polars"]["a"].to_list() == [1.0, 2.0]


def test_output_metadata(store_dir: str) -> None:
    @dg.asset(partitions_def=DAILY)
    def obs() -> pa.Table:
        return day_table("2024-01-05", rows=10)

    result = run([obs], store_dir, partition_key="2024-01-05")
    metadata = result.asset_materializations_for_node("obs")[0].metadata
    assert metadata["dagster/row_count"].value == 10
    with td.Store(store_dir) as store:
        blob = store.get(["obs"], "2024-01-05")
    assert metadata["byte_size"].value == blob.size
    assert metadata["path"].value.endswith("obs/2024-01-05")
    assert metadata["tessera/data_version"].value == blob.data_version == f"{blob.checksum:08x}"


def test_daily_partitions_and_identity_mapping(store_dir: str) -> None:
    @dg.asset(partitions_def=DAILY)
    def obs(context: dg.AssetExecutionContext) -> pa.Table:
        return day_table(context.partition_key)

    @dg.asset(partitions_def=DAILY)
    def stats(obs: pa.Table) -> dict:
        return {"day": obs.column("day")[0].as_py(), "rows": obs.num_rows}

    for day in ("2024-01-01", "2024-01-02"):
        assert run([obs, stats], store_dir, partition_key=day).success
    with td.Store(store_dir) as store:
        assert store.list_partitions(["obs"]) == ["2024-01-01", "2024-01-02"]
        stored = pickle.loads(store.get(["stats"], "2024-01-02").to_bytes())
    assert stored == {"day": "2024-01-02", "rows": 24}


def test_multi_partitioned_asset(store_dir: str) -> None:
    multi = dg.MultiPartitionsDefinition(
        {"date": DAILY, "region": dg.StaticPartitionsDefinition(["eu", "us"])}
    )

    @dg.asset(partitions_def=multi)
    def regional(context: dg.AssetExecutionContext) -> pa.Table:
        keys = context.partition_key.keys_by_dimension
        return pa.table({"region": [keys["region"]], "date": [keys["date"]]})

    @dg.asset(partitions_def=multi)
    def regional_copy(regional: pa.Table) -> pa.Table:
        return regional

    for region in ("eu", "us"):
        key = dg.MultiPartitionKey({"date": "2024-01-03", "region": region})
        assert run([regional, regional_copy], store_dir, partition_key=key).success
    with td.Store(store_dir) as store:
        assert store.list_partitions(["regional_copy"]) == ["2024-01-03|eu", "2024-01-03|us"]
        table = td.arrow.table_from_blob(store.get(["regional_copy"], "2024-01-03|us"))
    assert table.to_pylist() == [{"region": "us", "date": "2024-01-03"}]


def test_self_dependent_asset(store_dir: str) -> None:
    @dg.asset(
        partitions_def=DAILY,
        ins={
            "previous": dg.AssetIn(
                key="running_total",
                partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1),
            )
        },
    )
    def running_total(context: dg.AssetExecutionContext, previous: Optional[int]) -> int:
        return (previous or 0) + int(context.partition_key[-2:])

    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        assert run([running_total], store_dir, partition_key=day).success
    with td.Store(store_dir) as store:
        assert pickle.loads(store.get(["running_total"], "2024-01-03").to_bytes()) == 6


def materialize_days(store_dir: str, asset: dg.AssetsDefinition, days: list[str]) -> None:
    for day in days:
        assert run([asset], store_dir, partition_key=day).success


@dg.asset(partitions_def=DAILY, name="obs")
def daily_obs(context: dg.AssetExecutionContext) -> pa.Table:
    return day_table(context.partition_key)


def test_many_to_one_loads_a_dict_in_partition_order(store_dir: str) -> None:
    days = [f"2024-01-{d:02}" for d in (3, 1, 2)]
    materialize_days(store_dir, daily_obs, days)
    seen: dict[str, Any] = {}

    @dg.asset(
        ins={
            "obs": dg.AssetIn(
                partition_mapping=dg.SpecificPartitionsPartitionMapping(sorted(days))
            )
        }
    )
    def weekly(obs: dict[str, pa.Table]) -> None:
        seen.update(obs)

    assert run([daily_obs, weekly], store_dir, selection=[weekly]).success
    assert list(seen) == sorted(days)
    assert all(seen[d].column("day")[0].as_py() == d for d in days)


def test_many_to_one_lazy_mapping(store_dir: str) -> None:
    days = ["2024-01-01", "2024-01-02"]
    materialize_days(store_dir, daily_obs, days)
    seen: dict[str, Any] = {}

    @dg.asset(ins={"obs": dg.AssetIn(partition_mapping=dg.SpecificPartitionsPartitionMapping(days))})
    def lazy_reader(obs: LazyPartitions) -> None:
        seen["type"] = type(obs)
        seen["keys"] = list(obs)
        seen["rows"] = sum(obs[k].num_rows for k in obs)
        seen["blob"] = obs.blob("2024-01-02").size

    assert run([daily_obs, lazy_reader], store_dir, selection=[lazy_reader]).success
    assert seen["type"] is LazyPartitions
    assert seen["keys"] == days and seen["rows"] == 48 and seen["blob"] > 0


def test_missing_partitions_fail_unless_allowed(store_dir: str) -> None:
    days = ["2024-01-01", "2024-01-02", "2024-01-03"]
    materialize_days(store_dir, daily_obs, ["2024-01-01", "2024-01-03"])
    mapping = dg.SpecificPartitionsPartitionMapping(days)

    @dg.asset(ins={"obs": dg.AssetIn(partition_mapping=mapping)})
    def strict(obs: dict) -> None:
        pass

    result = run([daily_obs, strict], store_dir, selection=[strict], raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.to_string()
    assert "2024-01-02" in failure and "allow_missing_partitions" in failure

    seen: dict[str, Any] = {}

    @dg.asset(ins={"obs": dg.AssetIn(partition_mapping=mapping, metadata={"allow_missing_partitions": True})})
    def tolerant(obs: dict) -> None:
        seen.update(obs)

    assert run([daily_obs, tolerant], store_dir, selection=[tolerant]).success
    assert sorted(seen) == ["2024-01-01", "2024-01-03"]


def test_single_run_backfill_of_a_month_as_a_dict(store_dir: str) -> None:
    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
    def month(context: dg.AssetExecutionContext) -> dict[str, pa.Table]:
        return {day: day_table(day, rows=2) for day in context.partition_keys}

    result = run([month], store_dir, tags=RANGE_TAGS)
    assert result.success
    metadata = result.asset_materializations_for_node("month")[0].metadata
    assert metadata["tessera/partitions"].value == 31
    assert metadata["dagster/row_count"].value == 62
    with td.Store(store_dir) as store:
        partitions = store.list_partitions(["month"])
        blob = store.get(["month"], "2024-01-17")
    assert partitions == [f"2024-01-{d:02}" for d in range(1, 32)]
    assert td.arrow.table_from_blob(blob).column("day").to_pylist() == ["2024-01-17"] * 2


def test_single_run_backfill_of_one_table_with_a_partition_column(store_dir: str) -> None:
    @dg.asset(
        partitions_def=DAILY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        metadata={"partition_column": "day"},
    )
    def month(context: dg.AssetExecutionContext) -> pd.DataFrame:
        start, end = context.partition_time_window
        days = pd.date_range(start, end, inclusive="left")
        return pd.DataFrame({"day": days.date.repeat(3), "value": range(3 * len(days))})

    seen: dict[str, Any] = {}

    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
    def consumer(month: dict[str, pd.DataFrame]) -> None:
        seen.update(month)

    assert run([month, consumer], store_dir, tags=RANGE_TAGS).success
    assert len(seen) == 31
    assert seen["2024-01-02"]["value"].tolist() == [3, 4, 5]
    assert isinstance(seen["2024-01-02"], pd.DataFrame)


def test_the_filesystem_manager_refuses_what_tessera_stores(tmp_path) -> None:
    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
    def month(context: dg.AssetExecutionContext) -> dict:
        return {day: day for day in context.partition_keys}

    result = dg.materialize(
        [month],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))},
        tags=RANGE_TAGS,
        raise_on_error=False,
    )
    assert not result.success
    assert run([month], str(tmp_path / "tessera"), tags=RANGE_TAGS).success


def test_a_range_output_of_the_wrong_shape_fails_clearly(store_dir: str) -> None:
    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
    def month(context: dg.AssetExecutionContext) -> list:
        return [1, 2, 3]

    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run(), name="partial")
    def partial(context: dg.AssetExecutionContext) -> dict:
        return {"2024-01-01": 1}

    result = run([month], store_dir, tags=RANGE_TAGS, raise_on_error=False)
    error = result.get_step_failure_events()[0].event_specific_data.error.to_string()
    assert "dict keyed by partition" in error
    result = run([partial], store_dir, tags=RANGE_TAGS, raise_on_error=False)
    error = result.get_step_failure_events()[0].event_specific_data.error.to_string()
    assert "missing ['2024-01-02'" in error
    with td.Store(store_dir) as store:
        assert store.list_assets() == []


def test_loading_bytes_as_a_dataframe_fails_clearly(store_dir: str) -> None:
    @dg.asset
    def blob_asset() -> bytes:
        return b"not a table"

    @dg.asset
    def reader(blob_asset: pd.DataFrame) -> None:
        pass

    result = run([blob_asset, reader], store_dir, raise_on_error=False)
    error = result.get_step_failure_events()[0].event_specific_data.error.to_string()
    assert "raw bytes" in error and "pandas.DataFrame" in error


def test_op_outputs_without_asset_keys(store_dir: str) -> None:
    @dg.op
    def produce() -> pa.Table:
        return pa.table({"x": [1, 2, 3]})

    @dg.op
    def consume(table: pa.Table) -> int:
        return table.num_rows

    @dg.job(resource_defs={"io_manager": TesseraIOManager(base_dir=store_dir)})
    def pipeline():
        consume(produce())

    result = pipeline.execute_in_process()
    assert result.success and result.output_for_node("consume") == 3
    with td.Store(store_dir) as store:
        stored = [asset for asset in store.list_assets() if asset[0] == "__op_outputs__"]
    assert [asset[-2:] for asset in stored] == [["consume", "result"], ["produce", "result"]]


def test_arrow_backed_pandas_reads_without_a_copy(store_dir: str) -> None:
    days = ["2024-01-01", "2024-01-02"]
    seen: dict[str, Any] = {}

    @dg.asset(partitions_def=DAILY)
    def frame() -> pd.DataFrame:
        return pd.DataFrame({"a": [float(i) for i in range(10_000)]})

    @dg.asset(ins={"frame": dg.AssetIn(partition_mapping=dg.SpecificPartitionsPartitionMapping(days))})
    def reader(frame: LazyPartitions) -> None:
        loaded = frame["2024-01-02"]
        seen["dtype"] = loaded["a"].dtype
        seen["values"] = loaded["a"].tolist()
        address = loaded["a"].array.__arrow_array__().chunks[0].buffers()[1].address
        seen["in_mapping"] = frame.blob("2024-01-02").is_in_mapping(address)

    manager = TesseraIOManager(base_dir=store_dir, arrow_backed_pandas=True)
    for day in days:
        assert dg.materialize([frame], resources={"io_manager": manager}, partition_key=day).success
    assert dg.materialize([frame, reader], resources={"io_manager": manager}, selection=[reader]).success
    assert isinstance(seen["dtype"], pd.ArrowDtype)
    assert seen["values"] == [float(i) for i in range(10_000)]
    assert seen["in_mapping"]


def test_keep_open_holds_the_store_until_released(tmp_path) -> None:
    from tessera_dagster.held import close_held_stores

    store_dir = str(tmp_path / "store")

    @dg.asset
    def kept() -> bytes:
        return b"held"

    @dg.asset
    def reread(kept: bytes) -> bytes:
        return kept + b"!"

    manager = TesseraIOManager(base_dir=store_dir, keep_open=True)
    assert dg.materialize([kept, reread], resources={"io_manager": manager}).success
    with pytest.raises(td.LockedError):
        td.Store(store_dir, lock_timeout=0.3)
    close_held_stores()
    with td.Store(store_dir, lock_timeout=0.3) as store:
        assert store.get(["reread"], None).to_bytes() == b"held!"
